// Which worker reports and heartbeats the master refuses: numbers no honest worker can send (issue 13).
//
// The schema (runners/messages.ts) checks shapes and types; these rules check that the numbers agree with each
// other, as they always do on a worker, where every request is recorded once in its entry and once in the total
// (RequestStats.log), every failure with its request (`logError` follows `log` in `attach`, and nothing else calls
// it) and with one error row, and every histogram sample with its request. A report breaking one could only come
// from a bug or a hostile worker; taking it would poison the cluster's totals for the rest of the run.
import { printable } from '../core/printable.ts';
import { BUCKET_COUNT, bucketIndex, checkHistogramData } from './histogram.ts';
import { PER_SECOND_SLOTS } from './rate.ts';
import { AGGREGATED_METHOD, AGGREGATED_NAME } from './request-stats.ts';
import type { EntrySnapshot, HistogramData, StatsSnapshot } from './types.ts';

/** Stable names of the rules, as the master's log line gives them. */
export const reportRules = [
  'numbers', 'failures', 'histogram', 'extremes', 'per-second', 'clock', 'total', 'errors', 'overflow', 'scenarios', 'sum', 'users', 'heartbeat',
] as const;
export type ReportRule = (typeof reportRules)[number];

/** Why a report (or heartbeat) was refused: the rule and a short, printable account with the numbers. */
export interface ReportViolation {
  rule: ReportRule;
  detail: string;
}

/** Largest count or sum a report may hold: beyond it float64 integers are no longer exact. */
const MAX_COUNT = Number.MAX_SAFE_INTEGER;
/**
 * How far ahead of the master's clock a worker's latest request may be (s). A second from the future holds its
 * slot of the master's per-second ring until that time comes, hiding the current rate; a worker's clock may be
 * off by hours (an RTC kept in local time), but not by a day.
 */
export const MAX_CLOCK_AHEAD_S = 86_400;
/** Users one worker may run: a process holds tens of thousands cheaply; ten million would need some 80 GB (s. DESIGN.md §3). */
export const MAX_USERS_PER_WORKER = 10_000_000;
/** User classes one worker may report (a cicadafile defines a handful). */
export const MAX_CLASSES = 1000;
/** Resident memory a worker may report, bytes (1 PiB). */
export const MAX_MEMORY_BYTES = 2 ** 50;

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isTime = (v: number): boolean => Number.isFinite(v) && v >= 0;
const refuse = (rule: ReportRule, detail: string): ReportViolation => ({ rule, detail });

function label(e: EntrySnapshot): string {
  return e.method === AGGREGATED_METHOD && e.name === AGGREGATED_NAME ? 'the total' : `entry ${printable(e.method, 20)} ${printable(e.name, 120)}`;
}

/** What shapeOf found: one object reused for every histogram (the master checks 20,000 per report; single-threaded). */
interface Shape {
  samples: number;
  lowest: number;
  highest: number;
}
const shape: Shape = { samples: 0, lowest: 0, highest: 0 };

/** Samples and lowest/highest non-empty bucket of histogram data (in the shared `shape`, valid until the next call), or why it is malformed. */
function shapeOf(data: HistogramData): Shape | string {
  try {
    checkHistogramData(data);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  let samples = 0;
  let lowest = BUCKET_COUNT;
  let highest = -1;
  for (let i = 0; i < data.indices.length; i++) {
    const n = data.counts[i]!;
    if (!Number.isInteger(n)) return `histogram count ${n} is not a whole number`;
    if (n === 0) continue;
    samples += n;
    const index = data.indices[i]!;
    if (index < lowest) lowest = index;
    if (index > highest) highest = index;
  }
  shape.samples = samples;
  shape.lowest = lowest;
  shape.highest = highest;
  return shape;
}

/**
 * Per-second counts against their entry. A worker keeps the newest PER_SECOND_SLOTS seconds, the newest being the
 * second of its latest request (`lastSec`), and sends only those: requests' seconds lie in (lastSec − slots, lastSec];
 * failures' end at their own newest second, at or before lastSec, and span fewer than `slots` seconds too.
 */
function checkSeconds(record: Record<number, number>, count: number, lastSec: number, anchored: boolean): string | undefined {
  let sum = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const key in record) {
    const second = Number(key);
    const n = record[second];
    if (!Number.isSafeInteger(second) || second < 0 || !isCount(n)) return `second '${printable(key, 20)}' or its count is not a whole number ≥ 0`;
    sum += n;
    if (second < lo) lo = second;
    if (second > hi) hi = second;
  }
  if (sum > count) return `${sum} in its seconds, ${count} in all`;
  if (hi === -Infinity) return undefined;
  if (hi > lastSec) return `second ${hi} comes after its latest request (${lastSec})`;
  if (anchored ? lo <= lastSec - PER_SECOND_SLOTS : hi - lo >= PER_SECOND_SLOTS) return `seconds ${lo}…${hi} reach further back than the ${PER_SECOND_SLOTS} s a worker keeps`;
  return undefined;
}

