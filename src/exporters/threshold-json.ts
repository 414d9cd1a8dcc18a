// A threshold's verdict in the snake_case JSON of the summary file, the REST API and the live stream (one shape for all).
import type { ThresholdResult } from '../stats/types.ts';

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
