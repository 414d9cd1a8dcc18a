// One scenario hosted in this process: its users, the executor that drives them, and its end (graceful stop, then the pool's stop).
import type { Clock, Timers } from '../core/clock.ts';
import type { RunnerControl } from '../core/contracts.ts';
import type { StopTest } from '../core/control-flow.ts';
import type { Environment } from '../core/environment.ts';
import { wait, type ExecutorEnd, type ExecutorHost, type IterationBudget, type ScenarioCommon, type Segment } from '../core/executor.ts';
import type { LoadShape } from '../core/load-shape.ts';
import type { TaskPlan } from '../core/task-plan.ts';
import type { IterationFeed, IterationRecord } from '../core/user-loop.ts';
import type { UserClass } from '../core/user.ts';
import { executorOf } from './executors/index.ts';
import { UserPool, type StopPlan, type StopResult } from './user-pool.ts';
import { UserSequence } from './user-sequence.ts';

export interface ScenarioRunOptions {
  config: ScenarioCommon;
  environment: Environment;
  /** The scenario's user classes (already narrowed to its `userClasses`). */
  classes: ReadonlyMap<string, UserClass>;
  plan: TaskPlan;
  clock: Clock;
  timers: Timers;
  equalWeights: boolean;
  onStopTest: (error: StopTest) => void;
  /** Seconds-free stop settings of the run: requests in flight get `drainMs` after a (graceful) stop. */
  drainMs: number;
  onWait?: StopPlan['onWait'];
  shape?: { instance: LoadShape; runner: RunnerControl };
  /** Process-unique user numbers across the scenarios. */
  newId?: () => number;
}

/** Where a scenario is: waiting for its start time, running its executor, in its graceful stop, or over. */
export type ScenarioPhase = 'waiting' | 'running' | 'ending' | 'ended';

/**
 * Hosts one scenario: implements the executor's side of the contract (users spawned by class weight,
 * idle users handed iterations, drops counted), runs the executor from the scenario's start time, and
 * ends it: running iterations get `gracefulStop`, then the pool's stop path (drain, then cut).
 */
export class ScenarioRun implements ExecutorHost {
  private configNow: ScenarioCommon;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly shape: ScenarioRunOptions['shape'];
  private readonly options: ScenarioRunOptions;
  private readonly pool: UserPool;
  private sequence: UserSequence;
  private phaseNow: ScenarioPhase = 'waiting';
  private originAt = 0;
  private run: AbortController | undefined;
  private running: Promise<ExecutorEnd> | undefined;
  private stopped = new AbortController();
  private ended: Promise<void> = Promise.resolve();
  // The open model's hand-off: idle users wait in `idle`; arrivals for users still starting wait in `queued`.
  private readonly idle: ((due: number | null) => void)[] = [];
  private readonly queued: number[] = [];
  private starting = 0;
  private busy = 0;
  private budget: IterationBudget | undefined;
  private graceEndsAt = Number.POSITIVE_INFINITY;
  private settleWaiters: (() => void)[] = [];
  /** Iterations the executor owed and did not run (a `maxDuration` cut), once it ended. */
  notRun = 0;

  constructor(options: ScenarioRunOptions) {
    this.options = options;
    this.configNow = options.config;
    this.clock = options.clock;
    this.timers = options.timers;
    this.shape = options.shape;
    this.sequence = this.buildSequence(undefined);
    const model = executorOf(options.config).model;
    this.pool = new UserPool({
      environment: options.environment,
      classes: options.classes,
      plan: options.plan,
      now: () => this.clock.now(),
      onStopTest: options.onStopTest,
      timers: options.timers,
      scenario: options.config.name,
      ...(options.newId !== undefined ? { newId: options.newId } : {}),
      ...(model === 'open' ? { feed: () => this.openFeed(), openModel: true } : model === 'iterations' ? { feed: (index: number) => this.budgetFeed(index) } : {}),
    });
  }

  /** The scenario's config (a replan may change it: a new target from the web UI). */
  get config(): ScenarioCommon {
    return this.configNow;
  }

  get logger(): Environment['logger'] {
    return this.options.environment.logger;
  }

  get origin(): number {
    return this.originAt;
  }

  get phase(): ScenarioPhase {
    return this.phaseNow;
  }

  get userCount(): number {
    return this.pool.count;
  }

  userClassCounts(): Record<string, number> {
    return this.pool.counts();
  }

  /** Resolves when the scenario is over (by its own end or the run's stop). */
  whenEnded(): Promise<void> {
    return this.ended;
  }

