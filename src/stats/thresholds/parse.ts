// Threshold syntax (DESIGN.md §4): `METRIC{tag:value,…}` keys and `AGG OP NUMBER` expressions, checked before any load.
import { didYouMean } from '../../core/did-you-mean.ts';
import { UsageError } from '../../core/errors.ts';
import { parseTimeSpan } from '../../core/parse-values.ts';
import { AGGREGATIONS, K6_NAMES, METRICS, METRIC_NAMES, OPERATORS, TAG_NAMES, type Aggregation, type MetricName, type Operator, type TagName } from './metrics.ts';

/** One threshold, parsed and checked: what to aggregate, how to compare, and whether crossing it stops the run. */
export interface ThresholdSpec {
  /** The key as written (trimmed), tags included: `response_time{name:/login}`. */
  metric: string;
  base: MetricName;
  tags: Partial<Record<TagName, string>>;
  /** The expression as written (trimmed): `p(95)<300`. */
  expression: string;
  aggregation: Aggregation;
  /** For `p(N)`: N in (0, 100]. */
  percentile?: number;
  operator: Operator;
  value: number;
  abortOnFail: boolean;
  /** How long after the run starts an `abortOnFail` threshold may stop it, ms. */
  delayAbortEvalMs: number;
  /** Where it was defined, for messages: `the cicadafile`, `cicada.toml`, `--threshold`. */
  source: string;
}

/** What a threshold's filters are checked against (scenario names are known before the run; request names are not). */
export interface ThresholdRules {
  /** The run's scenario names; empty when it runs Locust's model (then no scenario filter can match). */
  scenarios: readonly string[];
}

const HINT = "e.g. 'response_time{name:/login} p(95)<300', 'fail_ratio value<0.01', 'requests count>1000'";
/** A plain decimal number (`300`, `0.01`, `1e3`): what Number() reads, without hex, Infinity or blanks. */
function isNumber(text: string): boolean {
  return /^[0-9eE.+-]+$/.test(text) && Number.isFinite(Number(text));
}
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT'];

function guess(input: string, candidates: readonly string[]): string {
  const close = didYouMean(input, candidates);
  return close !== undefined ? `did you mean ${close}? ` : '';
}

/** Splits `a:b, c:'d,e'` on the commas outside quotes. */
function splitTags(body: string, where: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const ch of body) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      current += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      current += ch;
    } else if (ch === ',') {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (quote !== undefined) throw new UsageError(`${where}: a quote ${quote} is not closed`, "quote a value with commas in it: {name:'/a,b'}");
  parts.push(current);
  return parts;
}

function unquote(value: string): string {
  const v = value.trim();
  return v.length >= 2 && (v[0] === "'" || v[0] === '"') && v.at(-1) === v[0] ? v.slice(1, -1) : v;
}

