// JSON reports: Locust's `--json` list of StatsEntry dicts, and the entry fields the summary JSON and REST API share.
import { PERCENTILES_TO_REPORT, type EntrySnapshot, type EntryView } from '../stats/types.ts';
import { entryKey, type BucketValue, type ReportData } from './report-data.ts';

/** One entry exactly as Locust's `--json` serialises a StatsEntry (field names and order). */
export interface LocustStatsEntryJson {
  name: string;
  method: string;
  /** Epoch seconds; null when no request was made. */
  last_request_timestamp: number | null;
  start_time: number;
  num_requests: number;
  num_none_requests: number;
  num_failures: number;
  /** ms */
  total_response_time: number;
  max_response_time: number;
  min_response_time: number | null;
  total_content_length: number;
  /** Response time (ms, histogram bucket value) → count. */
  response_times: Record<string, number>;
  /** Epoch second → count, for the recent window the stats keep. */
  num_reqs_per_sec: Record<string, number>;
  num_fail_per_sec: Record<string, number>;
  /** Cicada's addition, only for entries with paced users: percentiles corrected for coordinated omission. */
  corrected_response_time_percentiles?: Record<string, number | null>;
}

/** Bucket values are floats; 6 significant digits removes float noise (12.300000000000001) without merging buckets. */
function bucketKey(value: number): string {
  return String(Number(value.toPrecision(6)));
}

function responseTimes(entry: EntrySnapshot, bucketValue: BucketValue): Record<string, number> {
  const pairs: [number, number][] = [];
  entry.histogram.indices.forEach((index, i) => {
    const count = entry.histogram.counts[i] ?? 0;
    if (count > 0) pairs.push([bucketValue(index), count]);
  });
  pairs.sort((a, b) => a[0] - b[0]);
  const out: Record<string, number> = {};
  for (const [value, count] of pairs) {
    const key = bucketKey(value);
    out[key] = (out[key] ?? 0) + count;
  }
  return out;
}

function perSecond(map: Record<number, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(map).sort((a, b) => Number(a) - Number(b))) {
    const value = map[Number(key)];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** Serialises one raw entry in Locust's StatsEntry shape. */
export function locustEntryJson(entry: EntrySnapshot, bucketValue: BucketValue): LocustStatsEntryJson {
  const none = entry.numRequests === 0;
  return {
    name: entry.name,
    method: entry.method,
    last_request_timestamp: none ? null : entry.lastRequestTimestamp,
    start_time: entry.startTime,
    num_requests: entry.numRequests,
    // Cicada always records a response time, so there are no "None" requests.
    num_none_requests: 0,
    num_failures: entry.numFailures,
    total_response_time: entry.totalResponseTime,
    max_response_time: entry.maxResponseTime,
    min_response_time: none ? null : entry.minResponseTime,
    total_content_length: entry.totalContentLength,
    response_times: responseTimes(entry, bucketValue),
    num_reqs_per_sec: perSecond(entry.numReqsPerSec),
    num_fail_per_sec: perSecond(entry.numFailPerSec),
  };
}

/**
 * What `--json` prints and `--json-file` writes: Locust's list of entries (no Aggregated row; entries
 * without requests or failures left out, as Locust does), in the order of `data.entries`.
 * `bucketValue` converts histogram bucket indices to ms; the CLI passes the stats histogram's function.
 */
export function jsonReport(data: ReportData, bucketValue: BucketValue): LocustStatsEntryJson[] {
  const raw = new Map(data.snapshot.entries.map((e) => [entryKey(e.method, e.name), e]));
  const out: LocustStatsEntryJson[] = [];
  for (const view of data.entries) {
    const entry = raw.get(entryKey(view.method, view.name));
    if (!entry || (entry.numRequests === 0 && entry.numFailures === 0)) continue;
    const json = locustEntryJson(entry, bucketValue);
    out.push(view.correctedPercentiles !== undefined ? { ...json, corrected_response_time_percentiles: percentileMap(view.correctedPercentiles) } : json);
  }
  return out;
}

/** An entry as Locust's `/stats/requests` shows it, plus every reported percentile. */
export interface EntryJson {
  method: string;
  name: string;
  num_requests: number;
  num_failures: number;
  min_response_time: number | null;
  max_response_time: number;
  current_rps: number;
  current_fail_per_sec: number;
  avg_response_time: number;
  median_response_time: number | null;
  total_rps: number;
  total_fail_per_sec: number;
  'response_time_percentile_0.95': number | null;
  'response_time_percentile_0.99': number | null;
  avg_content_length: number;
  fail_ratio: number;
  /** Percentile (`0.5`, `0.999`, `1.0`) → ms; null without requests. */
  response_time_percentiles: Record<string, number | null>;
  /** The same keys, corrected for coordinated omission; only for entries with paced users (constantPacing/constantThroughput). */
  corrected_response_time_percentiles?: Record<string, number | null>;
}

/**
 * A percentile as Python prints the float (`0.95`, `1.0`), as in Locust's `response_time_percentile_1.0`;
 * `1.0` rather than `1` also keeps JS from sorting that integer-like key before the others.
 */
export function percentileKey(p: number): string {
  return Number.isInteger(p) ? p.toFixed(1) : String(p);
}

/** Values aligned with PERCENTILES_TO_REPORT as `{"0.5": ms, …, "1.0": ms}` (null where there is none). */
export function percentileMap(values: readonly (number | null)[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  PERCENTILES_TO_REPORT.forEach((p, i) => {
    out[percentileKey(p)] = values[i] ?? null;
  });
  return out;
}

/** One entry view in the web/REST field names (reusable by the web layer for `/stats/requests`). */
export function entryJson(view: EntryView): EntryJson {
  const percentiles = percentileMap(view.percentiles);
  return {
    method: view.method,
    name: view.name,
    num_requests: view.numRequests,
    num_failures: view.numFailures,
    min_response_time: view.minResponseTime,
    max_response_time: view.maxResponseTime,
    current_rps: view.currentRps,
    current_fail_per_sec: view.currentFailPerSec,
    avg_response_time: view.avgResponseTime,
    median_response_time: view.medianResponseTime,
    total_rps: view.totalRps,
    total_fail_per_sec: view.totalFailPerSec,
    'response_time_percentile_0.95': percentiles['0.95'] ?? null,
    'response_time_percentile_0.99': percentiles['0.99'] ?? null,
    avg_content_length: view.avgContentLength,
    fail_ratio: view.failRatio,
    response_time_percentiles: percentiles,
    ...(view.correctedPercentiles !== undefined ? { corrected_response_time_percentiles: percentileMap(view.correctedPercentiles) } : {}),
  };
}

/** JSON text as Locust prints it (4-space indent), with a final newline. */
export function toJsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 4)}\n`;
}