  /**
   * Starts the scenario on `segment` after its start time. `onEnded` is called once it is over by
   * its own end (not by `stop`). `originShiftMs` puts scenario time 0 that far in the past.
   */
  start(segment: Segment, onEnded: () => void, originShiftMs = 0): void {
    this.switches = [{ from: segment.fromItem ?? 0, segment }];
    this.ended = (async () => {
      if (this.config.startTimeMs > 0 && !(await wait(this.timers, this.config.startTimeMs, this.stopped.signal))) return;
      // A worker joining a scenario under way starts its schedule where the cluster's is.
      this.originAt = this.clock.now() - originShiftMs;
      this.phaseNow = 'running';
      // Re-partitions may have come while the scenario waited for its start time: run its pieces.
      const end = await this.drive(this.switches.length > 1 ? undefined : segment);
      if (this.stopped.signal.aborted) return;
      this.notRun = end.notRun ?? 0;
      if (this.notRun > 0) {
        this.logger.warning(`scenario ${this.config.name}: maxDuration reached with ${this.notRun} iterations not run`);
        this.options.environment.events.iteration.fire({ scenario: this.config.name, dropped: false, ok: true, interrupted: false, lateMs: 0, durationMs: 0, notRun: this.notRun });
      }
      await this.finish();
      onEnded();
    })();
  }

  /**
   * Runs the executor again on a new segment (a re-partition) or with a new config (a new target from
   * the web UI): the current run is ended and the new one picks up where it stopped, keeping the users.
   */
  replan(change: { segment?: Segment; config?: ScenarioCommon; restartClock?: boolean }): Promise<void> {
    // One at a time: two re-partitions in a row must not leave two executor runs going.
    this.replans = this.replans.then(() => this.replanNow(change));
    return this.replans;
  }

  private replans: Promise<void> = Promise.resolve();

  private async replanNow(change: { segment?: Segment; config?: ScenarioCommon; restartClock?: boolean }): Promise<void> {
    if (change.segment !== undefined) this.addSwitch(change.segment);
    if (change.config !== undefined) this.configNow = change.config;
    if (this.phaseNow !== 'running') return;
    // Set before the abort: the scenario's loop (drive) must see that a new run follows, not an end.
    let handOver!: (run: Promise<ExecutorEnd>) => void;
    this.restarted = new Promise<ExecutorEnd>((resolve) => (handOver = (run) => resolve(run)));
    const generation = ++this.generation;
    const previous = this.running;
    this.run?.abort();
    const last = previous !== undefined ? await previous : undefined;
    if (this.stopped.signal.aborted) return handOver(Promise.resolve({ reason: 'stopped' }));
    if (change.restartClock === true) {
      // A new rate from now: its schedule starts afresh on this process's share, from its first item.
      this.originAt = this.clock.now();
      const { fromItem: _from, untilItem: _until, ...share } = this.switches.at(-1)!.segment;
      this.switches = [{ from: 0, segment: share }];
      return handOver(this.runOnce(share));
    }
    handOver(this.runPieces(last?.next ?? 0, generation));
  }

  /**
   * Who runs which item after re-partitions: from item `from` on, `segment` applies (until the next
   * switch). A later switch from an item replaces any planned at or after it.
   */
  private switches: { from: number; segment: Segment }[] = [];
  private generation = 0;

  private addSwitch(segment: Segment): void {
    const from = segment.fromItem ?? 0;
    this.switches = [...this.switches.filter((s) => s.from < from), { from, segment }];
  }

  /** Runs the items from `resumeAt` on, each under the share that holds it, piece after piece; a newer replan ends the chain. */
  private async runPieces(resumeAt: number, generation: number): Promise<ExecutorEnd> {
    let end: ExecutorEnd = { reason: 'stopped', next: resumeAt };
    let at = resumeAt;
    for (let k = 0; k < this.switches.length; k++) {
      const piece = this.switches[k]!;
      const until = this.switches[k + 1]?.from;
      if (until !== undefined && until <= at) continue;
      if (this.stopped.signal.aborted || generation !== this.generation) return end;
      const { fromItem: _from, untilItem: _until, ...share } = piece.segment;
      end = await this.runOnce({ ...share, fromItem: Math.max(at, piece.from), ...(until !== undefined ? { untilItem: until } : {}) });
      if (end.reason === 'done' || generation !== this.generation || until === undefined) return end;
      // The piece reached its last item: the next share starts at its own first item (`next` counts in the old stripe).
      at = until;
    }
    return end;
  }

  private restarted: Promise<ExecutorEnd> | undefined;

  /** Runs the executor until it ends by itself; a replan swaps the run under way for a new one. */
  private async drive(segment: Segment | undefined): Promise<ExecutorEnd> {
    let end = await (segment !== undefined ? this.runOnce(segment) : this.runPieces(this.switches[0]?.from ?? 0, this.generation));
    while (this.restarted !== undefined) {
      const next = this.restarted;
      this.restarted = undefined;
      end = await next;
    }
    return end;
  }

