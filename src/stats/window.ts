// Current-window percentiles: the samples a cumulative histogram gained over its last N ticks.
import { Histogram } from './histogram.ts';
import { CURRENT_WINDOW_SECONDS } from './rate.ts';
import type { HistogramData } from './types.ts';

/**
 * Follows one cumulative histogram, ticked once per second. Each tick stores the sparse growth
 * since the previous tick in a ring of `ticks` deltas and keeps their sum, so the window holds
 * cumulative(now) − cumulative(`ticks` ticks ago) — Locust's "current" response times — at the
 * cost of two histogram copies plus the sparse deltas, instead of one full copy per second.
 * If the followed histogram was reset (it lost samples), the window starts over.
 * @example
 * ```ts
 * const window = new HistogramWindow();
 * setInterval(() => { window.tick(entry.histogram); }, 1000);
 * window.valuesAtPercentiles([0.5, 0.95]);
 * ```
 */
export class HistogramWindow {
  readonly ticks: number;
  private readonly previous = new Histogram();
  private readonly sum = new Histogram();
  private readonly deltas: (HistogramData | undefined)[];
  private head = 0;

  constructor(ticks: number = CURRENT_WINDOW_SECONDS) {
    this.ticks = Math.max(1, Math.floor(ticks));
    this.deltas = new Array<HistogramData | undefined>(this.ticks).fill(undefined);
  }

  /** Takes in what `cumulative` gained since the last tick and drops what is older than the window. */
  tick(cumulative: Histogram): void {
    let delta: HistogramData;
    if (cumulative.count < this.previous.count) {
      this.clear();
      delta = cumulative.toData();
    } else {
      try {
        delta = cumulative.deltaSince(this.previous);
      } catch {
        // Reset and refilled past its old count between two ticks: start over from what it holds.
        this.clear();
        delta = cumulative.toData();
      }
    }
    const expired = this.deltas[this.head];
    if (expired !== undefined) this.sum.subtractData(expired);
    this.deltas[this.head] = delta;
    this.head = (this.head + 1) % this.ticks;
    this.sum.addData(delta);
    this.previous.addData(delta);
  }

  /** Samples in the window. */
  get count(): number {
    return this.sum.count;
  }

  /** Values (ms) at quantiles over the window, aligned with `ps`; null each when the window is empty. */
  valuesAtPercentiles(ps: readonly number[]): (number | null)[] {
    return this.sum.valuesAtPercentiles(ps);
  }

  clear(): void {
    this.previous.reset();
    this.sum.reset();
    this.deltas.fill(undefined);
    this.head = 0;
  }
}
