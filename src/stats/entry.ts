// One statistics entry: counters, exact min/max, a histogram and recent per-second counts of one (method, name).
import { Histogram } from './histogram.ts';
import { PER_SECOND_SLOTS } from './rate.ts';
import type { EntrySnapshot } from './types.ts';

/**
 * Per-second counts for the last PER_SECOND_SLOTS seconds, in a fixed ring (no map that grows
 * with run time). Slot `s % size` holds the newest second seen that maps to it; counts for an
 * older second arriving late are dropped. Keeping "newest second, summed counts" per slot makes
 * adding the same counts in any order give the same ring, so merging stays commutative.
 */
class SecondRing {
  private readonly seconds = new Float64Array(PER_SECOND_SLOTS).fill(-1);
  private readonly counts = new Float64Array(PER_SECOND_SLOTS);

  add(second: number, n: number): void {
    const slot = second % PER_SECOND_SLOTS;
    const held = this.seconds[slot]!;
    if (held === second) this.counts[slot] = this.counts[slot]! + n;
    else if (held < second) {
      this.seconds[slot] = second;
      this.counts[slot] = n;
    }
  }

  at(second: number): number {
    const slot = second % PER_SECOND_SLOTS;
    return second >= 0 && this.seconds[slot] === second ? this.counts[slot]! : 0;
  }

  /** Non-zero counts of the PER_SECOND_SLOTS seconds ending at the newest second held. */
  toRecord(): Record<number, number> {
    let newest = -1;
    for (const s of this.seconds) if (s > newest) newest = s;
    const out: Record<number, number> = {};
    for (let i = 0; i < PER_SECOND_SLOTS; i++) {
      const s = this.seconds[i]!;
      if (s >= 0 && s > newest - PER_SECOND_SLOTS && this.counts[i]! > 0) out[s] = this.counts[i]!;
    }
    return out;
  }

  /** Takes back counts added earlier; seconds already pushed out of the ring are gone and stay gone. */
  subtract(second: number, n: number): void {
    const slot = second % PER_SECOND_SLOTS;
    if (this.seconds[slot] === second) this.counts[slot] = Math.max(0, this.counts[slot]! - n);
  }

  subtractRecord(record: Record<number, number>): void {
    // for…in, not Object.entries: the master runs this for every entry of every report.
    for (const key in record) {
      const second = Number(key);
      const n = record[second]!;
      if (Number.isInteger(second) && second >= 0 && Number.isFinite(n) && n > 0) this.subtract(second, n);
    }
  }

  addRecord(record: Record<number, number>): void {
    for (const key in record) {
      const second = Number(key);
      const n = record[second]!;
      if (Number.isInteger(second) && second >= 0 && Number.isFinite(n) && n > 0) this.add(second, n);
    }
  }

  clear(): void {
    this.seconds.fill(-1);
    this.counts.fill(0);
  }
}

/**
 * Statistics of one (method, name) pair, or of the Aggregated total. Times are ms, timestamps epoch seconds.
 * @example
 * ```ts
 * const e = new StatsEntry('GET', '/items/[id]');
 * e.log(12.5, 512, Date.now() / 1000);
 * e.toSnapshot().numRequests; // 1
 * ```
 */
export class StatsEntry {
  readonly method: string;
  readonly name: string;
  numRequests = 0;
  numFailures = 0;
  /** Sum of response times in integer µs: exact, so sums do not depend on the order of merging. */
  private totalMicros = 0;
  /** Exact extremes, ms; Infinity / 0 until the first request. */
  minResponseTime = Number.POSITIVE_INFINITY;
  maxResponseTime = 0;
  totalContentLength = 0;
  /** Epoch seconds of the first and latest request (0 when none). */
  startTime = 0;
  lastRequestTimestamp = 0;
  readonly histogram = new Histogram();
  /**
   * Response times corrected for coordinated omission (HdrHistogram's expected-interval method), made
   * on the first request of a paced user (`constantPacing`/`constantThroughput`); undefined until then.
   */
  corrected: Histogram | undefined = undefined;
  private readonly requestsPerSecond = new SecondRing();
  private readonly failuresPerSecond = new SecondRing();

