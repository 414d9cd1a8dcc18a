// The "current" (sliding-window) rate of requests or failures per second, as Locust computes it.

/** Seconds averaged for current rates and current percentiles (Locust's 10-second window). */
export const CURRENT_WINDOW_SECONDS = 10;
/** The newest seconds are left out of current rates: they are still filling (and workers report late). */
export const CURRENT_LAG_SECONDS = 2;
/** How many per-second counts an entry keeps: enough for the window, the lag and some slack. */
export const PER_SECOND_SLOTS = 20;

/**
 * Current rate per second from per-epoch-second counts.
 *
 * With `nowS = floor(now)` and `startS = floor(startSec)`, the window is the whole seconds
 * [max(nowS − 12, ceil(startSec)), nowS − 2): the mean count over the (up to) 10 seconds ending 2 seconds
 * ago, like Locust's `current_rps`, but measured from now rather than from the latest request, so
 * the rate falls to 0 when requests stop.
 * A run too young for that window (under about 3 seconds) uses everything it has instead:
 * counts of seconds [startS, nowS] ÷ max(1, now − startSec), so it is neither 0 nor divided by 10.
 * Returns 0 when `startSec` is 0 (nothing recorded yet).
 *
 * @param countAt count for one epoch second (0 when unknown)
 * @param startSec epoch seconds the counting started
 * @param nowMs epoch milliseconds now
 */
export function currentRate(countAt: (epochSecond: number) => number, startSec: number, nowMs: number): number {
  if (!(startSec > 0)) return 0;
  const nowSec = nowMs / 1000;
  const nowS = Math.floor(nowSec);
  const startS = Math.floor(startSec);
  // The first second counts only if the run began at its start: a partial second would drag the mean down
  // (a dip in the charts right after a start or a reset).
  const firstWhole = Math.ceil(startSec);
  const from = Math.max(nowS - CURRENT_LAG_SECONDS - CURRENT_WINDOW_SECONDS, firstWhole);
  const to = nowS - CURRENT_LAG_SECONDS;
  let sum = 0;
  if (to > from) {
    for (let s = from; s < to; s++) sum += countAt(s);
    return sum / (to - from);
  }
  for (let s = startS; s <= nowS; s++) sum += countAt(s);
  return sum / Math.max(1, nowSec - startSec);
}
