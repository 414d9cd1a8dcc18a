// The JSON of GET /stats/thresholds and GET /stats/checks (and the same fields on /stream): snake_case views of a report's gates.
import type { ReportData } from '../exporters/report-data.ts';
import type { CheckSnapshot, ThresholdResult } from '../stats/types.ts';

export interface ThresholdJson {
  /** As written, tags included: `response_time{name:/login}`. */
  metric: string;
  /** As written: `p(95)<300`. */
  expression: string;
  ok: boolean;
  /** In `unit`; null while there is no data (the threshold then passes, as in k6). */
  observed: number | null;
  unit: ThresholdResult['unit'];
  /** The metric's tag filter (`name`, `method`, `scenario`, `check`), so a view can link to its rows. */
  tags: Record<string, string>;
  abort_on_fail: boolean;
}

export interface ThresholdsJson {
  /** In the order the run declares them; `[]` when it has none. */
  thresholds: ThresholdJson[];
  /** How many are failing now. */
  failed: number;
}

export interface CheckJson {
  name: string;
  /** The request name of the checked value, or '' when it has none. */
  request: string;
  passes: number;
  fails: number;
  /** passes / (passes + fails); null before the check ran at all. */
  pass_ratio: number | null;
  /** The message of the latest check that threw; absent when none did. */
  last_error?: string;
}

export interface ChecksJson {
  /** Per (check name, request name), in first-seen order; `[]` when the run made no checks. */
  checks: CheckJson[];
}

export function thresholdJson(t: ThresholdResult): ThresholdJson {
  return {
    metric: t.metric,
    expression: t.expression,
    ok: t.ok,
    // JSON has no Infinity or NaN (stringify would write null anyway): say it in the type, as no data.
    observed: t.observed !== null && Number.isFinite(t.observed) ? t.observed : null,
    unit: t.unit,
    tags: { ...t.tags },
    abort_on_fail: t.abortOnFail,
  };
}

export function checkJson(c: CheckSnapshot): CheckJson {
  const runs = c.passes + c.fails;
  return {
    name: c.name,
    request: c.request,
    passes: c.passes,
    fails: c.fails,
    pass_ratio: runs === 0 ? null : c.passes / runs,
    ...(c.lastError !== undefined ? { last_error: c.lastError } : {}),
  };
}

export function thresholdsJson(data: ReportData): ThresholdsJson {
  const thresholds = (data.thresholds ?? []).map(thresholdJson);
  return { thresholds, failed: thresholds.filter((t) => !t.ok).length };
}

export function checksJson(data: ReportData): ChecksJson {
  return { checks: (data.snapshot.checks ?? []).map(checkJson) };
}

/** The fields a `/stream` event adds for the gates: the two documents above, flattened (`failed` as `thresholds_failed`). */
export interface StreamGatesJson {
  thresholds: ThresholdJson[];
  thresholds_failed: number;
  checks: CheckJson[];
}

export function streamGatesJson(data: ReportData): StreamGatesJson {
  const { thresholds, failed } = thresholdsJson(data);
  return { thresholds, thresholds_failed: failed, checks: checksJson(data).checks };
}
