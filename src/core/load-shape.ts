// LoadShape: a cicadafile class whose tick() sets the user count and spawn rate over time.
import type { RunnerControl } from './contracts.ts';

/** What `tick()` returns: the target now, or null to stop the test. */
export interface ShapeTick {
  users: number;
  spawnRate: number;
  /** Only these user classes (by name) from now on. */
  userClasses?: readonly string[];
}

/**
 * Controls the load over time. The runner calls `tick()` about once a second and applies the
 * result whenever it changes; returning `null` stops the test. Only one LoadShape per cicadafile.
 * @example
 * ```ts
 * export class Steps extends LoadShape {
 *   tick() {
 *     const t = this.getRunTime();
 *     if (t > 60) return null;
 *     return { users: 10 * (Math.floor(t / 10) + 1), spawnRate: 10 };
 *   }
 * }
 * ```
 */
export abstract class LoadShape {
  /** A base class that is not itself a shape. Not inherited. */
  static abstract = false;
  /** Set by the runner before the first tick. */
  runner: RunnerControl | undefined = undefined;
  private startedAt = 0;
  private now: () => number = () => performance.now();

  /** @internal Called by the runner when the shape starts. `now` is monotonic ms. */
  attach(runner: RunnerControl, now: () => number): void {
    this.runner = runner;
    this.now = now;
    this.startedAt = now();
  }

  /** Seconds since the shape started (or since `resetTime()`). */
  getRunTime(): number {
    return (this.now() - this.startedAt) / 1000;
  }

  /** Restarts `getRunTime()` from zero. */
  resetTime(): void {
    this.startedAt = this.now();
  }

  /** Users alive now. */
  getCurrentUserCount(): number {
    return this.runner?.userCount ?? 0;
  }

  abstract tick(): ShapeTick | null;
}

export type LoadShapeClass = (new () => LoadShape) & typeof LoadShape;

export function isLoadShapeClass(value: unknown): value is LoadShapeClass {
  return typeof value === 'function' && value.prototype instanceof LoadShape;
}
