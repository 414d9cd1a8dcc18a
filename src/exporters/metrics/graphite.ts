// Graphite's plaintext protocol (`path value timestamp\n`): the run's metrics as dotted paths, sanitised, counters kept monotonic.
import { redact } from '../../core/secrets.ts';
import { createHash } from 'node:crypto';
import { splitScenarioName } from '../../stats/thresholds/evaluate.ts';
import { PERCENTILES_TO_REPORT, type EntrySnapshot, type EntryView } from '../../stats/types.ts';
import type { ReportData } from '../report-data.ts';
import { metricFamilies, runIdOf, type Labels, type MetricsContext } from './model.ts';

/*
 * The path scheme (docs/graphite.md). Graphite has no labels, so every label is a path component at a
 * fixed position (wildcards select by position), and the leaf says what the value is:
 *
 *   <prefix>.requests.<scenario>.<method>.<name>.count             requests, cumulative
 *   <prefix>.requests.<scenario>.<method>.<name>.failures          failed requests, cumulative
 *   <prefix>.requests.<scenario>.<method>.<name>.response_bytes    body bytes received, cumulative
 *   <prefix>.requests.<scenario>.<method>.<name>.response_time_ms.sum            cumulative
 *   <prefix>.requests.<scenario>.<method>.<name>.response_time_ms.{p50,p90,p95,p99,max}  since the start
 *   <prefix>.total.{count,failures,response_bytes,response_time_ms.*}   the Aggregated row
 *   <prefix>.users   <prefix>.workers
 *   <prefix>.scenarios.<scenario>.{iterations,dropped_iterations}
 *   <prefix>.checks.<check>.{passes,fails}
 *   <prefix>.thresholds.<metric and expression>.passed             1 or 0
 *
 * `<scenario>` is `default` when the run has no named scenario. Response times are in ms (the unit of the
 * console and reports, and of statsd timers, which Graphite dashboards expect); the percentiles are the
 * report's own (to the µs), which Graphite could not derive from buckets. The histogram's count is `.count`.
 *
 * run_id is NOT a path component: a path is a series, and a new series per run (or per reset) would
 * leave dashboards and alerts pointing at yesterday's paths and create a whisper file per metric per run
 * (carbon's MAX_CREATES_PER_MINUTE throttles that). Within a run, a reset would make a cumulative
 * counter go down, so counters carry their value from before the reset (GraphiteEncoder); between runs
 * they restart from 0, a counter reset that nonNegativeDerivative() and perSecond() already skip. To
 * keep runs apart, give each its own `--graphite-prefix`.
 */

/** Longest path component, in characters: a whisper file is `<component>.wsp`, under 255 bytes. */
export const MAX_COMPONENT = 128;

/** The component at the scenario position when the run has no named scenario (k6's name for it). */
const NO_SCENARIO = 'default';

/** The exact percentiles sent: leaf name, position in an EntryView's `percentiles`; `max` is the exact maximum instead. */
const PERCENTILE_LEAVES = ([['p50', 0.5], ['p90', 0.9], ['p95', 0.95], ['p99', 0.99]] as const).map(
  ([leaf, q]) => [leaf, (PERCENTILES_TO_REPORT as readonly number[]).indexOf(q)] as const,
);

function hash8(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * One path component under Graphite's rules: only ASCII letters, digits, `_` and `-` survive (a dot
 * would add a level, whitespace or a newline would end the line, `* ? [ ] { } ,` are query globs, `;` and
 * `=` start tags); anything else becomes `_`, repeats collapse, `_` is trimmed at both ends, never empty,
 * and at most MAX_COMPONENT characters (a longer one keeps its start and gains a hash of the whole, so
 * two long names stay apart).
 */
export function sanitizeComponent(raw: string): string {
  const clean = raw.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/_+/g, '_').replace(/^_|_$/g, '') || '_';
  return clean.length <= MAX_COMPONENT ? clean : `${clean.slice(0, MAX_COMPONENT - 9)}_${hash8(raw)}`;
}

/** `--graphite-prefix`: its dots are levels; each part sanitised, empty parts (`a..b`, a trailing dot) dropped. */
export function sanitizePrefix(prefix: string): string {
  const parts = prefix.split('.').filter((p) => p.trim() !== '').map(sanitizeComponent);
  return parts.length > 0 ? parts.join('.') : 'cicada';
}

