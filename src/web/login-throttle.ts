// Login throttling per user name: an exponential backoff after failed logins, from whatever address they come (on top of the per-address rate limit).

export interface LoginBackoff {
  /** Failures in a row a name may have before it must wait (typos should cost nothing). */
  freeFailures: number;
  /** The first wait (ms); each further failure doubles it. */
  baseMs: number;
  /** The longest wait (ms). */
  maxMs: number;
}

/**
 * 3 free, then 1 s, 2 s, 4 s … up to 5 min: a guesser gets about a dozen tries an hour at one name, however
 * many addresses it has, while a person who mistyped waits seconds. The lock is not a lockout: whoever
 * keeps failing a name delays its owner by at most 5 minutes at a time.
 */
export const DEFAULT_LOGIN_BACKOFF: LoginBackoff = { freeFailures: 3, baseMs: 1000, maxMs: 5 * 60_000 };

/** A name with no failure for this long starts afresh. */
const FORGET_MS = 15 * 60_000;
/** Names tracked at most (the oldest is dropped): memory stays bounded whatever names a client makes up. */
const MAX_NAMES = 10_000;

interface Failures {
  count: number;
  lockedUntil: number;
  lastAt: number;
}

export class LoginThrottle {
  private readonly names = new Map<string, Failures>();

  constructor(
    private readonly backoff: LoginBackoff = DEFAULT_LOGIN_BACKOFF,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Called before the password is checked. Returns the ms `name` must still wait (refuse the attempt
   * without checking: a locked name must not tell a right guess from a wrong one), or 0 — then the attempt
   * is counted as a failure until `succeeded` says otherwise. Counting up front is what stops a burst of
   * parallel guesses, which would all pass a check made only after their (slow) password hashes.
   */
  attempt(name: string): number {
    const t = this.now();
    let entry = this.names.get(name);
    if (entry && t - entry.lastAt > Math.max(FORGET_MS, 2 * this.backoff.maxMs)) entry = undefined;
    if (entry && t < entry.lockedUntil) return entry.lockedUntil - t;
    entry ??= { count: 0, lockedUntil: 0, lastAt: t };
    entry.count += 1;
    entry.lastAt = t;
    const over = entry.count - this.backoff.freeFailures;
    if (over > 0) entry.lockedUntil = t + Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** Math.min(over - 1, 30));
    // Re-inserted so that the map's order is least recently failed first, the one dropped when full.
    this.names.delete(name);
    if (this.names.size >= MAX_NAMES) {
      const oldest = this.names.keys().next().value;
      if (oldest !== undefined) this.names.delete(oldest);
    }
    this.names.set(name, entry);
    return 0;
  }

  /** The failures of `name` in a row so far (for the log). */
  failures(name: string): number {
    return this.names.get(name)?.count ?? 0;
  }

  /** The ms `name` must still wait before its next attempt (0: none), without counting anything. */
  wait(name: string): number {
    return Math.max(0, (this.names.get(name)?.lockedUntil ?? 0) - this.now());
  }

  /** A successful login: the name starts afresh. */
  succeeded(name: string): void {
    this.names.delete(name);
  }
}