  private runOnce(segment: Segment): Promise<ExecutorEnd> {
    const controller = new AbortController();
    this.run = controller;
    const onStop = (): void => controller.abort();
    this.stopped.signal.addEventListener('abort', onStop, { once: true });
    const executor = executorOf(this.config);
    const plan = executor.plan(this.config, segment);
    this.running = executor.run(this, plan, controller.signal).finally(() => this.stopped.signal.removeEventListener('abort', onStop));
    return this.running;
  }

  /** The scenario's own end: running iterations (or tasks) get the graceful stop, then the pool stops (drain, then cut). */
  private async finish(): Promise<void> {
    this.phaseNow = 'ending';
    this.graceEndsAt = this.clock.now() + this.config.gracefulStopMs;
    const { logger } = this.options.environment;
    const name = this.config.name;
    const result = await this.pool.stopAll({
      stopTimeoutMs: this.config.gracefulStopMs,
      drainMs: this.options.drainMs,
      // A closed-model scenario's end (a duration, a shape's null) reads like any stop; for iterations, only real waits are worth a line.
      onWait: (wait) => {
        if (executorOf(this.config).model === 'closed') return this.options.onWait?.(wait);
        if (wait.inFlight === 0 && this.busy <= 0) return;
        logger.info(wait.phase === 'tasks'
          ? `scenario ${name} ended: its ${Math.max(this.busy, 0) || wait.users} running iterations may go on for up to ${Math.round(wait.ms / 100) / 10} s (gracefulStop)`
          : `scenario ${name}: waiting up to ${Math.round(wait.ms / 100) / 10} s for ${wait.inFlight} requests in flight`);
      },
    });
    this.report(result);
    this.phaseNow = 'ended';
  }

  /** Stops the scenario with the run: no new iteration; the pool's stop path with the run's stop plan. */
  async stop(plan: StopPlan): Promise<StopResult> {
    const wasEnding = this.phaseNow === 'ending';
    this.stopped.abort();
    if (wasEnding || this.phaseNow === 'ended') {
      await this.ended;
      return { cut: 0, abandoned: 0 };
    }
    this.graceEndsAt = this.clock.now() + plan.stopTimeoutMs;
    this.target = 0;
    const result = await this.pool.stopAll(plan);
    this.phaseNow = 'ended';
    return result;
  }

  /** Cuts requests in flight now (a second Ctrl+C during a stop). */
  cutNow(): void {
    this.pool.cutNow();
  }

  private report(result: StopResult): void {
    const { logger } = this.options.environment;
    if (result.cut > 0) logger.warning(`scenario ${this.config.name}: ${result.cut} requests still in flight at its end were cut and recorded as failed: cancelled at stop`);
    if (result.abandoned > 0) logger.warning(`scenario ${this.config.name}: ${result.abandoned} users were still busy in their own code after its end (it ignores user.signal); left behind`);
  }

  // ---- ExecutorHost ----

  setUsers(n: number): void {
    if (this.stopped.signal.aborted) return;
    const capacity = this.sequence.capacity;
    if (n > capacity && !this.warnedCapacity) {
      this.warnedCapacity = true;
      this.logger.warning(`only ${capacity} users can be placed (fixedCount classes only); ramping to ${capacity}`);
    }
    const target = Math.min(n, capacity);
    // A closed-model executor that moves again after reaching a target (a shape's next step) is ramping again.
    if (this.rampedTo !== undefined && target !== this.rampedTo) {
      this.rampedTo = undefined;
      this.onRampStart?.();
    }
    this.target = target;
    this.pool.reconcile(this.sequence.countsFor(this.target), this.retirePlan());
  }

  private rampedTo: number | undefined;
  /** Told when a closed-model executor that had reached its target moves again. */
  onRampStart: (() => void) | undefined;

  private warnedCapacity = false;

  /** The count a closed-model scenario is heading for: a `users` scenario's target, else where its executor is now. */
  get goal(): number {
    const users = (this.config as { users?: unknown }).users;
    return this.config.executor === 'users' && typeof users === 'number' && this.phaseNow === 'running' ? Math.min(users, this.sequence.capacity) : this.target;
  }
  /** The user count the executor asked for last. */
  target = 0;

  /** A worker's closed-model scenario: the master sends absolute per-class counts (its dispatch, ±1 per class). */
  setClassCounts(counts: Readonly<Record<string, number>>): void {
    if (this.stopped.signal.aborted) return;
    this.target = Object.values(counts).reduce((a, b) => a + b, 0);
    this.pool.reconcile(counts, this.retirePlan());
    this.pool.rampComplete();
  }