/** One entry (or the total) on its own: counts, times, histogram and per-second counts that agree. */
export function checkEntry(e: EntrySnapshot, nowMs: number): ReportViolation | undefined {
  const bad = entryProblem(e, nowMs);
  return bad === undefined ? undefined : refuse(bad.rule, `${label(e)}: ${bad.detail}`);
}

/** What is wrong with one entry, without saying which (the caller labels it: only a refusal pays for the label). */
function entryProblem(e: EntrySnapshot, nowMs: number): ReportViolation | undefined {
  if (!isCount(e.numRequests) || !isCount(e.numFailures) || !isCount(e.totalContentLength)) return refuse('numbers', 'a count is not a whole number in 0…2^53−1');
  if (!(isTime(e.totalResponseTime) && isTime(e.minResponseTime) && isTime(e.maxResponseTime) && isTime(e.startTime) && isTime(e.lastRequestTimestamp))) {
    return refuse('numbers', 'a time is negative or not finite');
  }
  if (e.totalResponseTime * 1000 > MAX_COUNT) return refuse('numbers', 'its response times add up past 2^53 µs');
  if (e.numFailures > e.numRequests) return refuse('failures', `${e.numFailures} failures of ${e.numRequests} requests`);
  const histogram = shapeOf(e.histogram);
  if (typeof histogram === 'string') return refuse('histogram', histogram);
  const { samples, lowest, highest } = histogram;
  if (samples !== e.numRequests) return refuse('histogram', `its histogram holds ${samples} samples for ${e.numRequests} requests`);
  if (e.correctedHistogram !== undefined) {
    // The corrected view holds every sample plus the ones a stall hid: never fewer.
    const corrected = shapeOf(e.correctedHistogram);
    if (typeof corrected === 'string') return refuse('histogram', `corrected ${corrected}`);
    if (corrected.samples < e.numRequests || corrected.samples > MAX_COUNT) return refuse('histogram', `its corrected histogram holds ${corrected.samples} samples for ${e.numRequests} requests`);
  }
  if (e.numRequests === 0) {
    const zero = e.totalResponseTime === 0 && e.minResponseTime === 0 && e.maxResponseTime === 0 && e.totalContentLength === 0 && e.startTime === 0 && e.lastRequestTimestamp === 0;
    if (!zero) return refuse('extremes', 'no requests, yet times or sizes that are not 0');
  } else {
    const { minResponseTime: min, maxResponseTime: max } = e;
    if (min > max) return refuse('extremes', `min ${min} ms > max ${max} ms`);
    // Each time is summed in whole µs (±0.5 µs of rounding per sample), so the mean lies within 1 µs of [min, max].
    const mean = e.totalResponseTime / e.numRequests;
    const slack = 0.001 + max * 1e-9;
    if (mean < min - slack || mean > max + slack) return refuse('extremes', `mean ${mean} ms outside min ${min} … max ${max} ms`);
    if (bucketIndex(min) !== lowest || bucketIndex(max) !== highest) return refuse('histogram', `its histogram's range is not min ${min} … max ${max} ms`);
    if (e.startTime > e.lastRequestTimestamp) return refuse('extremes', `first request (${e.startTime}) after the latest (${e.lastRequestTimestamp})`);
  }
  if (e.lastRequestTimestamp > nowMs / 1000 + MAX_CLOCK_AHEAD_S) return refuse('clock', `its latest request is ${Math.round(e.lastRequestTimestamp - nowMs / 1000)} s ahead of the master's clock`);
  const lastSec = Math.floor(e.lastRequestTimestamp);
  const requests = checkSeconds(e.numReqsPerSec, e.numRequests, lastSec, true);
  if (requests !== undefined) return refuse('per-second', `requests per second: ${requests}`);
  const failures = checkSeconds(e.numFailPerSec, e.numFailures, lastSec, false);
  if (failures !== undefined) return refuse('per-second', `failures per second: ${failures}`);
  return undefined;
}