/** One value before sanitising: `series` names what is measured (user text), `leaf` what the value is (fixed words). */
export interface GraphiteSample {
  series: readonly string[];
  leaf: readonly string[];
  value: number;
  /** Counters are cumulative and carried across a reset; gauges are sent as they are. */
  kind: 'counter' | 'gauge';
}

function scenarioOf(labels: Labels): string {
  return labels.scenario === undefined || labels.scenario === '' ? NO_SCENARIO : labels.scenario;
}

function requestSeries(labels: Labels): string[] {
  return ['requests', scenarioOf(labels), labels.method ?? '', labels.name ?? ''];
}

/** `p(95)<300` → `p(95) lt 300`: the operator survives sanitising, so `<` and `>` thresholds stay apart. */
function thresholdWords(text: string): string {
  const words: Record<string, string> = { '<=': ' le ', '>=': ' ge ', '==': ' eq ', '!=': ' ne ', '<': ' lt ', '>': ' gt ' };
  return text.replace(/<=|>=|==|!=|<|>/g, (op) => words[op] ?? op);
}

/** Where each family of the shared model goes: the series (from its labels) and the leaf. */
type Place = (labels: Labels) => { series: string[]; leaf: string[] };

const FAMILY_PLACES: Readonly<Record<string, Place>> = {
  cicada_requests_total: (l) => ({ series: requestSeries(l), leaf: ['count'] }),
  cicada_request_failures_total: (l) => ({ series: requestSeries(l), leaf: ['failures'] }),
  cicada_response_size_bytes_total: (l) => ({ series: requestSeries(l), leaf: ['response_bytes'] }),
  // Only the histogram's sum (sent in ms): its count is `.count`, and the percentiles come exact from the views.
  cicada_response_time_seconds: (l) => ({ series: requestSeries(l), leaf: ['response_time_ms', 'sum'] }),
  cicada_users: () => ({ series: [], leaf: ['users'] }),
  cicada_workers: () => ({ series: [], leaf: ['workers'] }),
  cicada_iterations_total: (l) => ({ series: ['scenarios', scenarioOf(l)], leaf: ['iterations'] }),
  cicada_dropped_iterations_total: (l) => ({ series: ['scenarios', scenarioOf(l)], leaf: ['dropped_iterations'] }),
  cicada_checks_total: (l) => ({ series: ['checks', l.check ?? ''], leaf: [l.result === 'pass' ? 'passes' : 'fails'] }),
  cicada_threshold_passed: (l) => ({ series: ['thresholds', thresholdWords(l.threshold ?? '')], leaf: ['passed'] }),
};

/** The model's families Graphite sends; one added to the model later gets no path until it is placed here (a test checks). */
export const GRAPHITE_FAMILIES: readonly string[] = Object.keys(FAMILY_PLACES);

/** The report's counters and gauges (the shared model's families), as series and leaves. */
function familySamples(data: ReportData, context: MetricsContext): GraphiteSample[] {
  const out: GraphiteSample[] = [];
  for (const family of metricFamilies(data, context)) {
    const place = FAMILY_PLACES[family.name];
    if (place === undefined) continue;
    if (family.type === 'histogram') {
      for (const s of family.samples) out.push({ ...place(s.labels), value: s.sum * 1000, kind: 'counter' });
    } else {
      for (const s of family.samples) out.push({ ...place(s.labels), value: s.value, kind: family.type });
    }
  }
  return out;
}

/** The exact response-time percentiles and maximum of one view, ms. */
function percentileSamples(series: string[], view: EntryView): GraphiteSample[] {
  if (view.numRequests === 0) return [];
  const out: GraphiteSample[] = [];
  for (const [leaf, at] of PERCENTILE_LEAVES) {
    const value = view.percentiles[at];
    if (value !== null && value !== undefined) out.push({ series, leaf: ['response_time_ms', leaf], value, kind: 'gauge' });
  }
  out.push({ series, leaf: ['response_time_ms', 'max'], value: view.maxResponseTime, kind: 'gauge' });
  return out;
}