/** `response_time{name:/login,method:GET}` → the metric and its tag filter, checked against the metric's tags and the run. */
export function parseThresholdKey(key: string, where: string, rules: ThresholdRules): { metric: string; base: MetricName; tags: Partial<Record<TagName, string>> } {
  const metric = key.trim();
  const open = metric.indexOf('{');
  const name = (open < 0 ? metric : metric.slice(0, open)).trim();
  const body = open < 0 ? undefined : metric.slice(open + 1, -1);
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) || (open >= 0 && !metric.endsWith('}'))) {
    const brace = metric.indexOf('{');
    const why = brace >= 0 && !metric.endsWith('}') ? 'its tag filter is not closed with }' : 'expected METRIC or METRIC{tag:value,…}';
    throw new UsageError(`${where}: '${metric}' is not a threshold metric: ${why}`, `metrics: ${METRIC_NAMES.join(', ')}`);
  }
  if (!(METRIC_NAMES as readonly string[]).includes(name)) {
    const k6 = K6_NAMES[name];
    const hint = k6 !== undefined ? `that is k6's name; Cicada's is ${k6}. ` : guess(name, METRIC_NAMES);
    throw new UsageError(`${where}: unknown metric '${name}'`, `${hint}metrics: ${METRIC_NAMES.join(', ')}`);
  }
  const base = name as MetricName;
  const allowed = METRICS[base].tags;
  const tags: Partial<Record<TagName, string>> = {};
  if (body !== undefined) {
    if (body.trim() === '') throw new UsageError(`${where}: '${metric}' has an empty tag filter {}`, `drop the braces, or filter on ${allowed.join(', ')}: ${base}{${allowed[0]}:…}`);
    for (const part of splitTags(body, where)) {
      const colon = part.indexOf(':');
      if (colon < 0) throw new UsageError(`${where}: '${part.trim()}' in ${metric} is not tag:value`, `e.g. ${base}{${allowed[0]}:${allowed[0] === 'scenario' ? 'browse' : '/login'}}`);
      const tag = part.slice(0, colon).trim();
      const value = unquote(part.slice(colon + 1));
      if (!(TAG_NAMES as readonly string[]).includes(tag)) {
        throw new UsageError(`${where}: unknown tag '${tag}' in ${metric}`, `${guess(tag, TAG_NAMES)}${base} can be filtered on ${allowed.join(', ')}`);
      }
      if (!(allowed as readonly string[]).includes(tag)) {
        throw new UsageError(`${where}: ${base} has no tag '${tag}'`, `${base} can be filtered on ${allowed.join(', ')}`);
      }
      if (value === '') throw new UsageError(`${where}: the tag '${tag}' in ${metric} has no value`, `e.g. ${base}{${tag}:…}`);
      if (tags[tag as TagName] !== undefined) throw new UsageError(`${where}: the tag '${tag}' appears twice in ${metric}`, 'a filter matches one value per tag: write two thresholds for two values');
      tags[tag as TagName] = value;
    }
  }
  checkCanMatch(tags, where, metric, rules);
  return { metric, base, tags };
}

/** A filter that no request of this run could ever carry is an error (names are dynamic, so only scenarios and methods are checked). */
function checkCanMatch(tags: Partial<Record<TagName, string>>, where: string, metric: string, rules: ThresholdRules): void {
  const scenario = tags.scenario;
  if (scenario !== undefined && !rules.scenarios.includes(scenario)) {
    throw new UsageError(
      `${where}: ${metric} can never match: ${rules.scenarios.length === 0 ? 'this run has no scenarios' : `no scenario is named '${scenario}'`}`,
      rules.scenarios.length === 0
        ? 'define scenarios (export const scenarios, or [scenarios.NAME] in cicada.toml), or drop the scenario filter'
        : `${guess(scenario, rules.scenarios)}scenarios: ${rules.scenarios.join(', ')}`,
    );
  }
  const method = tags.method;
  if (method !== undefined && method !== method.toUpperCase() && HTTP_METHODS.includes(method.toUpperCase())) {
    throw new UsageError(`${where}: ${metric} can never match: methods are recorded in upper case`, `write method:${method.toUpperCase()}`);
  }
}

/** The aggregation word of an expression and what its brackets hold (`p(95)` → p, '95'); undefined when it starts with no word. */
function expressionHead(expression: string): { word: string; inside: string | undefined; length: number } | undefined {
  const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(expression)?.[0];
  if (word === undefined) return undefined;
  const after = expression.slice(word.length);
  const open = after.length - after.trimStart().length;
  if (after[open] !== '(') return { word, inside: undefined, length: word.length };
  const close = after.indexOf(')', open);
  if (close < 0) return { word, inside: after.slice(open + 1), length: expression.length };
  return { word, inside: after.slice(open + 1, close), length: word.length + close + 1 };
}

