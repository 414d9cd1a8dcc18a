// Decides which user errors are logged while a run goes: each distinct one at once, repeats as a count every 10 s.
import { normaliseErrorMessage } from './failures.ts';

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
  /**
   * Distinct errors remembered (default 500). Past it, each further kind is not printed but counted on one
   * `other errors: …` line, so a message that embeds something new every time cannot flood the console.
   */
  maxDistinct?: number;
}

/** What the errors beyond `maxDistinct` are counted as. */
export const OTHER_ERRORS_LABEL = 'other errors';

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
/** Hex ids (`5f2b9c1e…`): 8 or more hex characters with a digit among them, so plain words stay as they are. */
const HEX_ID = /\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi;

/**
 * A stable key for an error: its place and class, and its message with addresses masked as the exceptions
 * table does (`0x7f…` → `0x....`), then UUIDs, hex ids and numbers folded, so `order 17` and `order 18` are one kind.
 */
export function errorKey(place: string, error: Error): string {
  const message = normaliseErrorMessage(error.message).replace(UUID, '<id>').replace(HEX_ID, '<id>').replace(/\d+/g, '#');
  return `${place}\0${error.name}\0${message}`;
}

/**
 * Pure and clock-injected: `report` prints the first occurrence of each distinct error with its
 * traceback; repeats are counted and `tick` (call it every second) prints
 * `Shopper.buy: TypeError: x is not a function (17 more in the last 10 s)` at most once a window.
 */
export class ErrorDigest {
  private readonly seen = new Map<string, Seen>();
  private readonly options: Required<ErrorDigestOptions>;
  /** Errors past `maxDistinct`, created at the first of them. */
  private other: Seen | undefined;

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
    if (this.seen.size >= this.options.maxDistinct) {
      this.other ??= { label: OTHER_ERRORS_LABEL, pending: 0, lastLineAt: this.options.now() };
      this.other.pending++;
      return;
    }
    const label = `${place}: ${error.name}: ${error.message}`;
    this.seen.set(key, { label, pending: 0, lastLineAt: this.options.now() });
    this.options.sink(traceback === '' ? label : `${label}\n${traceback}`);
  }

  private *rows(): Iterable<Seen> {
    yield* this.seen.values();
    if (this.other !== undefined) yield this.other;
  }

  /** Prints the counts whose window has passed. */
  tick(): void {
    const now = this.options.now();
    for (const seen of this.rows()) {
      if (seen.pending > 0 && now - seen.lastLineAt >= this.options.windowMs) this.countLine(seen, now);
    }
  }

  /** Prints every count still pending (the run stopped). */
  flush(): void {
    const now = this.options.now();
    for (const seen of this.rows()) if (seen.pending > 0) this.countLine(seen, now);
  }

  private countLine(seen: Seen, now: number): void {
    const seconds = Math.max(1, Math.round((now - seen.lastLineAt) / 1000));
    this.options.sink(
      seen === this.other
        ? `${OTHER_ERRORS_LABEL}: ${seen.pending} in the last ${seconds} s, of kinds not logged one by one (already ${this.options.maxDistinct} distinct errors)`
        : `${seen.label} (${seen.pending} more in the last ${seconds} s)`,
    );
    seen.pending = 0;
    seen.lastLineAt = now;
  }
}