  constructor(method: string, name: string) {
    this.method = method;
    this.name = name;
  }

  /** Sum of response times, ms (µs resolution). */
  get totalResponseTime(): number {
    return this.totalMicros / 1000;
  }

  /**
   * Records one request that completed at `nowSec` (epoch seconds), failed or not. `expectedIntervalMs`
   * is set for a paced user (`constantPacing`/`constantThroughput`): it also feeds the corrected view.
   */
  log(responseTimeMs: number, contentLength: number, nowSec: number, expectedIntervalMs?: number): void {
    const ms = responseTimeMs >= 0 ? responseTimeMs : 0; // negative or NaN times count as 0
    this.numRequests += 1;
    this.totalMicros += Math.round(ms * 1000);
    if (ms < this.minResponseTime) this.minResponseTime = ms;
    if (ms > this.maxResponseTime) this.maxResponseTime = ms;
    if (contentLength > 0) this.totalContentLength += contentLength;
    if (this.startTime === 0) this.startTime = nowSec;
    if (nowSec > this.lastRequestTimestamp) this.lastRequestTimestamp = nowSec;
    if (expectedIntervalMs !== undefined || this.corrected !== undefined) this.logCorrected(ms, expectedIntervalMs);
    this.histogram.record(ms);
    this.requestsPerSecond.add(Math.floor(nowSec), 1);
  }

  /**
   * The corrected view (HdrHistogram's expected-interval method): the time itself, plus the samples a
   * stall hid — `ms − interval`, `ms − 2·interval`, … while at least the interval — which the requests the
   * user did not get to send would have seen. Made on the first paced request, from every sample so far.
   */
  private logCorrected(ms: number, intervalMs: number | undefined): void {
    if (this.corrected === undefined) {
      this.corrected = new Histogram();
      this.corrected.copyFrom(this.histogram);
    }
    this.corrected.record(ms);
    if (intervalMs === undefined || !(intervalMs > 0)) return;
    for (let missing = ms - intervalMs; missing >= intervalMs; missing -= intervalMs) this.corrected.record(missing);
  }

  /** Records one failure at `nowSec`. The request itself is counted by `log`, as in Locust. */
  logError(nowSec: number): void {
    this.numFailures += 1;
    this.failuresPerSecond.add(Math.floor(nowSec), 1);
  }

  /** Requests completed in one epoch second (0 outside the last PER_SECOND_SLOTS seconds). */
  requestsAt(epochSecond: number): number {
    return this.requestsPerSecond.at(epochSecond);
  }

  /** Failures in one epoch second (0 outside the last PER_SECOND_SLOTS seconds). */
  failuresAt(epochSecond: number): number {
    return this.failuresPerSecond.at(epochSecond);
  }

  reset(): void {
    this.numRequests = 0;
    this.numFailures = 0;
    this.totalMicros = 0;
    this.minResponseTime = Number.POSITIVE_INFINITY;
    this.maxResponseTime = 0;
    this.totalContentLength = 0;
    this.startTime = 0;
    this.lastRequestTimestamp = 0;
    this.histogram.reset();
    this.corrected = undefined;
    this.requestsPerSecond.clear();
    this.failuresPerSecond.clear();
  }

