// Bounded per-second history of a run: full resolution recently, thinned to one point a minute before that.
import type { HistoryPoint } from './types.ts';

export interface HistoryLimits {
  /** Points kept at full (1 s) resolution: 6 hours by default. */
  recent?: number;
  /** Older points keep one per this many seconds: 60 by default. */
  olderStep?: number;
  /** Older (thinned) points kept at most: 7 days at one a minute by default; the oldest are dropped. */
  older?: number;
}

/**
 * History points, one per epoch second. A point for the same second as the latest replaces it
 * (e.g. the runner's final point right after a regular one). At most `recent + older` points,
 * about 31,700 by default (a few MB), however long the run.
 */
export class HistoryBuffer {
  private readonly recentLimit: number;
  private readonly olderStep: number;
  private readonly olderLimit: number;
  private recent: HistoryPoint[] = [];
  private older: HistoryPoint[] = [];

  constructor(limits: HistoryLimits = {}) {
    this.recentLimit = Math.max(1, limits.recent ?? 6 * 3600);
    this.olderStep = Math.max(1, limits.olderStep ?? 60);
    this.olderLimit = Math.max(0, limits.older ?? 7 * 24 * 60);
  }

  push(point: HistoryPoint): void {
    const last = this.recent.at(-1);
    if (last !== undefined && last.time === point.time) {
      this.recent[this.recent.length - 1] = point;
      return;
    }
    this.recent.push(point);
    if (this.recent.length <= this.recentLimit) return;
    const aged = this.recent.shift()!;
    const lastOlder = this.older.at(-1);
    if (this.olderLimit > 0 && (lastOlder === undefined || aged.time - lastOlder.time >= this.olderStep)) {
      this.older.push(aged);
      if (this.older.length > this.olderLimit) this.older.shift();
    }
  }

  get length(): number {
    return this.older.length + this.recent.length;
  }

  /** Every kept point, oldest first (a new array; the points themselves are shared, treat them as read-only). */
  toArray(): HistoryPoint[] {
    return this.older.concat(this.recent);
  }

  clear(): void {
    this.recent = [];
    this.older = [];
  }
}
