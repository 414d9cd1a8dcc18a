// Decides which user errors are logged while a run goes: each distinct one at once, repeats as a count every 10 s.

/** One distinct error: where it happened and what it says (numbers folded, so ids do not make every error new). */
interface Seen {
  label: string;
  /** Repeats since the last line about this error. */
  pending: number;
  lastLineAt: number;
}

export interface ErrorDigestOptions {
  /** Monotonic ms. */
  now: () => number;
  /** Where lines go (the run's logger). */
  sink: (line: string) => void;
  /** At most one count line per distinct error per this many ms (default 10 s). */
  windowMs?: number;
  /** Distinct errors remembered (default 500); past it, new ones are still printed once but not counted. */
  maxDistinct?: number;
}

/** A stable key for an error: its place and class, its message with numbers folded. */
export function errorKey(place: string, error: Error): string {
  return `${place}\0${error.name}\0${error.message.replace(/\d+/g, '#')}`;
}

/**
 * Pure and clock-injected: `report` prints the first occurrence of each distinct error with its
 * traceback; repeats are counted and `tick` (call it every second) prints
 * `Shopper.buy: TypeError: x is not a function (17 more in the last 10 s)` at most once a window.
 */
export class ErrorDigest {
  private readonly seen = new Map<string, Seen>();
  private readonly options: Required<ErrorDigestOptions>;

  constructor(options: ErrorDigestOptions) {
    this.options = { windowMs: 10_000, maxDistinct: 500, ...options };
  }

  /** An error raised at `place` (e.g. `Shopper.buy`); `traceback` is printed with its first occurrence. */
  report(place: string, error: Error, traceback: string): void {
    const key = errorKey(place, error);
    const known = this.seen.get(key);
    if (known !== undefined) {
      known.pending++;
      return;
    }
    const label = `${place}: ${error.name}: ${error.message}`;
    if (this.seen.size < this.options.maxDistinct) this.seen.set(key, { label, pending: 0, lastLineAt: this.options.now() });
    this.options.sink(traceback === '' ? label : `${label}\n${traceback}`);
  }

  /** Prints the counts whose window has passed. */
  tick(): void {
    const now = this.options.now();
    for (const seen of this.seen.values()) {
      if (seen.pending > 0 && now - seen.lastLineAt >= this.options.windowMs) this.countLine(seen, now);
    }
  }

  /** Prints every count still pending (the run stopped). */
  flush(): void {
    const now = this.options.now();
    for (const seen of this.seen.values()) if (seen.pending > 0) this.countLine(seen, now);
  }

  private countLine(seen: Seen, now: number): void {
    const seconds = Math.max(1, Math.round((now - seen.lastLineAt) / 1000));
    this.options.sink(`${seen.label} (${seen.pending} more in the last ${seconds} s)`);
    seen.pending = 0;
    seen.lastLineAt = now;
  }
}