function totalSamples(total: EntrySnapshot, view: EntryView): GraphiteSample[] {
  const series = ['total'];
  return [
    { series, leaf: ['count'], value: total.numRequests, kind: 'counter' },
    { series, leaf: ['failures'], value: total.numFailures, kind: 'counter' },
    { series, leaf: ['response_bytes'], value: total.totalContentLength, kind: 'counter' },
    { series, leaf: ['response_time_ms', 'sum'], value: total.totalResponseTime, kind: 'counter' },
    ...percentileSamples(series, view),
  ];
}

/** Every value of a report, before sanitising: the same data gives the same samples. */
function graphiteSamples(data: ReportData, context: MetricsContext): GraphiteSample[] {
  const scenarios = (data.meta.scenarios ?? []).map((s) => s.name);
  const scope = { scenarios, scenarioTagged: scenarios.length > 1 };
  const views = data.entries.flatMap((view) => {
    const { name, scenario } = splitScenarioName(view.name, scope);
    // Masked before sanitising: a sanitised secret could no longer be found (the model masks its own labels).
    return percentileSamples(requestSeries({ method: redact(view.method), name: redact(name), scenario: scenario ?? '' }), view);
  });
  return [...familySamples(data, context), ...views, ...(data.snapshot.total.numRequests > 0 ? totalSamples(data.snapshot.total, data.total) : [])];
}

/** A number as Graphite reads it (Python's float()), to 0.001 (a µs in ms); NaN and infinities are not sent. */
function formatValue(value: number): string | undefined {
  if (!Number.isFinite(value)) return undefined;
  return String(Number.isInteger(value) ? value : Number(value.toFixed(3)));
}

/**
 * Turns reports into plaintext lines, holding what must last across them: the path given to each series
 * (two names that sanitise alike, `/a.b` and `/a/b`, would overwrite each other's points, so the second
 * gets a hash of its raw name) and the counters' carry across a reset of the statistics.
 * @example
 * ```ts
 * const encoder = new GraphiteEncoder('cicada');
 * socket.write(encoder.lines(data, { workers: 0 }, Date.now()).join(''));
 * ```
 */
export class GraphiteEncoder {
  private readonly prefix: string;
  private readonly paths = new Map<string, string>();
  private readonly claimed = new Set<string>();
  private runId: string | undefined;
  /** Per counter path: the value sent last, and what it carries from before the latest reset. */
  private readonly lastCounter = new Map<string, number>();
  private readonly carried = new Map<string, number>();

  constructor(prefix: string) {
    this.prefix = sanitizePrefix(prefix);
  }

  /** The dotted path of one series (stable for this encoder's life) plus its leaf. */
  pathOf(series: readonly string[], leaf: readonly string[]): string {
    const key = series.join('\0');
    let path = this.paths.get(key);
    if (path === undefined) {
      const parts = series.map(sanitizeComponent);
      path = [this.prefix, ...parts].join('.');
      if (this.claimed.has(path) && parts.length > 0) {
        parts[parts.length - 1] = `${parts[parts.length - 1]!.slice(0, MAX_COMPONENT - 9)}_${hash8(key)}`;
        path = [this.prefix, ...parts].join('.');
      }
      this.claimed.add(path);
      this.paths.set(key, path);
    }
    return [path, ...leaf.map(sanitizeComponent)].join('.');
  }

  /** The report's lines, each `path value timestamp\n` (`nowMs` in epoch ms, sent as whole seconds). */
  lines(data: ReportData, context: MetricsContext, nowMs: number): string[] {
    const runId = runIdOf(data);
    if (this.runId !== undefined && runId !== this.runId) {
      // A reset: every counter goes on from where it was, so Graphite never sees it go down.
      for (const [path, value] of this.lastCounter) this.carried.set(path, value);
    }
    this.runId = runId;
    const timestamp = Math.floor(nowMs / 1000);
    const out: string[] = [];
    for (const sample of graphiteSamples(data, context)) {
      const path = this.pathOf(sample.series, sample.leaf);
      let value = sample.value;
      if (sample.kind === 'counter') {
        value += this.carried.get(path) ?? 0;
        this.lastCounter.set(path, value);
      }
      const text = formatValue(value);
      if (text !== undefined) out.push(`${path} ${text} ${timestamp}\n`);
    }
    return out;
  }
}
