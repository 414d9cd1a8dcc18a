// Sums the cumulative snapshots of several processes (a master's workers) into one snapshot.
import { StatsEntry } from './entry.ts';
import type { ErrorSnapshot, ExceptionSnapshot, HistoryPoint, StatsSnapshot } from './types.ts';
import { sortEntries } from './view.ts';

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sums error rows by (method, name, message). */
export function mergeErrors(lists: ErrorSnapshot[][]): ErrorSnapshot[] {
  const rows = new Map<string, ErrorSnapshot>();
  for (const list of lists) {
    for (const e of list) {
      const key = JSON.stringify([e.method, e.name, e.error]); // unambiguous whatever the strings hold
      const row = rows.get(key);
      if (row === undefined) rows.set(key, { ...e });
      else {
        row.occurrences += e.occurrences;
        row.firstSeen = Math.min(row.firstSeen, e.firstSeen);
        row.lastSeen = Math.max(row.lastSeen, e.lastSeen);
      }
    }
  }
  return [...rows.values()].sort((a, b) => compare(a.name, b.name) || compare(a.method, b.method) || compare(a.error, b.error));
}

/** Sums exception rows by traceback, with their nodes unioned. */
export function mergeExceptions(lists: ExceptionSnapshot[][]): ExceptionSnapshot[] {
  const rows = new Map<string, { count: number; msg: string; nodes: Set<string> }>();
  for (const list of lists) {
    for (const e of list) {
      const row = rows.get(e.traceback);
      if (row === undefined) rows.set(e.traceback, { count: e.count, msg: e.msg, nodes: new Set(e.nodes) });
      else {
        row.count += e.count;
        if (e.msg < row.msg) row.msg = e.msg; // any fixed choice keeps merging order-independent
        for (const node of e.nodes) row.nodes.add(node);
      }
    }
  }
  return [...rows.entries()]
    .sort(([a], [b]) => compare(a, b))
    .map(([traceback, r]) => ({ count: r.count, msg: r.msg, traceback, nodes: [...r.nodes].sort() }));
}

/**
 * Points with the same `time` (epoch second) are combined: user counts, rates and cumulative
 * totals add up; each current percentile takes the largest of the nodes' values, which is an upper
 * bound of the merged percentile (per-node windows cannot be merged exactly from percentiles alone).
 * Meaningful when every node records on the same seconds; a master usually keeps its own history.
 */
function mergeHistory(lists: HistoryPoint[][]): HistoryPoint[] {
  const byTime = new Map<number, HistoryPoint>();
  for (const list of lists) {
    for (const p of list) {
      const acc = byTime.get(p.time);
      if (acc === undefined) {
        byTime.set(p.time, { ...p, currentPercentiles: [...p.currentPercentiles] });
        continue;
      }
      acc.userCount += p.userCount;
      acc.currentRps += p.currentRps;
      acc.currentFailPerSec += p.currentFailPerSec;
      acc.totalRequests += p.totalRequests;
      acc.totalFailures += p.totalFailures;
      const len = Math.max(acc.currentPercentiles.length, p.currentPercentiles.length);
      for (let i = 0; i < len; i++) {
        const a = acc.currentPercentiles[i] ?? null;
        const b = p.currentPercentiles[i] ?? null;
        acc.currentPercentiles[i] = a === null ? b : b === null ? a : Math.max(a, b);
      }
    }
  }
  return [...byTime.values()].sort((a, b) => a.time - b.time);
}

/**
 * The sum of several processes' cumulative snapshots. Entries, totals and histograms add exactly
 * (the same as one recorder fed every process's requests), errors add per (method, name, error),
 * exceptions per traceback with their nodes united. The result does not depend on the order of
 * `snapshots`: entries come in Locust order, errors and exceptions sorted. Throws StatsError if a
 * snapshot holds malformed histogram data.
 * @example
 * ```ts
 * const totals = mergeSnapshots([...latestByWorker.values()]);
 * ```
 */
export function mergeSnapshots(snapshots: readonly StatsSnapshot[]): StatsSnapshot {
  const entries = new Map<string, StatsEntry>();
  const total = new StatsEntry('', 'Aggregated');
  let time = 0;
  let startTime = 0;
  let userCount = 0;
  let overflowedNames = 0;
  for (const s of snapshots) {
    time = Math.max(time, s.time);
    if (s.startTime > 0 && (startTime === 0 || s.startTime < startTime)) startTime = s.startTime;
    userCount += s.userCount;
    overflowedNames += s.overflowedNames;
    total.mergeSnapshot(s.total);
    for (const e of s.entries) {
      const key = JSON.stringify([e.method, e.name]);
      let entry = entries.get(key);
      if (entry === undefined) entries.set(key, (entry = new StatsEntry(e.method, e.name)));
      entry.mergeSnapshot(e);
    }
  }
  return {
    time,
    startTime,
    entries: sortEntries([...entries.values()].map((e) => e.toSnapshot())),
    total: total.toSnapshot(),
    errors: mergeErrors(snapshots.map((s) => s.errors)),
    exceptions: mergeExceptions(snapshots.map((s) => s.exceptions)),
    history: mergeHistory(snapshots.map((s) => s.history)),
    userCount,
    overflowedNames,
  };
}