/** `p(95)<300` → aggregation, percentile, operator and number, checked against what the metric has. */
export function parseExpression(text: string, base: MetricName, where: string): Pick<ThresholdSpec, 'expression' | 'aggregation' | 'percentile' | 'operator' | 'value'> {
  const expression = text.trim();
  const aggregations = METRICS[base].aggregations;
  const shown = aggregations.map((a) => (a === 'p' ? 'p(N)' : a)).join(', ');
  const head = expressionHead(expression);
  if (head === undefined) throw new UsageError(`${where}: '${expression}' is not a threshold expression`, `expected AGGREGATION OPERATOR NUMBER with ${base}'s aggregations ${shown}; ${HINT}`);
  const word = head.word;
  if (!(AGGREGATIONS as readonly string[]).includes(word)) {
    const known = AGGREGATIONS.filter((a) => a !== 'p');
    throw new UsageError(`${where}: unknown aggregation '${word}' in '${expression}'`, `${guess(word, [...aggregations.filter((a) => a !== 'p'), ...known])}${base} has ${shown}`);
  }
  const aggregation = word as Aggregation;
  if (!aggregations.includes(aggregation)) {
    throw new UsageError(`${where}: ${base} has no ${aggregation === 'p' ? 'percentiles' : `'${aggregation}'`} ('${expression}')`, `${base} (${METRICS[base].what}) has ${shown}`);
  }
  let percentile: number | undefined;
  if (aggregation === 'p') {
    const inside = head.inside;
    if (inside === undefined) throw new UsageError(`${where}: '${expression}': p needs a percentile in brackets`, 'e.g. p(95)<300 or p(99.9)<1000');
    if (!isNumber(inside.trim())) throw new UsageError(`${where}: '${expression}': '${inside.trim()}' is not a percentile`, 'a number above 0 and at most 100, e.g. p(95)');
    percentile = Number(inside.trim());
    if (!(percentile > 0 && percentile <= 100)) throw new UsageError(`${where}: '${expression}': p(${inside.trim()}) is out of range`, 'a percentile is above 0 and at most 100, e.g. p(99) or p(99.9)');
  } else if (head.inside !== undefined) {
    throw new UsageError(`${where}: '${expression}': only p(N) takes brackets`, `write ${aggregation}<… without (…)`);
  }
  const rest = expression.slice(head.length).trim();
  const operator = OPERATORS.find((op) => rest.startsWith(op));
  if (operator === undefined) {
    const hint = rest.startsWith('=') ? 'compare with == (or <=, >=)' : 'operators: < <= > >= == !=';
    throw new UsageError(`${where}: '${expression}' has no comparison after ${aggregation === 'p' ? `p(${percentile})` : aggregation}`, `${hint}; ${HINT}`);
  }
  const number = rest.slice(operator.length).trim();
  if (!isNumber(number)) {
    throw new UsageError(`${where}: '${expression}': '${number}' is not a number`, aggregation === 'count' ? 'e.g. count>1000' : base === 'response_time' ? 'milliseconds, without a unit: p(95)<300' : 'a plain number, e.g. 0.01');
  }
  return { expression, aggregation, ...(percentile !== undefined ? { percentile } : {}), operator, value: Number(number) };
}

/** One threshold from a key and an expression, with its abort settings. */
export function parseThreshold(
  key: string,
  expression: string,
  options: { abortOnFail?: boolean; delayAbortEvalMs?: number; source: string },
  rules: ThresholdRules,
): ThresholdSpec {
  const where = `threshold ${key.trim()} (${options.source})`;
  const { metric, base, tags } = parseThresholdKey(key, where, rules);
  return { metric, base, tags, ...parseExpression(expression, base, where), abortOnFail: options.abortOnFail ?? false, delayAbortEvalMs: options.delayAbortEvalMs ?? 0, source: options.source };
}

