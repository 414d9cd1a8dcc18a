// Where a re-partition of an open-model scenario hands over: the first arrival due at or after a scenario time.
import type { ScenarioCommon } from '../core/executor.ts';
import { WHOLE } from '../core/executor.ts';
import type { ArrivalPlan } from './executors/arrivals.ts';
import { executorOf } from './executors/index.ts';

/** The first global arrival of the whole scenario due at or after `atMs` of scenario time (its count when none is). */
export function partitionFrom(config: ScenarioCommon, atMs: number): number {
  const plan = executorOf(config).plan(config, WHOLE) as ArrivalPlan;
  const due = (i: number): boolean => {
    const t = plan.timeOf(i);
    return t === undefined || t >= atMs;
  };
  if (due(0)) return 0;
  let hi = 1;
  while (!due(hi)) hi *= 2;
  let lo = hi / 2;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (due(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
