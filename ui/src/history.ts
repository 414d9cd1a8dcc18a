// The charts' data: history points from /stream, bounded and de-duplicated by `time`.

import type { HistoryPoint } from './types';

/** About an hour at one point per second. */
export const MAX_POINTS = 3600;

function sortedUnique(points: readonly HistoryPoint[]): HistoryPoint[] {
  const byTime = new Map<number, HistoryPoint>();
  for (const p of points) {
    if (typeof p?.time === 'number' && Number.isFinite(p.time)) byTime.set(p.time, p); // last wins
  }
  return [...byTime.values()].sort((a, b) => a.time - b.time);
}

/**
 * Merge the points of one event into what we have. `replace` is set for the first event of a
 * (re)connection, which carries the whole history again: it must replace ours, not double it.
 */
export function mergeHistory(
  current: readonly HistoryPoint[],
  incoming: readonly HistoryPoint[] | undefined,
  replace: boolean,
  max = MAX_POINTS,
): HistoryPoint[] {
  if (replace) return sortedUnique(incoming ?? []).slice(-max);
  if (!incoming || incoming.length === 0) return current as HistoryPoint[];

  const last = current.length > 0 ? current[current.length - 1]!.time : -Infinity;
  // The common case: only newer points, in order. Append without re-sorting everything.
  let inOrder = true;
  let prev = last;
  for (const p of incoming) {
    if (!(p.time > prev)) {
      inOrder = false;
      break;
    }
    prev = p.time;
  }
  const merged = inOrder ? current.concat(incoming) : sortedUnique([...current, ...incoming]);
  return merged.length > max ? merged.slice(-max) : merged;
}
