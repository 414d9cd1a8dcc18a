// The master's statistics: the latest cumulative snapshot of every worker, summed exactly, plus its own history.
import { Histogram } from './histogram.ts';
import { HistoryBuffer } from './history.ts';
import { mergeSnapshots } from './merge.ts';
import { currentRate } from './rate.ts';
import { PERCENTILES_TO_REPORT, type EntrySnapshot, type HistoryPoint, type StatsSnapshot } from './types.ts';
import { HistogramWindow } from './window.ts';

interface NodeReport {
  epoch: number;
  seq: number;
  snapshot: StatsSnapshot;
}

/**
 * Keeps each worker's latest report. Reports are cumulative and numbered, so a lost, duplicated or
 * reordered report cannot change the totals: only a higher sequence number of the current epoch
 * replaces the one held. A worker that leaves keeps its last report in the totals.
 * @example
 * ```ts
 * const cluster = new ClusterStats();
 * cluster.update('worker-1', 0, 7, snapshotFromWorker);
 * cluster.snapshot(runner.userCount).total.numRequests;
 * ```
 */
export class ClusterStats {
  private readonly reports = new Map<string, NodeReport>();
  private merged: StatsSnapshot | undefined;
  private readonly history = new HistoryBuffer();
  private readonly window = new HistogramWindow();
  private readonly totalHistogram = new Histogram();
  private started: number;
  /** Reports from an older epoch (before the last reset) are ignored. */
  epoch = 0;
  private readonly now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
    this.started = this.now() / 1000;
  }

  /** Takes a worker's report; returns false when it was stale (older epoch or not newer than the one held). */
  update(nodeId: string, epoch: number, seq: number, snapshot: StatsSnapshot): boolean {
    if (epoch !== this.epoch) return false;
    const held = this.reports.get(nodeId);
    if (held !== undefined && held.seq >= seq) return false;
    const exceptions = snapshot.exceptions.map((x) => ({ ...x, nodes: [nodeId] }));
    this.reports.set(nodeId, { epoch, seq, snapshot: { ...snapshot, exceptions, history: [] } });
    this.merged = undefined;
    return true;
  }

  /** The sequence number held for a worker (−1 when none). */
  seqOf(nodeId: string): number {
    return this.reports.get(nodeId)?.seq ?? -1;
  }

  /** Starts a new epoch: clears every report and the history. Workers are told to reset too. */
  reset(): number {
    this.epoch++;
    this.reports.clear();
    this.merged = undefined;
    this.history.clear();
    this.window.clear();
    this.started = this.now() / 1000;
    return this.epoch;
  }

  private totals(): StatsSnapshot {
    this.merged ??= mergeSnapshots([...this.reports.values()].map((r) => r.snapshot));
    return this.merged;
  }

  /** Records this second's history point from the merged totals (the master calls it once per second). */
  recordHistory(userCount: number): HistoryPoint {
    const total: EntrySnapshot = this.totals().total;
    this.totalHistogram.reset();
    this.totalHistogram.addData(total.histogram);
    this.window.tick(this.totalHistogram);
    const nowMs = this.now();
    const perSecond = (map: Record<number, number>) => (s: number) => map[s] ?? 0;
    const point: HistoryPoint = {
      time: Math.floor(nowMs / 1000),
      userCount,
      currentRps: currentRate(perSecond(total.numReqsPerSec), this.started, nowMs),
      currentFailPerSec: currentRate(perSecond(total.numFailPerSec), this.started, nowMs),
      currentPercentiles: this.window.valuesAtPercentiles(PERCENTILES_TO_REPORT).map((v) =>
        v === null ? null : Math.min(Math.max(v, total.minResponseTime), total.maxResponseTime),
      ),
      totalRequests: total.numRequests,
      totalFailures: total.numFailures,
    };
    this.history.push(point);
    return point;
  }

  /** The exact sum of every worker's latest report, with the master's own history. */
  snapshot(userCount: number): StatsSnapshot {
    const totals = this.totals();
    return { ...totals, time: this.now(), startTime: this.started, userCount, history: this.history.toArray() };
  }
}