  /** Plain, serialisable data (cumulative since the last reset). */
  toSnapshot(): EntrySnapshot {
    const empty = this.numRequests === 0;
    return {
      method: this.method,
      name: this.name,
      numRequests: this.numRequests,
      numFailures: this.numFailures,
      totalResponseTime: this.totalResponseTime,
      minResponseTime: empty ? 0 : this.minResponseTime,
      maxResponseTime: empty ? 0 : this.maxResponseTime,
      totalContentLength: this.totalContentLength,
      startTime: this.startTime,
      lastRequestTimestamp: this.lastRequestTimestamp,
      histogram: this.histogram.toData(),
      numReqsPerSec: this.requestsPerSecond.toRecord(),
      numFailPerSec: this.failuresPerSecond.toRecord(),
      ...(this.corrected !== undefined ? { correctedHistogram: this.corrected.toData() } : {}),
    };
  }

  /** An entry holding exactly the snapshot's data. Throws StatsError on malformed histogram data. */
  static fromSnapshot(snapshot: EntrySnapshot): StatsEntry {
    const entry = new StatsEntry(snapshot.method, snapshot.name);
    entry.mergeSnapshot(snapshot);
    return entry;
  }

  /**
   * Adds another process's snapshot of the same (method, name). Exact and commutative: counts add,
   * response-time sums add in integer µs, extremes take min/max, histograms add bucket by bucket,
   * and per-second counts add within the newest PER_SECOND_SLOTS seconds.
   * Throws StatsError (changing nothing) if the histogram data is malformed; `histogramChecked`
   * skips that check for data already passed through `checkHistogramData`.
   */
  mergeSnapshot(snapshot: EntrySnapshot, histogramChecked = false): void {
    // Validates first (unless the caller did), so a bad snapshot changes nothing.
    if (histogramChecked) this.histogram.addChecked(snapshot.histogram);
    else this.histogram.addData(snapshot.histogram);
    this.numRequests += snapshot.numRequests;
    this.numFailures += snapshot.numFailures;
    this.totalMicros += Math.round(snapshot.totalResponseTime * 1000);
    if (snapshot.numRequests > 0) {
      if (snapshot.minResponseTime < this.minResponseTime) this.minResponseTime = snapshot.minResponseTime;
      if (snapshot.maxResponseTime > this.maxResponseTime) this.maxResponseTime = snapshot.maxResponseTime;
    }
    this.totalContentLength += snapshot.totalContentLength;
    if (snapshot.startTime > 0 && (this.startTime === 0 || snapshot.startTime < this.startTime)) this.startTime = snapshot.startTime;
    if (snapshot.lastRequestTimestamp > this.lastRequestTimestamp) this.lastRequestTimestamp = snapshot.lastRequestTimestamp;
    this.requestsPerSecond.addRecord(snapshot.numReqsPerSec);
    this.failuresPerSecond.addRecord(snapshot.numFailPerSec);
    if (snapshot.correctedHistogram !== undefined) {
      // Merged views hold, per process, its corrected samples, or its raw ones when it had no paced user.
      this.corrected ??= new Histogram();
      if (histogramChecked) this.corrected.addChecked(snapshot.correctedHistogram);
      else this.corrected.addData(snapshot.correctedHistogram);
    }
  }

  /**
   * Takes back a snapshot merged earlier (a worker's report that a newer one replaces): counts,
   * sums and histogram buckets are subtracted exactly. Extremes and first/last times stay: a
   * worker's cumulative min only falls and its max only rises, so the newer report cannot need them back.
   */
  unmergeSnapshot(snapshot: EntrySnapshot): void {
    // Only ever called with a snapshot merged into this entry before, so no re-validation is needed.
    this.histogram.subtractAdded(snapshot.histogram);
    this.numRequests -= snapshot.numRequests;
    this.numFailures -= snapshot.numFailures;
    this.totalMicros -= Math.round(snapshot.totalResponseTime * 1000);
    this.totalContentLength -= snapshot.totalContentLength;
    this.requestsPerSecond.subtractRecord(snapshot.numReqsPerSec);
    this.failuresPerSecond.subtractRecord(snapshot.numFailPerSec);
    if (snapshot.correctedHistogram !== undefined) this.corrected?.subtractAdded(snapshot.correctedHistogram);
  }
}
