// The executor contract (DESIGN.md §4): an executor decides when iterations start, a user decides what one does.
import { sleep, type Clock, type Timers } from './clock.ts';
import type { Logger } from './logger.ts';
import type { LoadShape } from './load-shape.ts';
import type { RunnerControl } from './contracts.ts';

/**
 * This process's share of the cluster (k6's execution segment, in its striped form): of every
 * scenario's numbered items — users, iterations, arrivals — share `index` of `count` takes the items
 * `i` with `i % count === index`. The shares of 0..count-1 add up to the whole, exactly.
 */
export interface Segment {
  readonly index: number;
  readonly count: number;
  /**
   * Re-partitions (a worker joined or left) hand over at an item: this segment runs the global items
   * from `fromItem` (inclusive) to `untilItem` (exclusive). Absent: from the start, to the end.
   */
  readonly fromItem?: number;
  readonly untilItem?: number;
}

/** The whole cluster's load, for a run in one process. */
export const WHOLE: Segment = { index: 0, count: 1 };

/** How many of the items 0..total-1 fall in the segment (the segment's exact share of `total`). */
export function shareOf(total: number, segment: Segment): number {
  if (total <= segment.index) return 0;
  return Math.floor((total - segment.index - 1) / segment.count) + 1;
}

/** One stage of a ramping executor: move to `target` over `durationMs`. */
export interface Stage {
  readonly durationMs: number;
  readonly target: number;
}

/** The executors of DESIGN.md §4, by name. */
export const EXECUTOR_NAMES = [
  'users', 'ramping-users', 'constant-arrival-rate', 'ramping-arrival-rate', 'shared-iterations', 'per-user-iterations', 'shape',
] as const;
export type ExecutorName = (typeof EXECUTOR_NAMES)[number];

/**
 * How an executor's load is placed: `closed` executors set a user count (in a distributed run the
 * master runs them and dispatches users over workers, ±1 per class); `open` and `iterations`
 * executors are partitioned: each process runs its segment's share.
 */
export type ExecutorModel = 'closed' | 'open' | 'iterations';

/** What every scenario has, whatever its executor. Times are ms. */
export interface ScenarioCommon {
  readonly name: string;
  readonly executor: ExecutorName;
  /** User classes the scenario runs (by name); all selected classes when absent. */
  readonly userClasses?: readonly string[];
  /** Delay from the run's start to this scenario's start. */
  readonly startTimeMs: number;
  /** After the scenario's end, how long running iterations (or tasks) may go on before they are stopped. */
  readonly gracefulStopMs: number;
  /** Free-form tags, shown with the scenario's statistics. */
  readonly tags: Readonly<Record<string, string>>;
}

/** A user for the open model and for iteration counts: runs one iteration when asked. */
export interface IterationOutcome {
  /** False when the task threw (an exception of the script); a failed request is still a completed iteration. */
  readonly ok: boolean;
  /** True when the iteration was cut by the scenario's end (its graceful stop ran out) or the run's stop. */
  readonly interrupted: boolean;
}

/**
 * What a process offers the executor it hosts. Times are monotonic ms from `clock`; every wait goes
 * through `timers`, so a fake clock drives executors in tests.
 */
export interface ExecutorHost {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
  /** Monotonic ms at which the scenario started: scenario time 0 of every schedule. */
  readonly origin: number;
  /** Users of the scenario alive now. */
  readonly userCount: number;
  /** Closed model: the scenario has `n` users, split over its classes by weight (spawned or retired, newest first). */
  setUsers(n: number): void;
  /** Closed model (a LoadShape): from now on only these classes (all of the scenario's when undefined). */
  setClasses(names: readonly string[] | undefined): void;
  /** Closed model: the executor reached its target user count (spawning complete). */
  rampComplete(): void;
  /** Open model: users created and started (`onStart`) ahead of the first iterations, up to `n` in all. */
  preallocate(n: number): void;
  /**
   * Open model: starts one iteration scheduled at `scheduledAt` on an idle user, creating one when
   * fewer than `maxUsers` exist. Returns false when no user could take it: the iteration is dropped
   * (the host counts it).
   */
  startIteration(scheduledAt: number, maxUsers: number): boolean;
  /**
   * Iteration counts: runs `users` looping users (with their wait times) that together start at most
   * `budget.take()`-granted iterations; resolves when every user has ended.
   */
  runIterationUsers(users: number, budget: IterationBudget): Promise<void>;
  /** Resolves when no iteration is running. */
  iterationsSettled(): Promise<void>;
  /** A LoadShape scenario: the shape and the runner it reads (`getCurrentUserCount`). */
  readonly shape?: { readonly instance: LoadShape; readonly runner: RunnerControl };
}

/** Hands out the right to start an iteration (shared over a scenario's users, or per user). */
export interface IterationBudget {
  /** Takes one iteration for user number `user` (0-based in this process); false when none is left for it. */
  take(user: number): boolean;
  /** Iterations granted and not yet taken (what a stop at `maxDuration` leaves undone). */
  readonly left: number;
}

/** Why an executor's `run` ended. */
export interface ExecutorEnd {
  /** `done`: the scenario's own end (duration, stages, iterations, a shape's null); `stopped`: the signal aborted. */
  readonly reason: 'done' | 'stopped';
  /** Iterations the scenario owed and did not run (iteration counts cut by `maxDuration`). */
  readonly notRun?: number;
  /** The next global item (arrival) the executor had not started: where a re-partition picks up. */
  readonly next?: number;
}

/**
 * One executor kind. `plan` is pure — what load, when, for this segment — so it is tested without
 * timers; `run` drives a host with a plan until the scenario ends or `signal` aborts.
 */
export interface Executor<Config extends ScenarioCommon = ScenarioCommon, Plan = unknown> {
  readonly name: ExecutorName;
  readonly model: ExecutorModel;
  /** Field names this executor accepts beyond the common ones (a field of another executor is refused). */
  readonly fields: readonly string[];
  /** Checks the executor's own fields (raw values from a cicadafile, TOML or the CLI); throws UsageError naming `where`. */
  parse(raw: Readonly<Record<string, unknown>>, common: ScenarioCommon, where: string): Config;
  plan(config: Config, segment: Segment): Plan;
  run(host: ExecutorHost, plan: Plan, signal: AbortSignal): Promise<ExecutorEnd>;
  /** A one-line description for logs and the console, e.g. `100 iterations/s for 30 s`. */
  describe(config: Config): string;
}

/** Waits `ms` on `timers`, or less if `signal` aborts. Resolves true when the full time passed. */
export function wait(timers: Timers, ms: number, signal: AbortSignal): Promise<boolean> {
  return sleep(ms, signal, timers);
}