/** `{ threshold, abortOnFail, delayAbortEval }` or a plain string, as k6 accepts them. */
function readOne(key: string, item: unknown, source: string, rules: ThresholdRules): ThresholdSpec {
  if (typeof item === 'string') return parseThreshold(key, item, { source }, rules);
  const where = `threshold ${key} (${source})`;
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw new UsageError(`${where}: expected an expression string or { threshold, abortOnFail, delayAbortEval }, got ${JSON.stringify(item) ?? String(item)}`, HINT);
  }
  const fields = item as Record<string, unknown>;
  for (const field of Object.keys(fields)) {
    if (!['threshold', 'abortOnFail', 'delayAbortEval'].includes(field)) {
      throw new UsageError(`${where}: unknown field '${field}'`, `${guess(field, ['threshold', 'abortOnFail', 'delayAbortEval'])}fields: threshold, abortOnFail, delayAbortEval`);
    }
  }
  if (typeof fields.threshold !== 'string') throw new UsageError(`${where}: 'threshold' must be the expression string`, "e.g. { threshold: 'p(95)<300', abortOnFail: true }");
  if (fields.abortOnFail !== undefined && typeof fields.abortOnFail !== 'boolean') throw new UsageError(`${where}: abortOnFail must be true or false`);
  let delayAbortEvalMs = 0;
  if (fields.delayAbortEval !== undefined) {
    if (typeof fields.delayAbortEval !== 'string' && typeof fields.delayAbortEval !== 'number') throw new UsageError(`${where}: delayAbortEval must be a time span`, "e.g. delayAbortEval: '10s'");
    delayAbortEvalMs = parseTimeSpan(String(fields.delayAbortEval), `${where}: delayAbortEval`) * 1000;
  }
  return parseThreshold(key, fields.threshold, { abortOnFail: fields.abortOnFail === true, delayAbortEvalMs, source }, rules);
}

/** `export const thresholds` or a `[thresholds]` table: `{ METRIC: EXPR | [EXPR | { threshold, … }, …] }`. */
export function readThresholds(raw: unknown, source: string, rules: ThresholdRules): ThresholdSpec[] {
  if (raw === undefined) return [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UsageError(`${source}: thresholds must be an object of metric → expressions`, "e.g. { response_time: ['p(95)<300'], fail_ratio: ['value<0.01'] }");
  }
  const out: ThresholdSpec[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const items: unknown[] = Array.isArray(value) ? value : [value];
    if (items.length === 0) throw new UsageError(`threshold ${key} (${source}): no expression`, `give at least one, e.g. ${key}: ['p(95)<300'] or drop the key`);
    for (const item of items) out.push(readOne(key, item, source, rules));
  }
  return out;
}

/**
 * One `--threshold` (or CICADA_THRESHOLD) value: `METRIC{tags} EXPR`, optionally followed by `abortOnFail`
 * and `delayAbortEval=10s`. The metric ends at its closing brace, or at the first space.
 */
export function parseThresholdFlag(text: string, source = '--threshold', rules: ThresholdRules): ThresholdSpec {
  const trimmed = text.trim();
  let keyEnd: number;
  const brace = trimmed.indexOf('{');
  const space = trimmed.search(/\s/);
  if (brace >= 0 && (space < 0 || brace < space)) {
    const close = trimmed.indexOf('}', brace);
    if (close < 0) throw new UsageError(`${source} '${trimmed}': the tag filter is not closed with }`, `e.g. --threshold 'response_time{name:/login} p(95)<300'`);
    keyEnd = close + 1;
  } else {
    keyEnd = space < 0 ? trimmed.search(/[<>=!]|$/) : space;
  }
  const key = trimmed.slice(0, keyEnd);
  let rest = trimmed.slice(keyEnd).trim();
  let abortOnFail = false;
  let delayAbortEvalMs = 0;
  for (;;) {
    const m = /\s+(abortOnFail|delayAbortEval=(\S+))\s*$/i.exec(` ${rest}`);
    if (m === null) break;
    if (m[2] !== undefined) delayAbortEvalMs = parseTimeSpan(m[2], `${source} '${trimmed}': delayAbortEval`) * 1000;
    else abortOnFail = true;
    rest = ` ${rest}`.slice(0, m.index).trim();
  }
  if (rest === '') throw new UsageError(`${source} '${trimmed}': no expression after the metric`, `e.g. --threshold '${key || 'response_time'} p(95)<300'`);
  return parseThreshold(key, rest, { abortOnFail, delayAbortEvalMs, source }, rules);
}
