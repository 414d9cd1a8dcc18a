// Failure and exception tables: errors keyed by (method, name, message), exceptions by stack; both capped.
import type { ErrorSnapshot, ExceptionSnapshot } from './types.ts';

/** Message that distinct errors beyond the cap are grouped under (per method and name). */
export const OTHER_ERRORS = '(other errors)';
/** Traceback that distinct exceptions beyond the cap are grouped under. */
export const OTHER_EXCEPTIONS = '(other exceptions)';

const HEX_ADDRESS = /0x[0-9a-fA-F]+/g;

/**
 * Masks memory addresses (`0x7f3a…` → `0x....`) so the same error from different objects is one
 * row, as Locust does. Protocols already normalise their messages (`HTTP 503`, `ECONNREFUSED`).
 */
export function normaliseErrorMessage(message: string): string {
  return message.includes('0x') ? message.replace(HEX_ADDRESS, '0x....') : message;
}

/** Errors by method → name → normalised message. Beyond `limit` distinct rows, new messages are grouped. */
export class ErrorTable {
  private readonly limit: number;
  private readonly byMethod = new Map<string, Map<string, Map<string, ErrorSnapshot>>>();
  private distinct = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  log(method: string, name: string, message: string, nowSec: number): void {
    let byName = this.byMethod.get(method);
    if (byName === undefined) this.byMethod.set(method, (byName = new Map<string, Map<string, ErrorSnapshot>>()));
    let byMessage = byName.get(name);
    if (byMessage === undefined) byName.set(name, (byMessage = new Map<string, ErrorSnapshot>()));
    let error = normaliseErrorMessage(message);
    let row = byMessage.get(error);
    if (row === undefined && this.distinct >= this.limit) {
      error = OTHER_ERRORS;
      row = byMessage.get(error);
    }
    if (row === undefined) {
      byMessage.set(error, { method, name, error, occurrences: 1, firstSeen: nowSec, lastSeen: nowSec });
      if (error !== OTHER_ERRORS) this.distinct++;
      return;
    }
    row.occurrences += 1;
    if (nowSec > row.lastSeen) row.lastSeen = nowSec;
  }

  /** Copies of every row, in first-seen insertion order. */
  toSnapshot(): ErrorSnapshot[] {
    const out: ErrorSnapshot[] = [];
    for (const byName of this.byMethod.values()) {
      for (const byMessage of byName.values()) for (const row of byMessage.values()) out.push({ ...row });
    }
    return out;
  }

  clear(): void {
    this.byMethod.clear();
    this.distinct = 0;
  }
}

interface ExceptionRow {
  count: number;
  msg: string;
  traceback: string;
  nodes: Set<string>;
}

/** Exceptions thrown by tasks, keyed by traceback. Beyond `limit` distinct tracebacks, new ones are grouped. */
export class ExceptionTable {
  private readonly limit: number;
  private readonly rows = new Map<string, ExceptionRow>();

  constructor(limit: number) {
    this.limit = limit;
  }

  log(msg: string, traceback: string, node: string): void {
    let row = this.rows.get(traceback);
    if (row === undefined && this.rows.size >= this.limit) row = this.rows.get(OTHER_EXCEPTIONS);
    if (row === undefined) {
      const key = this.rows.size >= this.limit ? OTHER_EXCEPTIONS : traceback;
      row = { count: 0, msg, traceback: key, nodes: new Set() };
      this.rows.set(key, row);
    }
    row.count += 1;
    row.nodes.add(node);
  }

  /** Plain rows; `nodes` sorted so equal data gives equal snapshots. */
  toSnapshot(): ExceptionSnapshot[] {
    return [...this.rows.values()].map((r) => ({ count: r.count, msg: r.msg, traceback: r.traceback, nodes: [...r.nodes].sort() }));
  }

  clear(): void {
    this.rows.clear();
  }
}
