// A closed-model scenario in a distributed run: the master runs its executor and places the users on workers (±1 per class).
import type { Clock, Timers } from '../core/clock.ts';
import type { RunnerControl } from '../core/contracts.ts';
import { UsageError } from '../core/errors.ts';
import { WHOLE, wait, type ExecutorEnd, type ExecutorHost, type ScenarioCommon } from '../core/executor.ts';
import type { LoadShape } from '../core/load-shape.ts';
import type { Logger } from '../core/logger.ts';
import { executorOf } from './executors/index.ts';
import type { ClassWeight } from './user-sequence.ts';
import { WorkerDispatch, type Assignment } from './worker-dispatch.ts';

export interface DispatchedScenarioOptions {
  config: ScenarioCommon;
  /** Every class of the run; the scenario's `userClasses` (or a shape's) narrow it. */
  classes: readonly ClassWeight[];
  equalWeights: boolean;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  shape?: { instance: LoadShape; runner: RunnerControl };
  /** The assignment changed: send each worker its counts. */
  onAssignment: (assignment: Assignment) => void;
  onRampComplete: () => void;
  /** The executor moves again after reaching a target (a shape's next step). */
  onRampStart?: () => void;
  /** The executor ended by itself (a duration, the stages, a shape's null). */
  onEnded: () => void;
}

/** The master's host of a closed-model executor: `setUsers` becomes a dispatch over the connected workers. */
export class DispatchedScenario implements ExecutorHost {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
  readonly shape: DispatchedScenarioOptions['shape'];
  readonly dispatch: WorkerDispatch;
  private readonly options: DispatchedScenarioOptions;
  private configNow: ScenarioCommon;
  private originAt = 0;
  private run: AbortController | undefined;
  private running: Promise<ExecutorEnd> | undefined;
  private readonly stopped = new AbortController();
  private next: Promise<ExecutorEnd> | undefined;
  over = false;

  constructor(options: DispatchedScenarioOptions) {
    this.options = options;
    this.configNow = options.config;
    this.clock = options.clock;
    this.timers = options.timers;
    this.logger = options.logger;
    this.shape = options.shape;
    this.dispatch = new WorkerDispatch(this.classesOf(options.config.userClasses), { equalWeights: options.equalWeights });
  }

  get config(): ScenarioCommon {
    return this.configNow;
  }

  get origin(): number {
    return this.originAt;
  }

  get userCount(): number {
    return this.dispatch.target;
  }

  /** The count the scenario is heading for: a `users` scenario's target, else where its executor is now. */
  get goal(): number {
    const users = (this.configNow as { users?: unknown }).users;
    return this.configNow.executor === 'users' && typeof users === 'number' && !this.stopped.signal.aborted ? Math.min(users, this.dispatch.capacity) : Math.min(this.dispatch.target, this.dispatch.capacity);
  }

  /** Runs the executor from the scenario's start time. */
  start(): void {
    void (async () => {
      if (this.config.startTimeMs > 0 && !(await wait(this.timers, this.config.startTimeMs, this.stopped.signal))) return;
      this.originAt = this.clock.now();
      let end = await this.runOnce();
      while (this.next !== undefined) {
        const next = this.next;
        this.next = undefined;
        end = await next;
      }
      if (this.stopped.signal.aborted || end.reason !== 'done') return;
      this.over = true;
      this.setUsers(0);
      this.options.onEnded();
    })();
  }

  /** A new target for a running `users` scenario (the web UI's form, `start()` again): the ramp goes on from where it is. */
  replan(config: ScenarioCommon): void {
    let handOver!: (run: Promise<ExecutorEnd>) => void;
    this.next = new Promise((resolve) => (handOver = (run) => resolve(run)));
    const previous = this.running;
    this.run?.abort();
    this.configNow = config;
    void (async () => {
      if (previous !== undefined) await previous;
      handOver(this.stopped.signal.aborted ? Promise.resolve({ reason: 'stopped' }) : this.runOnce());
    })();
  }

  /** Ends the executor (the run stops): the workers are told to stop by the runner. */
  stop(): void {
    this.stopped.abort();
    this.run?.abort();
    this.dispatch.setTotal(0);
  }

  private warnCapacity(): void {
    if (this.warnedCapacity) return;
    this.warnedCapacity = true;
    this.logger.warning(`only ${this.dispatch.capacity} users can be placed (fixedCount classes only); ramping to ${this.dispatch.capacity}`);
  }

  private runOnce(): Promise<ExecutorEnd> {
    const users = (this.configNow as { users?: unknown }).users;
    if (typeof users === 'number' && users > this.dispatch.capacity) this.warnCapacity();
    const controller = new AbortController();
    this.run = controller;
    if (this.stopped.signal.aborted) controller.abort();
    const executor = executorOf(this.config);
    this.running = executor.run(this, executor.plan(this.config, WHOLE), controller.signal);
    return this.running;
  }

  // ---- ExecutorHost (closed model) ----

  setUsers(n: number): void {
    if (this.stopped.signal.aborted && n > 0) return;
    if (n > this.dispatch.capacity) this.warnCapacity();
    if (this.rampedTo !== undefined && n !== this.rampedTo) {
      this.rampedTo = undefined;
      this.options.onRampStart?.();
    }
    this.dispatch.setTotal(n);
    // Rebalancing each step keeps every worker within ±1 in total too (growth alone keeps classes balanced).
    this.options.onAssignment(this.dispatch.rebalance());
  }

  setClasses(names: readonly string[] | undefined): void {
    this.dispatch.setClasses(this.classesOf(names ?? this.config.userClasses));
  }

  private rampedTo: number | undefined;
  private warnedCapacity = false;

  rampComplete(): void {
    this.rampedTo = this.dispatch.target;
    this.options.onRampComplete();
  }

  preallocate(): void {
    throw new UsageError(`scenario ${this.config.name}: the open model is partitioned over workers, not dispatched`);
  }

  startIteration(): boolean {
    throw new UsageError(`scenario ${this.config.name}: the open model is partitioned over workers, not dispatched`);
  }

  runIterationUsers(): Promise<void> {
    return Promise.reject(new UsageError(`scenario ${this.config.name}: iteration counts are partitioned over workers, not dispatched`));
  }

  iterationsSettled(): Promise<void> {
    return Promise.resolve();
  }

  private classesOf(names: readonly string[] | undefined): ClassWeight[] {
    return this.options.classes.filter((c) => names === undefined || names.includes(c.name));
  }
}
