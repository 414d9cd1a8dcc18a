// The master's statistics: the latest cumulative report of every worker, checked, then summed exactly and incrementally.
import { StatsEntry } from './entry.ts';
import { HistoryBuffer } from './history.ts';
import { mergeErrors, mergeExceptions } from './merge.ts';
import { mergeScenarios } from './scenario-stats.ts';
import { mergeChecks } from './checks.ts';
import { currentRate } from './rate.ts';
import { checkSnapshot, largestCounter, type ReportViolation } from './report-checks.ts';
import { AGGREGATED_METHOD, AGGREGATED_NAME, OTHER_NAME } from './request-stats.ts';
import { PERCENTILES_TO_REPORT, type EntrySnapshot, type HistoryPoint, type StatsSnapshot } from './types.ts';
import { sortEntries } from './view.ts';
import { HistogramWindow } from './window.ts';

/** Distinct request names the master keeps: a worker's default cap (RequestStats' `maxNames`), so the views agree. */
export const MAX_CLUSTER_NAMES = 500;
/**
 * Distinct methods the master keeps; a new method beyond them is grouped as `(other)` `(other)`. Each method's
 * `(other)` entry is outside the name cap (as on a worker), so without this bound methods would be the way around it.
 */
export const MAX_CLUSTER_METHODS = 100;

interface NodeReport {
  seq: number;
  snapshot: StatsSnapshot;
  /**
   * What it added to each entry of the sums, one part per entry: a report of 20,000 names the cap groups holds
   * one part per `(other)`, not 20,000 entries (the report's own entries are not kept). Subtracting the part takes
   * back exactly what its entries added: counts, µs and buckets add up; per-second counts too, but for seconds 20 s
   * or more behind the part's newest, which the sums' own ring has pushed out of every view already.
   */
  parts: { target: StatsEntry; added: EntrySnapshot }[];
  /** Its largest scenario, check or exception counter (see `largestCounter`). */
  largestCounter: number;
  /** Its requests the master's name cap grouped as `(other)` (the worker's own grouping is in `overflowedNames`). */
  folded: number;
}

/** What `update` did with a report. */
export type UpdateResult =
  /** `overflowName`: the first name the master's cap grouped as `(other)`, reported once per ClusterStats. */
  | { status: 'applied'; overflowName?: string }
  /** An older epoch, or a sequence number not newer than the one held: ignored, as reports are cumulative. */
  | { status: 'stale' }
  /** A number in it is impossible (report-checks.ts): nothing changed, the worker's previous report still counts. */
  | { status: 'refused'; violation: ReportViolation };

export interface ClusterStatsOptions {
  /** Wall clock, epoch ms (injected by tests). Default `Date.now`. */
  now?: () => number;
  /** Distinct request names kept (default MAX_CLUSTER_NAMES); later new names are grouped as `(other)` per method. */
  maxNames?: number;
}

const STALE: UpdateResult = { status: 'stale' };

/**
 * Keeps each worker's latest report and the running sum of all of them. Reports are cumulative and
 * numbered, so a lost, duplicated or reordered report cannot change the totals: only a higher
 * sequence number of the current epoch replaces the one held, by subtracting the old report and
 * adding the new one. The cost per report is that report's size — never a re-merge of every worker
 * (which stalls a master with hundreds of workers). A worker that leaves keeps its last report.
 *
 * Memory stays bounded whatever the workers send: a report is checked before it touches anything, names are
 * capped as on a worker, and an entry whose requests all belonged to replaced reports is dropped.
 * @example
 * ```ts
 * const cluster = new ClusterStats();
 * const result = cluster.update('worker-1', 0, 7, snapshotFromWorker);
 * if (result.status === 'refused') logger.warning(result.violation.detail);
 * cluster.snapshot(runner.userCount).total.numRequests;
 * ```
 */