  /** Marks a scenario driven from outside (a worker's share of a master-dispatched one) as running, without an executor of its own. */
  startDispatched(): void {
    this.originAt = this.clock.now();
    this.phaseNow = 'running';
    this.ended = new Promise((resolve) => this.stopped.signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  setClasses(names: readonly string[] | undefined): void {
    this.sequence = this.buildSequence(names);
  }

  rampComplete(): void {
    this.rampedTo = this.target;
    this.pool.rampComplete();
    this.onRampComplete?.(this.pool.count);
  }

  /** Told when a closed-model executor reached its target (the runner fires spawningComplete). */
  onRampComplete: ((users: number) => void) | undefined;

  preallocate(n: number): void {
    if (n > this.pool.count) this.grow(n);
  }

  startIteration(scheduledAt: number, maxUsers: number): boolean {
    const waiting = this.idle.pop();
    if (waiting !== undefined) {
      this.busy++;
      waiting(scheduledAt);
      return true;
    }
    if (this.queued.length < this.starting || this.pool.count < maxUsers) {
      this.busy++;
      this.queued.push(scheduledAt);
      if (this.queued.length > this.starting) this.grow(this.pool.count + 1);
      return true;
    }
    this.dropped(scheduledAt);
    return false;
  }

  runIterationUsers(users: number, budget: IterationBudget): Promise<void> {
    this.budget = budget;
    this.grow(users);
    return this.pool.whenEmpty();
  }

  iterationsSettled(): Promise<void> {
    if (this.busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.settleWaiters.push(resolve));
  }

  // ---- feeds ----

  private grow(n: number): void {
    const before = this.pool.count;
    this.pool.reconcile(this.sequence.countsFor(n), this.retirePlan());
    this.starting += Math.max(0, this.pool.count - before);
  }

  private openFeed(): IterationFeed {
    let first = true;
    return {
      paced: false,
      next: (signal) => {
        if (first) {
          first = false;
          this.starting--;
        }
        if (signal.aborted) return null;
        const due = this.queued.shift();
        if (due !== undefined) return due;
        return new Promise<number | null>((resolve) => {
          const onAbort = (): void => {
            const at = this.idle.indexOf(take);
            if (at >= 0) this.idle.splice(at, 1);
            resolve(null);
          };
          const take = (value: number | null): void => {
            signal.removeEventListener('abort', onAbort);
            resolve(value);
          };
          this.idle.push(take);
          signal.addEventListener('abort', onAbort, { once: true });
        });
      },
      done: (record) => this.iterationDone(record),
      ended: () => {
        if (first) {
          first = false;
          this.starting--;
        }
        // Arrivals queued for users that never started (onStart failed) cannot run: they are dropped.
        while (this.queued.length > this.starting) {
          this.busy--;
          this.dropped(this.queued.pop()!);
        }
        this.settle();
      },
    };
  }

  private budgetFeed(index: number): IterationFeed {
    let first = true;
    return {
      paced: true,
      next: (signal) => {
        if (first) {
          first = false;
          this.starting--;
        }
        if (signal.aborted || this.budget === undefined || !this.budget.take(index)) return null;
        this.busy++;
        return this.clock.now();
      },
      done: (record) => this.iterationDone(record),
      ended: () => {
        if (first) {
          first = false;
          this.starting--;
        }
      },
    };
  }

  private iterationDone(record: IterationRecord): void {
    this.busy--;
    this.options.environment.events.iteration.fire({
      scenario: this.config.name,
      dropped: false,
      ok: record.ok,
      interrupted: record.endedAt > this.graceEndsAt,
      lateMs: Math.max(0, record.startedAt - record.scheduledAt),
      durationMs: record.endedAt - record.scheduledAt,
    });
    this.settle();
  }

  private dropped(scheduledAt: number): void {
    this.options.environment.events.iteration.fire({
      scenario: this.config.name, dropped: true, ok: false, interrupted: false, lateMs: Math.max(0, this.clock.now() - scheduledAt), durationMs: 0,
    });
  }

  private settle(): void {
    if (this.busy <= 0) for (const wake of this.settleWaiters.splice(0)) wake();
  }

  private retirePlan(): StopPlan {
    return { stopTimeoutMs: this.config.gracefulStopMs, drainMs: this.options.drainMs, ...(this.options.onWait ? { onWait: this.options.onWait } : {}) };
  }

  private buildSequence(names: readonly string[] | undefined): UserSequence {
    const classes = [...this.options.classes.entries()]
      .filter(([name]) => names === undefined || names.includes(name))
      .map(([name, cls]) => ({ name, weight: cls.weight, fixedCount: cls.fixedCount }));
    return new UserSequence(classes, this.options.equalWeights);
  }
}
