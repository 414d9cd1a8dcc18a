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

/**
 * Sleeps `ms` milliseconds, or less if `signal` aborts. Resolves `true` when the full time passed,
 * `false` when it was cut short. Never rejects.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
