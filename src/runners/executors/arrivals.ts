// The open model's scheduler, shared by both arrival-rate executors: arrival i starts at its scheduled time whatever the response times.
import { shareOf, wait, type ExecutorEnd, type ExecutorHost, type Segment, type Stage } from '../../core/executor.ts';
import { UsageError } from '../../core/errors.ts';
import { positiveNumber, durationMs, wholeNumber } from './fields.ts';

/** What a process runs of an arrival-rate scenario: its arrivals, and the user pool they may use. */
export interface ArrivalPlan {
  /** Scenario ms at which global arrival `i` is due (0 for the first), or undefined past the scenario's end. */
  timeOf(i: number): number | undefined;
  /** Scenario ms at which the scenario ends. */
  readonly endMs: number;
  readonly segment: Segment;
  readonly preAllocatedUsers: number;
  readonly maxUsers: number;
}

/** Pool sizes of an arrival-rate scenario, with k6's names; defaults follow the rate (`maxUsers` 10 × the rate per second). */
export interface PoolFields {
  readonly timeUnitMs: number;
  readonly preAllocatedUsers: number;
  readonly maxUsers: number;
}

/** Reads `timeUnit`, `preAllocatedUsers` and `maxUsers`, given the highest rate the scenario reaches (per time unit). */
export function poolFields(raw: Readonly<Record<string, unknown>>, where: string, peakRate: number): PoolFields {
  const timeUnitMs = raw.timeUnit === undefined ? 1000 : durationMs(raw.timeUnit, 'timeUnit', where);
  const perSecond = (peakRate * 1000) / timeUnitMs;
  const maxGiven = raw.maxUsers !== undefined;
  const preGiven = raw.preAllocatedUsers !== undefined;
  const given = preGiven ? wholeNumber(raw.preAllocatedUsers, 'preAllocatedUsers', where) : undefined;
  const maxUsers = maxGiven ? wholeNumber(raw.maxUsers, 'maxUsers', where, 1) : Math.max(given ?? 1, Math.ceil(10 * perSecond), 1);
  // The default pre-allocation is the rate per second, at most maxUsers (regression: --arrival-rate 5000 --max-users 2000 was refused).
  const preAllocatedUsers = given ?? Math.min(maxUsers, Math.max(1, Math.ceil(perSecond)));
  if (maxUsers < preAllocatedUsers) {
    throw new UsageError(
      `${where}: maxUsers (${maxUsers}) is less than preAllocatedUsers (${preAllocatedUsers})`,
      preGiven && maxGiven ? 'raise maxUsers to at least preAllocatedUsers, or lower preAllocatedUsers' : `set maxUsers ≥ ${preAllocatedUsers} (or lower preAllocatedUsers)`,
    );
  }
  return { timeUnitMs, preAllocatedUsers, maxUsers };
}

/** The segment's share of the pool: at least one user wherever arrivals fall. */
export function poolShare(fields: PoolFields, segment: Segment): { preAllocatedUsers: number; maxUsers: number } {
  return { preAllocatedUsers: shareOf(fields.preAllocatedUsers, segment), maxUsers: Math.max(1, shareOf(fields.maxUsers, segment)) };
}

/** A rate > 0, read from `field`. */
export function rateField(raw: unknown, field: string, where: string): number {
  return positiveNumber(raw, field, where);
}

/**
 * Scenario ms of arrival `i` under a piecewise-linear rate (per ms) starting at `startRate` through `stages`:
 * the time at which the integral of the rate reaches `i`. Undefined when the stages end first.
 */
export function rampedArrivalTime(startRate: number, stages: readonly Stage[], i: number): number | undefined {
  let at = 0;
  let rate = startRate;
  let before = 0;
  for (const stage of stages) {
    const d = stage.durationMs;
    const a = rate;
    const b = stage.target;
    const inStage = ((a + b) / 2) * d;
    if (i < before + inStage) {
      const c = i - before;
      const k = (b - a) / (2 * d);
      // Root of k τ² + a τ − c = 0 in the form that stays exact as k → 0 (a constant stage).
      const root = a * a + 4 * k * c;
      const denominator = a + Math.sqrt(Math.max(0, root));
      return at + (denominator > 0 ? (2 * c) / denominator : 0);
    }
    before += inStage;
    at += d;
    rate = b;
  }
  return undefined;
}

/** The first global item at or after `from` that belongs to the segment. */
export function firstItem(segment: Segment, from = 0): number {
  const r = ((from - segment.index) % segment.count + segment.count) % segment.count;
  return r === 0 ? from : from + (segment.count - r);
}

/**
 * Starts the segment's arrivals at their scheduled times (late ones at once, counting their lateness),
 * never waiting for a user: an arrival with no free user and no room to add one is dropped by the host.
 */
export async function runArrivals(host: ExecutorHost, plan: ArrivalPlan, signal: AbortSignal): Promise<ExecutorEnd> {
  host.preallocate(plan.preAllocatedUsers);
  const { segment } = plan;
  const until = segment.untilItem ?? Number.POSITIVE_INFINITY;
  let i = firstItem(segment, segment.fromItem ?? 0);
  for (;;) {
    if (i >= until) return { reason: 'stopped', next: i };
    const t = plan.timeOf(i);
    if (t === undefined) break;
    const due = host.origin + t;
    const now = host.clock.now();
    if (due > now && !(await wait(host.timers, due - now, signal))) return { reason: 'stopped', next: i };
    if (signal.aborted) return { reason: 'stopped', next: i };
    host.startIteration(due, plan.maxUsers);
    i += segment.count;
  }
  const left = host.origin + plan.endMs - host.clock.now();
  return (await wait(host.timers, left, signal)) ? { reason: 'done', next: i } : { reason: 'stopped', next: i };
}
