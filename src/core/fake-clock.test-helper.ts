// A fake clock and timers for tests: time moves only when the test says so, so nothing sleeps.
import type { Clock, Timers } from './clock.ts';

interface Pending {
  at: number;
  seq: number;
  callback: () => void;
}

/** Lets promise reactions and immediates run, as a real event loop would between timers (no timer is waited for). */
export async function flushMicrotasks(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Clock and timers in one: `advance(ms)` fires the timers that fall due, in time order, letting
 * promise reactions run after each, so code that awaits timers behaves as with real time.
 */
export class FakeClock implements Clock, Timers {
  private time = 0;
  private seq = 0;
  private pending: Pending[] = [];

  now(): number {
    return this.time;
  }

  wallNow(): number {
    return 1_700_000_000_000 + this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const entry: Pending = { at: this.time + Math.max(0, ms), seq: this.seq++, callback };
    this.pending.push(entry);
    return entry;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p !== handle);
  }

  /** Timers not yet fired. */
  get timerCount(): number {
    return this.pending.length;
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.pending.filter((p) => p.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (next === undefined) break;
      this.pending = this.pending.filter((p) => p !== next);
      this.time = next.at;
      next.callback();
      await flushMicrotasks();
    }
    this.time = end;
    await flushMicrotasks();
  }
}