/** Bucket sums of the entries, minus the total's: one scratch array reused by every report (the master is single-threaded). */
const scratch = new Float64Array(BUCKET_COUNT);
const touched: number[] = [];

/** True when the total's histogram is exactly the bucket-wise sum of the entries' (indices already checked). */
function histogramsAddUp(entries: readonly EntrySnapshot[], total: HistogramData): boolean {
  const add = (data: HistogramData, sign: number): void => {
    for (let i = 0; i < data.indices.length; i++) {
      const index = data.indices[i]!;
      if (scratch[index] === 0) touched.push(index);
      scratch[index] = scratch[index]! + sign * data.counts[i]!;
    }
  };
  for (const e of entries) add(e.histogram, 1);
  add(total, -1);
  let same = true;
  for (const index of touched) {
    if (scratch[index] !== 0) same = false;
    scratch[index] = 0;
  }
  touched.length = 0;
  return same;
}

/**
 * The total against its entries: a worker's total is the sum of its entries, `(other)` included (a request beyond the
 * name cap is recorded in its method's `(other)` entry and in the total alike). Requests, failures, bytes, µs, the
 * extremes, the latest request and every histogram bucket add up exactly; the first request does not (entries' first
 * requests are each the first *logged*, not the earliest), nor do per-second counts (each entry sends its own newest seconds).
 */
function checkTotal(s: StatsSnapshot): ReportViolation | undefined {
  const t = s.total;
  let requests = 0;
  let failures = 0;
  let bytes = 0;
  let micros = 0;
  let min = Infinity;
  let max = 0;
  let last = 0;
  for (const e of s.entries) {
    requests += e.numRequests;
    failures += e.numFailures;
    bytes += e.totalContentLength;
    micros += Math.round(e.totalResponseTime * 1000);
    if (e.numRequests > 0) {
      min = Math.min(min, e.minResponseTime);
      max = Math.max(max, e.maxResponseTime);
    }
    last = Math.max(last, e.lastRequestTimestamp);
  }
  if (requests !== t.numRequests || failures !== t.numFailures || bytes !== t.totalContentLength) {
    return refuse('total', `the total says ${t.numRequests} requests, ${t.numFailures} failures, ${t.totalContentLength} bytes; its entries add up to ${requests}, ${failures}, ${bytes}`);
  }
  // Sent as ms (µs / 1000): reading each back may be off by one µs in the last place.
  if (Math.abs(micros - Math.round(t.totalResponseTime * 1000)) > s.entries.length + 1) return refuse('total', `the total's response times (${t.totalResponseTime} ms) are not its entries' (${micros / 1000} ms)`);
  if (t.numRequests > 0 && (min !== t.minResponseTime || max !== t.maxResponseTime)) return refuse('total', `the total's min/max ${t.minResponseTime}/${t.maxResponseTime} ms are not its entries' ${min}/${max} ms`);
  if (last !== t.lastRequestTimestamp) return refuse('total', `the total's latest request (${t.lastRequestTimestamp}) is not its entries' (${last})`);
  if (!histogramsAddUp(s.entries, t.histogram)) return refuse('total', "the total's histogram is not the sum of its entries'");
  return undefined;
}

