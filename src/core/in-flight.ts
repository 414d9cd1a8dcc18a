// The stop contract between runners and protocol clients: how many requests are on the wire, and when to cut them.

/**
 * Counts the requests on the wire in one process, so a stop can say what it waits for. Protocol
 * clients call `enter()` when a request goes out and `leave()` when it has been recorded.
 * @example
 * ```ts
 * inFlight.enter();
 * try { await send(); } finally { inFlight.leave(); }
 * ```
 */
export class InFlight {
  private current = 0;

  get count(): number {
    return this.current;
  }

  enter(): void {
    this.current++;
  }

  leave(): void {
    if (this.current > 0) this.current--;
  }
}

/** The message a request cut by a stop is recorded with (DESIGN.md §3 "Users"). */
export const CANCELLED_AT_STOP = 'cancelled at stop';

/**
 * The error a protocol client records for a request it cut because the run's drain time ran out
 * (or a second Ctrl+C asked for it). Its message is the failure's text in every report.
 */
export class CancelledAtStop extends Error {
  readonly code = 'CANCELLED_AT_STOP';
  constructor() {
    super(CANCELLED_AT_STOP);
    this.name = 'CancelledAtStop';
  }
}
