// Checks summed per check name, for the console and HTML views (the stats keep one row per check and request name).
import type { CheckSnapshot } from '../stats/types.ts';

/** One check name over every request name it was evaluated on. */
export interface CheckGroup {
  name: string;
  passes: number;
  fails: number;
  /** The (check, request) rows summed here, in the order the stats first saw them. */
  requests: CheckSnapshot[];
}

/** Groups checks by name, in first-seen order of the names, so a script's checks read in the order they ran. */
export function checkGroups(checks: readonly CheckSnapshot[]): CheckGroup[] {
  const byName = new Map<string, CheckGroup>();
  for (const c of checks) {
    let group = byName.get(c.name);
    if (group === undefined) byName.set(c.name, (group = { name: c.name, passes: 0, fails: 0, requests: [] }));
    group.passes += c.passes;
    group.fails += c.fails;
    group.requests.push(c);
  }
  return [...byName.values()];
}

/** Passes and evaluations over every check: the one-line view of a run's checks. */
export function checkTotals(checks: readonly CheckSnapshot[]): { passes: number; total: number } {
  let passes = 0;
  let total = 0;
  for (const c of checks) {
    passes += c.passes;
    total += c.passes + c.fails;
  }
  return { passes, total };
}

/** Pass share of `passes` out of `total` evaluations (0 when none ran, so callers never divide by zero). */
export function passRatio(passes: number, total: number): number {
  return total === 0 ? 0 : passes / total;
}
