// The JSON of GET /stats/thresholds and GET /stats/checks (and the same fields on /stream): snake_case views of a report's gates.
import type { ReportData } from '../exporters/report-data.ts';
import type { CheckSnapshot } from '../stats/types.ts';
import { thresholdJson, type ThresholdJson } from '../exporters/threshold-json.ts';

export { thresholdJson, type ThresholdJson };

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
