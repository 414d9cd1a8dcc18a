// Thresholds and checks in the console: the blocks of the end-of-run summary and the live view's one-liners.
import type { CheckSnapshot, ThresholdResult } from '../stats/types.ts';
import { checkGroups, checkTotals, passRatio } from './check-groups.ts';
import { nameWidthOf, painter, type TableOptions } from './console-tables.ts';
import { formatObserved, formatRatio, sanitizeForTerminal, truncate } from './format.ts';
import type { ReportData } from './report-data.ts';

/** Metrics carry their tags (`response_time{name:/items/[id]}`): 20 more characters than a bare request name. */
const METRIC_EXTRA_WIDTH = 20;
/** A thrown check's message is one line of the summary, not a stack trace. */
const MAX_ERROR_WIDTH = 200;
const PASS = '✓';
const FAIL = '✗';

/** User text made safe for a terminal line and cut to `width`. */
function clean(text: string, width: number): string {
  return truncate(sanitizeForTerminal(text), width);
}

function widest(texts: readonly string[]): number {
  return texts.reduce((w, t) => Math.max(w, t.length), 0);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * One line per threshold: mark, metric, expression, observed value and unit, `(abort on fail)` where it
 * stops the run; then `N of M thresholds failed` when any did. '' when the run has no thresholds.
 */
export function thresholdsBlock(data: ReportData, options: TableOptions = {}): string {
  const thresholds = data.thresholds ?? [];
  if (thresholds.length === 0) return '';
  const c = painter(options.color);
  const maxMetric = nameWidthOf(options) + METRIC_EXTRA_WIDTH;
  const rows = thresholds.map((t) => ({
    t,
    metric: clean(t.metric, maxMetric),
    expression: clean(t.expression, maxMetric),
    observed: formatObserved(t.observed, t.unit),
  }));
  const metricWidth = widest(rows.map((r) => r.metric));
  const expressionWidth = widest(rows.map((r) => r.expression));
  const observedWidth = widest(rows.map((r) => r.observed));
  const lines = ['Thresholds'];
  for (const { t, metric, expression, observed } of rows) {
    // Pad first, paint after: escape codes must not count towards column widths.
    const value = observed.padStart(observedWidth);
    const text = `${metric.padEnd(metricWidth)}  ${expression.padEnd(expressionWidth)}  `;
    const abort = t.abortOnFail ? '  (abort on fail)' : '';
    if (!t.ok) lines.push(c.red(`${FAIL} ${text}${value}${abort}`));
    else lines.push(`${c.green(PASS)} ${text}${t.observed === null ? c.dim(value) : value}${abort === '' ? '' : c.yellow(abort)}`);
  }
  const failed = thresholds.filter((t) => !t.ok).length;
  if (failed > 0) lines.push(c.bold(c.red(`${failed} of ${plural(thresholds.length, 'threshold')} failed`)));
  return lines.join('\n');
}

/**
 * One line per check name (summed over request names): mark, passed/total, pass percentage; a line per
 * request name under it when there are several; the last error of a check that threw. '' without checks.
 */
export function checksBlock(data: ReportData, options: TableOptions = {}): string {
  const checks = data.snapshot.checks ?? [];
  if (checks.length === 0) return '';
  const c = painter(options.color);
  const maxLabel = nameWidthOf(options);
  const groups = checkGroups(checks).map((g) => ({
    g,
    label: clean(g.name, maxLabel),
    // Split lines sit two characters further in than the name, under it.
    split: g.requests.length > 1 ? g.requests.map((r) => ({ r, label: clean(r.request === '' ? '(no request name)' : r.request, maxLabel - 2) })) : [],
  }));
  const counts = (passes: number, fails: number): [string, string] => [`${passes}/${passes + fails}`, formatRatio(passRatio(passes, passes + fails))];
  const labelWidth = Math.max(widest(groups.map((x) => x.label)), ...groups.flatMap((x) => x.split.map((s) => s.label.length + 2)));
  const all = groups.flatMap((x) => [counts(x.g.passes, x.g.fails), ...x.split.map((s) => counts(s.r.passes, s.r.fails))]);
  const countWidth = widest(all.map(([n]) => n));
  const percentWidth = widest(all.map(([, p]) => p));
  const columns = (passes: number, fails: number): string => {
    const [n, p] = counts(passes, fails);
    return `${n.padStart(countWidth)}  ${p.padStart(percentWidth)}`;
  };
  const lastError = (check: CheckSnapshot, indent: string): string[] =>
    check.lastError === undefined ? [] : [c.red(`${indent}last error: ${clean(check.lastError, MAX_ERROR_WIDTH)}`)];

  const lines = ['Checks (passed/total)'];
  for (const { g, label, split } of groups) {
    const text = `${label.padEnd(labelWidth)}  ${columns(g.passes, g.fails)}`;
    lines.push(g.fails > 0 ? c.red(`${FAIL} ${text}`) : `${c.green(PASS)} ${text}`);
    if (split.length === 0) {
      const only = g.requests[0];
      if (only !== undefined) lines.push(...lastError(only, '    '));
      continue;
    }
    for (const { r, label: request } of split) {
      const line = `    ${request.padEnd(labelWidth - 2)}  ${columns(r.passes, r.fails)}`;
      lines.push(r.fails > 0 ? c.red(line) : line);
      lines.push(...lastError(r, '      '));
    }
  }
  return lines.join('\n');
}

/** `thresholds: 3 passing, 1 failing (METRIC EXPR: VALUE, +N more)`: the first failing one, so the cause is on screen. */
function liveThresholds(thresholds: readonly ThresholdResult[], options: TableOptions): string {
  const c = painter(options.color);
  const failing = thresholds.filter((t) => !t.ok);
  const passing = `thresholds: ${thresholds.length - failing.length} passing`;
  const first = failing[0];
  if (first === undefined) return passing;
  const width = nameWidthOf(options) + METRIC_EXTRA_WIDTH;
  const more = failing.length > 1 ? `, +${failing.length - 1} more` : '';
  const cause = `${clean(first.metric, width)} ${clean(first.expression, width)}: ${formatObserved(first.observed, first.unit)}${more}`;
  return `${passing}, ${c.red(`${failing.length} failing (${cause})`)}`;
}

/** The lines the live view adds under its table: thresholds and checks, each only when the run has them ('' when neither). */
export function liveGates(data: ReportData, options: TableOptions = {}): string {
  const c = painter(options.color);
  const lines: string[] = [];
  if ((data.thresholds ?? []).length > 0) lines.push(liveThresholds(data.thresholds ?? [], options));
  const checks = data.snapshot.checks ?? [];
  if (checks.length > 0) {
    const { passes, total } = checkTotals(checks);
    const text = `checks: ${formatRatio(passRatio(passes, total))} of ${total} passed`;
    lines.push(passes < total ? c.yellow(text) : text);
  }
  return lines.map((l) => `${l}\n`).join('');
}
