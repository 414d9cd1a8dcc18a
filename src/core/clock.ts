// Time sources, injected so pure code (dispatch, shapes, stats windows) can be tested without real timers.

/** A source of time. `now` is monotonic milliseconds; `wallNow` is epoch milliseconds. */
export interface Clock {
  now(): number;
  wallNow(): number;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
};

/** Timer functions, injected beside a Clock so code that waits can be driven by a fake clock in tests. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The longest wait a Node timer holds, ms (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Sleeps `ms` milliseconds on `timers` (the system's by default; a fake clock in tests), or less if
 * `signal` aborts. Resolves `true` when the full time passed, `false` when it was cut short. Never
 * rejects. Past what a timer can hold, only the signal ends it.
 */
export function sleep(ms: number, signal?: AbortSignal, timers: Timers = systemTimers): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  if (!(ms <= MAX_TIMER_MS)) return new Promise((resolve) => signal?.addEventListener('abort', () => resolve(false), { once: true }));
  return new Promise((resolve) => {
    const onAbort = (): void => {
      timers.clearTimeout(handle);
      resolve(false);
    };
    const handle = timers.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Resolves true when `promise` settles within `ms`, false when the time runs out or `signal` aborts
 * first. Leaves no timer or listener behind.
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number, timers: Timers = systemTimers, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false;
  let handle: unknown;
  let onAbort: (() => void) | undefined;
  const cut = new Promise<false>((resolve) => {
    handle = timers.setTimeout(() => resolve(false), Math.max(0, ms));
    onAbort = () => resolve(false);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise.then(() => true as const, () => true as const), cut]);
  } finally {
    timers.clearTimeout(handle);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  }
}

/** Calls `callback` every `ms` on `timers` until the returned function is called. */
export function repeat(timers: Timers, ms: number, callback: () => void): () => void {
  let handle: unknown;
  let live = true;
  const schedule = (): void => {
    handle = timers.setTimeout(() => {
      if (!live) return;
      schedule();
      callback();
    }, ms);
  };
  schedule();
  return () => {
    live = false;
    timers.clearTimeout(handle);
  };
}
