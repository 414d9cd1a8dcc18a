// Check statistics: passes and fails per (check name, request name), cumulative, merged exactly across workers.
import type { CheckEvent } from '../core/events.ts';
import type { CheckSnapshot } from './types.ts';

/** Distinct (check, request) pairs kept; later new pairs are ignored (check names are written in the script). */
export const MAX_CHECKS = 1000;
/** Longest check name, request name and error message kept (a worker's report must stay well under a frame). */
const MAX_TEXT = { name: 1000, request: 2048, error: 1000 } as const;

function keyOf(name: string, request: string): string {
  return `${request}\u0000${name}`;
}

/** Records `check` events of one process. */
export class CheckStats {
  private readonly byKey = new Map<string, CheckSnapshot>();

  record(e: CheckEvent): void {
    const name = e.name.slice(0, MAX_TEXT.name);
    const request = e.request.slice(0, MAX_TEXT.request);
    const key = keyOf(name, request);
    let entry = this.byKey.get(key);
    if (entry === undefined) {
      if (this.byKey.size >= MAX_CHECKS) return;
      this.byKey.set(key, (entry = { name, request, passes: 0, fails: 0 }));
    }
    if (e.ok) entry.passes++;
    else entry.fails++;
    if (e.error !== undefined) entry.lastError = e.error.slice(0, MAX_TEXT.error);
  }

  snapshot(): CheckSnapshot[] {
    return [...this.byKey.values()].map((c) => ({ ...c }));
  }

  reset(): void {
    this.byKey.clear();
  }
}

/** Sums the checks of several processes' cumulative snapshots, per (check, request), in first-seen order. */
export function mergeChecks(lists: readonly (readonly CheckSnapshot[])[]): CheckSnapshot[] {
  const out = new Map<string, CheckSnapshot>();
  for (const list of lists) {
    for (const c of list) {
      const key = keyOf(c.name, c.request);
      const held = out.get(key);
      if (held === undefined) {
        if (out.size < MAX_CHECKS) out.set(key, { ...c });
        continue;
      }
      held.passes += c.passes;
      held.fails += c.fails;
      if (c.lastError !== undefined) held.lastError = c.lastError;
    }
  }
  return [...out.values()];
}
