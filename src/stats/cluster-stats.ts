// The master's statistics: the latest cumulative report of every worker, summed exactly and incrementally.
import { StatsEntry } from './entry.ts';
import { checkHistogramData } from './histogram.ts';
import { HistoryBuffer } from './history.ts';
import { mergeErrors, mergeExceptions } from './merge.ts';
import { mergeScenarios } from './scenario-stats.ts';
import { mergeChecks } from './checks.ts';
import { currentRate } from './rate.ts';
import { PERCENTILES_TO_REPORT, type EntrySnapshot, type HistoryPoint, type StatsSnapshot } from './types.ts';
import { sortEntries } from './view.ts';
import { HistogramWindow } from './window.ts';

interface NodeReport {
  seq: number;
  snapshot: StatsSnapshot;
}

/**
 * Keeps each worker's latest report and the running sum of all of them. Reports are cumulative and
 * numbered, so a lost, duplicated or reordered report cannot change the totals: only a higher
 * sequence number of the current epoch replaces the one held, by subtracting the old report and
 * adding the new one. The cost per report is that report's size — never a re-merge of every worker
 * (which stalls a master with hundreds of workers). A worker that leaves keeps its last report.
 * @example
 * ```ts
 * const cluster = new ClusterStats();
 * cluster.update('worker-1', 0, 7, snapshotFromWorker);
 * cluster.snapshot(runner.userCount).total.numRequests;
 * ```
 */
export class ClusterStats {
  private readonly reports = new Map<string, NodeReport>();
  /** method → name → running sum over the held reports. */
  private readonly entries = new Map<string, Map<string, StatsEntry>>();
  private readonly total = new StatsEntry('', 'Aggregated');
  private readonly history = new HistoryBuffer();
  private readonly window = new HistogramWindow();
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
    // Validate the new histograms before touching the sums, so a malformed report changes nothing.
    for (const e of [...snapshot.entries, snapshot.total]) {
      checkHistogramData(e.histogram);
      if (e.correctedHistogram !== undefined) checkHistogramData(e.correctedHistogram);
    }
    if (held !== undefined) this.apply(held.snapshot, -1);
    this.apply(snapshot, +1);
    const exceptions = snapshot.exceptions.map((x) => ({ ...x, nodes: [nodeId] }));
    this.reports.set(nodeId, { seq, snapshot: { ...snapshot, exceptions, history: [] } });
    return true;
  }

  private apply(snapshot: StatsSnapshot, sign: 1 | -1): void {
    for (const e of snapshot.entries) {
      let byName = this.entries.get(e.method);
      if (byName === undefined) this.entries.set(e.method, (byName = new Map<string, StatsEntry>()));
      let entry = byName.get(e.name);
      if (entry === undefined) byName.set(e.name, (entry = new StatsEntry(e.method, e.name)));
      // Histograms were checked in update() before any sum changed.
      if (sign > 0) entry.mergeSnapshot(e, true);
      else entry.unmergeSnapshot(e);
    }
    if (sign > 0) this.total.mergeSnapshot(snapshot.total, true);
    else this.total.unmergeSnapshot(snapshot.total);
  }

  /** Iterations of a scenario that a worker's latest report counts (0 when none). */
  iterationsOf(nodeId: string, scenario: string): number {
    const s = this.reports.get(nodeId)?.snapshot.scenarios?.find((x) => x.name === scenario);
    return s === undefined ? 0 : s.iterations;
  }

  /** The sequence number held for a worker (−1 when none). */
  seqOf(nodeId: string): number {
    return this.reports.get(nodeId)?.seq ?? -1;
  }

  /** Starts a new epoch: clears every report, the sums and the history. Workers are told to reset too. */
  reset(): number {
    this.epoch++;
    this.reports.clear();
    this.entries.clear();
    this.total.reset();
    this.history.clear();
    this.window.clear();
    this.started = this.now() / 1000;
    return this.epoch;
  }

  /** Restarts the start time and history, keeping the epoch (before a first run, when there is nothing to clear). */
  restartClock(): void {
    this.history.clear();
    this.window.clear();
    this.started = this.now() / 1000;
  }

  /** Records this second's history point from the running totals (the master calls it once per second). */
  recordHistory(userCount: number): HistoryPoint {
    const total = this.total;
    this.window.tick(total.histogram);
    const nowMs = this.now();
    const min = total.numRequests > 0 ? total.minResponseTime : 0;
    const point: HistoryPoint = {
      time: Math.floor(nowMs / 1000),
      userCount,
      currentRps: currentRate((s) => total.requestsAt(s), this.started, nowMs),
      currentFailPerSec: currentRate((s) => total.failuresAt(s), this.started, nowMs),
      currentPercentiles: this.window.valuesAtPercentiles(PERCENTILES_TO_REPORT).map((v) => (v === null ? null : Math.min(Math.max(v, min), total.maxResponseTime))),
      totalRequests: total.numRequests,
      totalFailures: total.numFailures,
    };
    this.history.push(point);
    return point;
  }

  /** The exact sum of every worker's latest report, with the master's own history. */
  snapshot(userCount: number): StatsSnapshot {
    const entries: EntrySnapshot[] = [];
    for (const byName of this.entries.values()) for (const e of byName.values()) if (e.numRequests > 0 || e.numFailures > 0) entries.push(e.toSnapshot());
    const reports = [...this.reports.values()].map((r) => r.snapshot);
    return {
      time: this.now(),
      startTime: this.started,
      entries: sortEntries(entries),
      total: this.total.toSnapshot(),
      errors: mergeErrors(reports.map((s) => s.errors)),
      exceptions: mergeExceptions(reports.map((s) => s.exceptions)),
      scenarios: mergeScenarios(reports.map((s) => s.scenarios ?? [])),
      checks: mergeChecks(reports.map((s) => s.checks ?? [])),
      history: this.history.toArray(),
      userCount,
      overflowedNames: reports.reduce((n, s) => n + s.overflowedNames, 0),
    };
  }
}
