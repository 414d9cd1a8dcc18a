// The metrics thresholds can name (DESIGN.md §4): their aggregations, tags and units.
import type { ThresholdResult } from '../types.ts';

export type MetricName = 'response_time' | 'iteration_duration' | 'requests' | 'failures' | 'fail_ratio' | 'checks' | 'dropped_iterations' | 'rps';
export type Aggregation = 'avg' | 'min' | 'max' | 'med' | 'p' | 'count' | 'rate' | 'value';
export type TagName = 'name' | 'method' | 'scenario' | 'check';
export type Operator = '<' | '<=' | '>' | '>=' | '==' | '!=';

export const TAG_NAMES: readonly TagName[] = ['name', 'method', 'scenario', 'check'];
export const OPERATORS: readonly Operator[] = ['<=', '>=', '==', '!=', '<', '>'];
export const AGGREGATIONS: readonly Aggregation[] = ['avg', 'min', 'max', 'med', 'p', 'count', 'rate', 'value'];

interface MetricInfo {
  aggregations: readonly Aggregation[];
  tags: readonly TagName[];
  /** What a value of the metric is, e.g. to write in an error. */
  what: string;
}

const TIMES: readonly Aggregation[] = ['avg', 'min', 'max', 'med', 'p'];
const REQUEST_TAGS: readonly TagName[] = ['name', 'method', 'scenario'];

export const METRICS: Readonly<Record<MetricName, MetricInfo>> = {
  response_time: { aggregations: TIMES, tags: REQUEST_TAGS, what: 'response times, ms' },
  iteration_duration: { aggregations: TIMES, tags: ['scenario'], what: 'iteration durations from their scheduled start, ms' },
  requests: { aggregations: ['count', 'rate'], tags: REQUEST_TAGS, what: 'requests (count, or per second over the run)' },
  failures: { aggregations: ['count', 'rate'], tags: REQUEST_TAGS, what: 'failed requests (count, or per second over the run)' },
  fail_ratio: { aggregations: ['value'], tags: REQUEST_TAGS, what: 'failed requests ÷ requests, 0..1' },
  checks: { aggregations: ['rate'], tags: ['check', 'name'], what: 'passed checks ÷ checks run, 0..1' },
  dropped_iterations: { aggregations: ['count', 'rate'], tags: ['scenario'], what: 'iterations the open model could not start' },
  rps: { aggregations: ['value'], tags: REQUEST_TAGS, what: 'current requests per second (last 10 s)' },
};

export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

/** k6's names, so a k6 user's threshold gets pointed at Cicada's. */
export const K6_NAMES: Readonly<Record<string, string>> = {
  http_req_duration: 'response_time',
  http_req_failed: "fail_ratio (with 'value<…')",
  http_reqs: 'requests',
  vus: 'no metric: thresholds judge results, not the user count',
};

/** The unit of an aggregation of a metric, as results carry it. */
export function unitOf(metric: MetricName, aggregation: Aggregation): ThresholdResult['unit'] {
  if (aggregation === 'count') return 'count';
  if (metric === 'checks' || metric === 'fail_ratio') return 'ratio';
  if (aggregation === 'rate' || metric === 'rps') return '/s';
  return 'ms';
}
