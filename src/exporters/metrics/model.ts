// The metrics every exporter sends (DESIGN.md §4 names): one pure view of a report, shared by Prometheus, OTLP and Graphite.
import { redact } from '../../core/secrets.ts';
import { bucketValue } from '../../stats/histogram.ts';
import { splitScenarioName } from '../../stats/thresholds/evaluate.ts';
import type { EntrySnapshot } from '../../stats/types.ts';
import type { ReportData } from '../report-data.ts';

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels: Labels;
  value: number;
}

/** One histogram series: cumulative counts per upper bound (`le`, in the family's unit), then +Inf = count. */
export interface HistogramSample {
  labels: Labels;
  /** Aligned with the family's `bounds`: how many observations were ≤ each bound. */
  cumulative: number[];
  sum: number;
  count: number;
}

interface FamilyBase {
  /** Prometheus-style name, e.g. `cicada_requests_total`. */
  name: string;
  help: string;
  /** `seconds`, `bytes` or '' (a count). */
  unit: 'seconds' | 'bytes' | '';
}

export type MetricFamily =
  | (FamilyBase & { type: 'counter' | 'gauge'; samples: Sample[] })
  | (FamilyBase & { type: 'histogram'; bounds: readonly number[]; samples: HistogramSample[] });

/**
 * Histogram bounds in seconds: 1 ms × 1.19^k (3 significant digits) up to 60 s — neighbours at most 20 %
 * apart, so a quantile estimated inside one bucket is within 10 % of the truth — with 0.1, 0.25 and
 * 0.5 ms below for loopback-fast services: 68 buckets.
 */
export const RESPONSE_TIME_BOUNDS: readonly number[] = (() => {
  const out = [0.0001, 0.00025, 0.0005];
  for (let k = 0; ; k++) {
    const v = Number((0.001 * 1.19 ** k).toPrecision(3));
    if (v >= 60) break;
    out.push(v);
  }
  out.push(60);
  return out;
})();

/** What the report does not hold: how many workers are connected. */
export interface MetricsContext {
  /** Connected workers (0 in a local run). */
  workers: number;
}

/**
 * The run's identity in every series: the statistics' start (epoch ms). A reset starts a new run_id, so
 * counters never go down within one label set, as Prometheus' `rate()` needs.
 */
export function runIdOf(data: ReportData): string {
  return String(Math.round(data.snapshot.startTime * 1000));
}

function requestLabels(e: EntrySnapshot, runId: string, scenarios: readonly string[], tagged: boolean): Labels {
  const { name, scenario } = splitScenarioName(e.name, { scenarios, scenarioTagged: tagged });
  return { method: e.method, name, scenario: scenario ?? '', run_id: runId };
}

/** Cumulative counts of an entry's response times (ms histogram) at `bounds` (seconds). */
function cumulativeAt(e: EntrySnapshot, bounds: readonly number[]): number[] {
  const perBound = new Array<number>(bounds.length).fill(0);
  e.histogram.indices.forEach((index, i) => {
    const seconds = bucketValue(index) / 1000;
    const at = bounds.findIndex((b) => seconds <= b);
    if (at >= 0) perBound[at] = (perBound[at] ?? 0) + (e.histogram.counts[i] ?? 0);
  });
  let running = 0;
  return perBound.map((n) => (running += n));
}

/** Every metric family of a report, in DESIGN.md §4's names; the same data gives the same families. */
export function metricFamilies(data: ReportData, context: MetricsContext): MetricFamily[] {
  const runId = runIdOf(data);
  const run = { run_id: runId };
  const scenarioNames = (data.meta.scenarios ?? []).map((s) => s.name);
  const tagged = scenarioNames.length > 1;
  const entries = data.snapshot.entries.filter((e) => e.numRequests > 0 || e.numFailures > 0);
  // Label values are where a request or check name (a path with a token in it) leaves the process, for every exporter: masked here.
  const labelsOf = entries.map((e) => {
    const labels = requestLabels(e, runId, scenarioNames, tagged);
    return { ...labels, name: redact(labels.name ?? '') };
  });
  const scenarios = data.snapshot.scenarios ?? [];
  const checks = new Map<string, { pass: number; fail: number }>();
  for (const c of data.snapshot.checks ?? []) {
    const held = checks.get(c.name) ?? { pass: 0, fail: 0 };
    held.pass += c.passes;
    held.fail += c.fails;
    checks.set(c.name, held);
  }
  return [
    { name: 'cicada_requests_total', help: 'Requests completed, failed or not.', type: 'counter', unit: '', samples: entries.map((e, i) => ({ labels: labelsOf[i]!, value: e.numRequests })) },
    { name: 'cicada_request_failures_total', help: 'Requests that failed.', type: 'counter', unit: '', samples: entries.map((e, i) => ({ labels: labelsOf[i]!, value: e.numFailures })) },
    {
      name: 'cicada_response_time_seconds', help: 'Response times, from send to the end of the body.', type: 'histogram', unit: 'seconds', bounds: RESPONSE_TIME_BOUNDS,
      samples: entries.filter((e) => e.numRequests > 0).map((e) => ({
        labels: labelsOf[entries.indexOf(e)]!, cumulative: cumulativeAt(e, RESPONSE_TIME_BOUNDS), sum: e.totalResponseTime / 1000, count: e.numRequests,
      })),
    },
    { name: 'cicada_response_size_bytes_total', help: 'Response body bytes received.', type: 'counter', unit: 'bytes', samples: entries.map((e, i) => ({ labels: labelsOf[i]!, value: e.totalContentLength })) },
    { name: 'cicada_users', help: 'Users running now.', type: 'gauge', unit: '', samples: [{ labels: run, value: data.meta.userCount }] },
    { name: 'cicada_workers', help: 'Workers connected to the master (0 in a local run).', type: 'gauge', unit: '', samples: [{ labels: run, value: context.workers }] },
    { name: 'cicada_iterations_total', help: 'Iterations of arrival-rate and iteration-count scenarios that ran.', type: 'counter', unit: '', samples: scenarios.map((s) => ({ labels: { scenario: s.name, run_id: runId }, value: s.iterations })) },
    { name: 'cicada_dropped_iterations_total', help: 'Iterations the open model could not start (no user free, the pool full).', type: 'counter', unit: '', samples: scenarios.map((s) => ({ labels: { scenario: s.name, run_id: runId }, value: s.dropped })) },
    {
      name: 'cicada_checks_total', help: 'check() results, by check name and result (pass or fail).', type: 'counter', unit: '',
      samples: [...checks].flatMap(([name, n]) => {
        const check = redact(name);
        return [{ labels: { check, result: 'pass', run_id: runId }, value: n.pass }, { labels: { check, result: 'fail', run_id: runId }, value: n.fail }];
      }),
    },
    {
      name: 'cicada_threshold_passed', help: '1 while a threshold holds, 0 once it failed.', type: 'gauge', unit: '',
      samples: (data.thresholds ?? []).map((t) => ({ labels: { threshold: redact(`${t.metric} ${t.expression}`), run_id: runId }, value: t.ok ? 1 : 0 })),
    },
  ];
}