/** Errors, exceptions, scenarios and checks: counts in range, one error occurrence per failure, histograms per iteration. */
function checkTables(s: StatsSnapshot): ReportViolation | undefined {
  let occurrences = 0;
  for (const e of s.errors) {
    if (!isCount(e.occurrences) || !(e.firstSeen <= e.lastSeen)) return refuse('errors', `error row ${printable(e.error, 120)}: bad occurrences or first/last seen`);
    occurrences += e.occurrences;
  }
  // Every failure is logged with one error row (RequestStats.logError), grouped rows included.
  if (occurrences !== s.total.numFailures) return refuse('errors', `${occurrences} error occurrences for ${s.total.numFailures} failures`);
  if (!isCount(s.overflowedNames) || s.overflowedNames > s.total.numRequests) return refuse('overflow', `${s.overflowedNames} requests grouped as (other) of ${s.total.numRequests}`);
  for (const x of s.exceptions) if (!isCount(x.count)) return refuse('numbers', 'an exception count is not a whole number in 0…2^53−1');
  for (const c of s.checks ?? []) if (!isCount(c.passes) || !isCount(c.fails)) return refuse('numbers', `check ${printable(c.name, 120)}: a count is not a whole number in 0…2^53−1`);
  for (const sc of s.scenarios ?? []) {
    const where = `scenario ${printable(sc.name, 64)}`;
    if (![sc.iterations, sc.failedIterations, sc.dropped, sc.interrupted, sc.notRun ?? 0].every(isCount)) return refuse('numbers', `${where}: a count is not a whole number in 0…2^53−1`);
    if (sc.failedIterations > sc.iterations || sc.interrupted > sc.iterations) return refuse('scenarios', `${where}: ${sc.failedIterations} failed and ${sc.interrupted} interrupted of ${sc.iterations} iterations`);
    // One duration and one lateness sample per iteration (ScenarioStats.record); malformed data would break every later snapshot.
    for (const [what, data] of [['duration', sc.duration], ['lateness', sc.lateness]] as const) {
      const found = shapeOf(data);
      if (typeof found === 'string') return refuse('scenarios', `${where}: ${what} ${found}`);
      if (found.samples !== sc.iterations) return refuse('scenarios', `${where}: ${found.samples} ${what} samples for ${sc.iterations} iterations`);
    }
  }
  return undefined;
}

/**
 * The first rule a worker's cumulative report breaks, or undefined when every number in it is possible.
 * `nowMs` is the master's clock (epoch ms). Cost: one pass over the report (the master checks every report it takes).
 * @example
 * ```ts
 * const violation = checkSnapshot(snapshot, Date.now());
 * if (violation) logger.warning(`refused (rule ${violation.rule}): ${violation.detail}`);
 * ```
 */
export function checkSnapshot(s: StatsSnapshot, nowMs: number): ReportViolation | undefined {
  for (const e of s.entries) {
    const bad = checkEntry(e, nowMs);
    if (bad) return bad;
  }
  return checkEntry(s.total, nowMs) ?? checkTotal(s) ?? checkTables(s);
}

/**
 * The largest counter of a report's scenarios, checks and exceptions. The master merges those tables by adding
 * counters across workers; keeping the sum of each worker's largest one under 2^53 keeps every merged counter exact.
 */
export function largestCounter(s: StatsSnapshot): number {
  let n = 0;
  for (const sc of s.scenarios ?? []) n = Math.max(n, sc.iterations, sc.failedIterations, sc.dropped, sc.interrupted, sc.notRun ?? 0);
  for (const c of s.checks ?? []) n = Math.max(n, c.passes + c.fails);
  for (const x of s.exceptions) n = Math.max(n, x.count);
  return n;
}

/** A report's user counts: in range, and no more classes than a cicadafile could define. */
export function checkUsers(userCount: number, classes: Readonly<Record<string, number>>): ReportViolation | undefined {
  if (!isCount(userCount) || userCount > MAX_USERS_PER_WORKER) return refuse('users', `${userCount} users (at most ${MAX_USERS_PER_WORKER} per worker)`);
  let n = 0;
  let sum = 0;
  for (const key in classes) {
    const v = classes[key];
    if (++n > MAX_CLASSES) return refuse('users', `more than ${MAX_CLASSES} user classes`);
    if (!isCount(v)) return refuse('users', `class ${printable(key, 64)}: ${v} users`);
    sum += v;
  }
  if (sum > MAX_USERS_PER_WORKER) return refuse('users', `${sum} users in its classes (at most ${MAX_USERS_PER_WORKER} per worker)`);
  return undefined;
}

/** A heartbeat's numbers: users as in a report, CPU time (ms) and resident memory (bytes) in range. */
export function checkHeartbeat(h: { userCount: number; cpu: number; memory: number }): ReportViolation | undefined {
  if (!isCount(h.userCount) || h.userCount > MAX_USERS_PER_WORKER) return refuse('users', `${h.userCount} users (at most ${MAX_USERS_PER_WORKER} per worker)`);
  if (!isTime(h.cpu) || h.cpu > MAX_COUNT) return refuse('heartbeat', `CPU time ${h.cpu} ms`);
  if (!isCount(h.memory) || h.memory > MAX_MEMORY_BYTES) return refuse('heartbeat', `memory ${h.memory} bytes (at most 2^50)`);
  return undefined;
}
