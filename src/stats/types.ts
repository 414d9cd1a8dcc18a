// Plain-data statistics snapshots: what runners produce, masters merge and exporters render.
// Everything here is serialisable (msgpack/JSON) and cumulative since the last reset.

/** Percentiles in every report, as Locust's PERCENTILES_TO_REPORT. */
export const PERCENTILES_TO_REPORT = [0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0] as const;

/** Sparse buckets of a log-linear histogram: `indices[i]` holds `counts[i]` samples. */
export interface HistogramData {
  indices: number[];
  counts: number[];
}

/** One (method, name) entry, or the Aggregated total (method '' and name 'Aggregated'). */
export interface EntrySnapshot {
  method: string;
  name: string;
  numRequests: number;
  numFailures: number;
  /** Sum of response times, ms. */
  totalResponseTime: number;
  /** Exact minimum and maximum response time, ms; 0 when there are no requests. */
  minResponseTime: number;
  maxResponseTime: number;
  totalContentLength: number;
  /** Epoch seconds of the first and latest request (0 when none). */
  startTime: number;
  lastRequestTimestamp: number;
  histogram: HistogramData;
  /** Requests and failures per epoch second, for the last `windowSeconds` seconds only (bounded). */
  numReqsPerSec: Record<number, number>;
  numFailPerSec: Record<number, number>;
  /** Response times corrected for coordinated omission; present once a paced user's request was recorded. */
  correctedHistogram?: HistogramData;
}

export interface ErrorSnapshot {
  method: string;
  name: string;
  /** Normalised message, e.g. `HTTP 503` or `ECONNREFUSED`. */
  error: string;
  occurrences: number;
  /** Epoch seconds. */
  firstSeen: number;
  lastSeen: number;
}

export interface ExceptionSnapshot {
  count: number;
  msg: string;
  traceback: string;
  /** Which processes saw it ('local' for a local run, worker ids in a distributed one). */
  nodes: string[];
}

/** One point of the run's history (charts, `_stats_history.csv`), recorded once per second. */
export interface HistoryPoint {
  /** Epoch seconds. */
  time: number;
  userCount: number;
  /** Current (sliding-window) rates and percentiles of the Aggregated row, ms. */
  currentRps: number;
  currentFailPerSec: number;
  /** Current-window percentiles aligned with PERCENTILES_TO_REPORT (null without requests in the window). */
  currentPercentiles: (number | null)[];
  /** Cumulative Aggregated counters at this second. */
  totalRequests: number;
  totalFailures: number;
}

/** One scenario's iterations, cumulative since the last reset (plain data: sent to the master, merged there). */
export interface ScenarioSnapshot {
  name: string;
  /** Iterations that ran to their end (a failed request inside still counts; see `failedIterations`). */
  iterations: number;
  /** Iterations whose task threw an error of the script. */
  failedIterations: number;
  /** Iterations the open model could not start: no user free and the pool at `maxUsers`. */
  dropped: number;
  /** Iterations still running when the scenario's graceful stop ran out. */
  interrupted: number;
  /** Iterations an iteration count owed and did not run: its `maxDuration` ended it first. */
  notRun?: number;
  /** `iteration_duration`: ms from each iteration's scheduled start to its end. */
  duration: HistogramData;
  /** How late iterations started against their schedule, ms. */
  lateness: HistogramData;
}

/** Everything known about a run at one moment. */
export interface StatsSnapshot {
  /** Epoch ms the snapshot was taken. */
  time: number;
  /** Epoch seconds statistics started (or were last reset). */
  startTime: number;
  entries: EntrySnapshot[];
  total: EntrySnapshot;
  errors: ErrorSnapshot[];
  exceptions: ExceptionSnapshot[];
  history: HistoryPoint[];
  userCount: number;
  /** Requests whose names were grouped into the overflow entry because the name cap was hit. */
  overflowedNames: number;
  /** Iterations of arrival-rate and iteration-count scenarios, per scenario (absent or empty: none ran). */
  scenarios?: ScenarioSnapshot[];
  /** `check()` results per (check, request name), cumulative (absent or empty: no check ran). */
  checks?: CheckSnapshot[];
}

/** One named check of `check(res, { name: fn })`, for one request name. */
export interface CheckSnapshot {
  /** The check's name, e.g. `status is 200`. */
  name: string;
  /** The request name of the value checked (`res.name`), or '' when the value has none. */
  request: string;
  passes: number;
  fails: number;
  /** The message of the latest check that threw (a throwing check counts as failed). */
  lastError?: string;
}

/** One threshold as evaluated against the statistics (plain data: reports, the API, the web UI). */
export interface ThresholdResult {
  /** The metric as written, tags included: `response_time{name:/login}`. */
  metric: string;
  /** The expression as written: `p(95)<300`. */
  expression: string;
  /** False once the observed value breaks the expression; a threshold with no data yet passes (observed null), as in k6. */
  ok: boolean;
  /** The aggregated value compared (ms, per second, a ratio or a count, see `unit`); null without data. */
  observed: number | null;
  /** `ms`, `/s`, `ratio` or `count`: how to print `observed`. */
  unit: 'ms' | '/s' | 'ratio' | 'count';
  /** The tag filter of the metric (`{ name: '/login' }`), so views can link a threshold to its rows. */
  tags: Record<string, string>;
  /** Whether crossing it stops the run. */
  abortOnFail: boolean;
}

/** Derived numbers of one entry, as tables, CSV and JSON show them (Locust's fields). */
export interface EntryView {
  method: string;
  name: string;
  numRequests: number;
  numFailures: number;
  medianResponseTime: number | null;
  avgResponseTime: number;
  minResponseTime: number | null;
  maxResponseTime: number;
  avgContentLength: number;
  /** Requests and failures per second over the whole run. */
  totalRps: number;
  totalFailPerSec: number;
  /** Requests and failures per second over the recent sliding window. */
  currentRps: number;
  currentFailPerSec: number;
  failRatio: number;
  /** Aligned with PERCENTILES_TO_REPORT; null when there are no requests. */
  percentiles: (number | null)[];
  /** The same, corrected for coordinated omission (paced users only); absent when no paced user made the entry's requests. */
  correctedPercentiles?: (number | null)[];
}