export class ClusterStats {
  private readonly reports = new Map<string, NodeReport>();
  /** method → name → running sum over the held reports. Invariant: every entry in it has requests, or is in `emptied`. */
  private readonly entries = new Map<string, Map<string, StatsEntry>>();
  /** Entries in `entries` not named `(other)`: at most `maxNames`. */
  private distinctNames = 0;
  /** Entries a replaced report left without requests: reused if the new report has their names, dropped otherwise. */
  private emptied: StatsEntry[] = [];
  private overflowReported = false;
  private overflowName: string | undefined;
  /** Sum of every held report's largest counter: under 2^53, every merged scenario/check/exception counter is exact. */
  private counterLoad = 0;
  /** Distinct request names kept (see ClusterStatsOptions). */
  readonly maxNames: number;
  private readonly total = new StatsEntry(AGGREGATED_METHOD, AGGREGATED_NAME);
  private readonly history = new HistoryBuffer();
  private readonly window = new HistogramWindow();
  private started: number;
  /** Reports from an older epoch (before the last reset) are ignored. */
  epoch = 0;
  private readonly now: () => number;

  constructor(options: ClusterStatsOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxNames = Math.max(1, options.maxNames ?? MAX_CLUSTER_NAMES);
    this.started = this.now() / 1000;
  }

  /** Takes a worker's report if it is newer than the one held and every number in it is possible. */
  update(nodeId: string, epoch: number, seq: number, snapshot: StatsSnapshot): UpdateResult {
    if (epoch !== this.epoch) return STALE;
    const held = this.reports.get(nodeId);
    if (held !== undefined && held.seq >= seq) return STALE;
    // Everything is checked before any sum changes, so a refused report changes nothing.
    const largest = largestCounter(snapshot);
    const violation = checkSnapshot(snapshot, this.now()) ?? this.checkSums(held, snapshot, largest);
    if (violation !== undefined) return { status: 'refused', violation };
    if (held !== undefined) this.subtract(held);
    const { parts, folded } = this.add(snapshot.entries);
    this.total.mergeSnapshot(snapshot.total, true);
    for (const e of this.emptied) this.dropIfEmpty(e);
    this.emptied = [];
    this.counterLoad += largest - (held?.largestCounter ?? 0);
    const exceptions = snapshot.exceptions.map((x) => ({ ...x, nodes: [nodeId] }));
    this.reports.set(nodeId, { seq, snapshot: { ...snapshot, entries: [], exceptions, history: [] }, parts, largestCounter: largest, folded });
    const overflowName = this.overflowName;
    this.overflowName = undefined;
    return overflowName === undefined ? { status: 'applied' } : { status: 'applied', overflowName };
  }

  /** The cluster's totals with this report in place of the held one must stay exact (under 2^53). */
  private checkSums(held: NodeReport | undefined, snapshot: StatsSnapshot, largest: number): ReportViolation | undefined {
    const before = held?.snapshot.total;
    const t = snapshot.total;
    const after = (now: number, old: number | undefined, next: number): number => now - (old ?? 0) + next;
    const unsafe = after(this.total.numRequests, before?.numRequests, t.numRequests) > Number.MAX_SAFE_INTEGER
      || after(this.total.totalContentLength, before?.totalContentLength, t.totalContentLength) > Number.MAX_SAFE_INTEGER
      || after(this.total.totalResponseTime, before?.totalResponseTime, t.totalResponseTime) * 1000 > Number.MAX_SAFE_INTEGER
      || after(this.counterLoad, held?.largestCounter, largest) > Number.MAX_SAFE_INTEGER;
    return unsafe ? { rule: 'sum', detail: "with it, the cluster's totals would pass 2^53 (no longer exact)" } : undefined;
  }

  private subtract(held: NodeReport): void {
    for (const { target, added } of held.parts) {
      // Checked when it was added, so no re-validation is needed.
      target.unmergeSnapshot(added);
      if (target.numRequests === 0) this.emptied.push(target);
    }
    this.total.unmergeSnapshot(held.snapshot.total);
  }

