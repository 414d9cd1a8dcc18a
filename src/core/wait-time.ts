// Wait-time helpers: how long a user waits between tasks. All arguments are in seconds, as in Locust.
import { DefinitionError } from './errors.ts';

/**
 * Returns seconds to wait after a task. `owner` is the User or TaskSet that ran it; `taskStartedAt`
 * and `now` are monotonic milliseconds (for pacing).
 */
export type WaitTime = ((owner: object, taskStartedAt: number, now: number) => number) & {
  /** Pacing waits (`constantPacing`, `constantThroughput`): the interval, ms, at which tasks are meant to start. */
  readonly expectedIntervalMs?: number;
};

function checkSeconds(value: number, what: string): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new DefinitionError(`${what} must be a finite number of seconds ≥ 0, got ${String(value)}`);
  }
}

/**
 * Waits a uniformly random time between `min` and `max` seconds.
 * @example
 * ```ts
 * class Shopper extends HttpUser { waitTime = between(0.5, 2); }
 * ```
 */
export function between(min: number, max: number): WaitTime {
  checkSeconds(min, 'between(min, …)');
  checkSeconds(max, 'between(…, max)');
  if (max < min) throw new DefinitionError(`between(${min}, ${max}): max must be ≥ min`);
  const span = max - min;
  return () => min + Math.random() * span;
}

/**
 * Waits the same time after every task.
 * @example
 * ```ts
 * class Poller extends HttpUser { waitTime = constant(1); }
 * ```
 */
export function constant(seconds: number): WaitTime {
  checkSeconds(seconds, 'constant(seconds)');
  return () => seconds;
}

/**
 * Makes each task start `seconds` after the previous one started: the wait is `seconds` minus the
 * task's own run time, never negative. Per user.
 * @example
 * ```ts
 * class Ticker extends HttpUser { waitTime = constantPacing(2); } // one task every 2 s per user
 * ```
 */
export function constantPacing(seconds: number): WaitTime {
  checkSeconds(seconds, 'constantPacing(seconds)');
  const wait = (_owner: object, taskStartedAt: number, now: number): number => Math.max(0, seconds - (now - taskStartedAt) / 1000);
  return Object.assign(wait, { expectedIntervalMs: seconds * 1000 });
}

/**
 * Runs at most `tasksPerSecond` tasks per second per user (pacing of 1 / rate seconds).
 * @example
 * ```ts
 * class Steady extends HttpUser { waitTime = constantThroughput(5); } // ≤ 5 tasks/s per user
 * ```
 */
export function constantThroughput(tasksPerSecond: number): WaitTime {
  if (!Number.isFinite(tasksPerSecond) || tasksPerSecond <= 0) {
    throw new DefinitionError(`constantThroughput(rate) needs a rate > 0, got ${String(tasksPerSecond)}`);
  }
  return constantPacing(1 / tasksPerSecond);
}
