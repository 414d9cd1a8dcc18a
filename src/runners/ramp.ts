// The ramp both runners follow: one user at once, then `rate` users per second, up or down.

/** A ramp from `from` users to `to` users at `rate` users/s, started at `startedAt` (monotonic ms). */
export interface Ramp {
  from: number;
  to: number;
  rate: number;
  startedAt: number;
}

/** Users the ramp has reached at monotonic time `now`: the n-th change happens at (n−1)/rate seconds. */
export function rampPosition(ramp: Ramp, now: number): number {
  const moved = Math.floor(((now - ramp.startedAt) / 1000) * ramp.rate) + 1;
  return ramp.to >= ramp.from ? Math.min(ramp.to, ramp.from + moved) : Math.max(ramp.to, ramp.from - moved);
}

/** How often a ramp is stepped: once per user at slow rates, at most every 10 ms at fast ones, at least once a second. */
export function rampStepMs(rate: number): number {
  return Math.min(1000, Math.max(10, 1000 / rate));
}