  /**
   * Adds a report's checked entries where they belong, each at once (so `hasRoom` never drops an entry this report
   * is about to fill). Entries without requests hold only zeros (checked) and are added nowhere. Returns the parts
   * to subtract later and how many requests the master's cap grouped.
   */
  private add(entries: readonly EntrySnapshot[]): { parts: NodeReport['parts']; folded: number } {
    const byTarget = new Map<StatsEntry, EntrySnapshot | StatsEntry>();
    let folded = 0;
    for (const e of entries) {
      if (e.numRequests === 0) continue;
      const target = this.entryFor(e.method, e.name);
      target.mergeSnapshot(e, true);
      if (target.name === OTHER_NAME && e.name !== OTHER_NAME) folded += e.numRequests;
      const part = byTarget.get(target);
      if (part === undefined) byTarget.set(target, e);
      else if (part instanceof StatsEntry) part.mergeSnapshot(e, true);
      else {
        const sum = new StatsEntry(target.method, target.name);
        sum.mergeSnapshot(part, true);
        sum.mergeSnapshot(e, true);
        byTarget.set(target, sum);
      }
    }
    const parts = [...byTarget].map(([target, part]) => ({ target, added: part instanceof StatsEntry ? part.toSnapshot() : part }));
    return { parts, folded };
  }

  /** The entry for (method, name): the existing one, a new one while the caps allow, else its method's `(other)`. */
  private entryFor(method: string, name: string): StatsEntry {
    const found = this.entries.get(method)?.get(name);
    if (found !== undefined) return found;
    if (!this.entries.has(method) && this.entries.size >= MAX_CLUSTER_METHODS) return this.other(OTHER_NAME, `${method} ${name}`);
    if (name === OTHER_NAME) return this.other(method, undefined);
    if (!this.hasRoom()) return this.other(method, name);
    this.distinctNames++;
    return this.create(method, name);
  }

  /** The `(other)` entry of `method`; `grouped` names what the master groups there (a worker's own `(other)` is not news). */
  private other(method: string, grouped: string | undefined): StatsEntry {
    if (grouped !== undefined && !this.overflowReported) {
      this.overflowReported = true;
      this.overflowName = grouped;
    }
    return this.entries.get(method)?.get(OTHER_NAME) ?? this.create(method, OTHER_NAME);
  }

  /** True when a new name fits, after dropping, if need be, entries a replaced report left empty. */
  private hasRoom(): boolean {
    while (this.distinctNames >= this.maxNames) {
      const e = this.emptied.pop();
      if (e === undefined) return false;
      this.dropIfEmpty(e);
    }
    return true;
  }

  private create(method: string, name: string): StatsEntry {
    let byName = this.entries.get(method);
    if (byName === undefined) this.entries.set(method, (byName = new Map<string, StatsEntry>()));
    const entry = new StatsEntry(method, name);
    byName.set(name, entry);
    return entry;
  }

  /**
   * Drops an entry no held report adds to any more. Every part adds at least one request to its entry (entries
   * without requests are added nowhere), so an entry without requests has no part of any report left in it.
   */
  private dropIfEmpty(entry: StatsEntry): void {
    const byName = this.entries.get(entry.method);
    if (entry.numRequests !== 0 || byName?.get(entry.name) !== entry) return;
    byName.delete(entry.name);
    if (entry.name !== OTHER_NAME) this.distinctNames--;
    if (byName.size === 0) this.entries.delete(entry.method);
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
    this.distinctNames = 0;
    this.emptied = [];
    this.counterLoad = 0;
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
    const held = [...this.reports.values()];
    const reports = held.map((r) => r.snapshot);
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
      overflowedNames: held.reduce((n, r) => n + r.snapshot.overflowedNames + r.folded, 0),
    };
  }
}
