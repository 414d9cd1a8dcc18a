// Pure functions deriving what tables, CSV and JSON show (Locust's fields) from entry snapshots.
import { percentilesOfData } from './histogram.ts';
import { currentRate } from './rate.ts';
import { PERCENTILES_TO_REPORT, type EntrySnapshot, type EntryView } from './types.ts';

/** Position of the median in PERCENTILES_TO_REPORT. */
const MEDIAN = PERCENTILES_TO_REPORT.indexOf(0.5);

function clampInto(value: number | null, entry: EntrySnapshot): number | null {
  if (value === null || entry.numRequests === 0) return null;
  return Math.min(Math.max(value, entry.minResponseTime), entry.maxResponseTime);
}

/**
 * Response times (ms) at several quantiles of an entry, aligned with `ps` (PERCENTILES_TO_REPORT
 * by default). Values come from the histogram (≤ 0.1 % off) and are clamped into the exact
 * [min, max], so p100 equals max and no percentile exceeds it. Null when there are no requests.
 */
export function percentilesOf(entry: EntrySnapshot, ps: readonly number[] = PERCENTILES_TO_REPORT): (number | null)[] {
  if (entry.numRequests === 0) return ps.map(() => null);
  // p100 is the exact max (a bucket's value can sit just below it: the CSV showed 98 for a max of 98.5).
  return percentilesOfData(entry.histogram, ps).map((v, i) => (ps[i] === 1 ? entry.maxResponseTime : clampInto(v, entry)));
}

/**
 * Response time (ms) at quantile `p` in [0, 1] of an entry; null when it has no requests.
 * @example
 * ```ts
 * percentileOf(snapshot.total, 0.95); // e.g. 182.4
 * ```
 */
export function percentileOf(entry: EntrySnapshot, p: number): number | null {
  return percentilesOf(entry, [p])[0] ?? null;
}

const IDLE = Object.freeze({ rps: 0, failPerSec: 0 });

/** Current (sliding-window) requests and failures per second of an entry at `nowMs` (see rate.ts). */
export function currentRates(entry: EntrySnapshot, nowMs: number): { rps: number; failPerSec: number } {
  const reqs = entry.numReqsPerSec;
  const fails = entry.numFailPerSec;
  return {
    rps: currentRate((s) => reqs[s] ?? 0, entry.startTime, nowMs),
    failPerSec: currentRate((s) => fails[s] ?? 0, entry.startTime, nowMs),
  };
}

/**
 * The derived numbers of one entry at `nowMs` (epoch ms), as Locust reports them. `live` is false
 * once the run has stopped (or before it starts): the current rates are then 0.
 * `totalRps` = numRequests / max(1, lastRequestTimestamp − startTime), Locust's definition.
 * @example
 * ```ts
 * const views = sortEntries(snapshot.entries).map((e) => entryView(e, snapshot.time));
 * ```
 */
export function entryView(entry: EntrySnapshot, nowMs: number, live = true): EntryView {
  const n = entry.numRequests;
  const duration = Math.max(1, entry.lastRequestTimestamp - entry.startTime);
  const percentiles = percentilesOf(entry);
  // A run that is not going has no current rate: 0, not the decay of its last seconds.
  const current = live ? currentRates(entry, nowMs) : IDLE;
  return {
    method: entry.method,
    name: entry.name,
    numRequests: n,
    numFailures: entry.numFailures,
    medianResponseTime: percentiles[MEDIAN] ?? null,
    avgResponseTime: n > 0 ? entry.totalResponseTime / n : 0,
    minResponseTime: n > 0 ? entry.minResponseTime : null,
    maxResponseTime: entry.maxResponseTime,
    avgContentLength: n > 0 ? entry.totalContentLength / n : 0,
    totalRps: n / duration,
    totalFailPerSec: entry.numFailures / duration,
    currentRps: current.rps,
    currentFailPerSec: current.failPerSec,
    // Locust: failures without any request (logged directly) count as a ratio of 1.
    failRatio: n > 0 ? entry.numFailures / n : entry.numFailures > 0 ? 1 : 0,
    percentiles,
    ...(entry.correctedHistogram !== undefined && n > 0
      ? { correctedPercentiles: percentilesOfData(entry.correctedHistogram, PERCENTILES_TO_REPORT).map((v) => clampInto(v, entry)) }
      : {}),
  };
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A copy of `entries` in Locust's order: by name, then method (plain code-unit order, not locale).
 * @example
 * ```ts
 * sortEntries(snapshot.entries).map((e) => `${e.method} ${e.name}`);
 * ```
 */
export function sortEntries<T extends { method: string; name: string }>(entries: readonly T[]): T[] {
  return [...entries].sort((a, b) => compareCodeUnits(a.name, b.name) || compareCodeUnits(a.method, b.method));
}
