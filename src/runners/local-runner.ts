// The runner of one process: ramps users at the spawn rate, follows a LoadShape, stops gracefully.
import type { Clock } from '../core/clock.ts';
import { systemClock, type Timers } from '../core/clock.ts';
import { checkStartRequest, MessageListeners, type MessageListener, type RunnerControl, type StartRequest } from '../core/contracts.ts';
import type { StopTest } from '../core/control-flow.ts';
import type { Environment } from '../core/environment.ts';
import { UsageError } from '../core/errors.ts';
import type { LoadShape } from '../core/load-shape.ts';
import { RunnerStateMachine, type RunnerState } from '../core/runner-state.ts';
import type { TaskPlan } from '../core/task-plan.ts';
import type { UserClass } from '../core/user.ts';
import type { RequestStats } from '../stats/request-stats.ts';
import type { StatsSnapshot } from '../stats/types.ts';
import { describeStopWait, UserPool, type StopPlan } from './user-pool.ts';
import { UserSequence } from './user-sequence.ts';
import { rampPosition, rampStepMs, type Ramp } from './ramp.ts';

export interface LocalRunnerOptions {
  environment: Environment;
  /** The user classes selected for this run, by name. */
  userClasses: ReadonlyMap<string, UserClass>;
  plan: TaskPlan;
  stats: RequestStats;
  shape?: LoadShape | undefined;
  /** Seconds running tasks may go on after a stop (`-s`). */
  stopTimeout: number;
  /** Seconds requests still in flight get after that (`--drain-timeout`), before they are cut. */
  drainTimeout: number;
  equalWeights?: boolean;
  /** Reset statistics once the ramp completes (`--reset-stats`). */
  resetStatsAfterRamp?: boolean;
  clock?: Clock;
  /** Timers of the stop's waits (a fake clock in tests). */
  timers?: Timers;
  /** How often history points are recorded and shapes ticked, ms. */
  tickMs?: number;
}

/** Drives users in this process. The web UI, the CLI and (later) a worker control it through RunnerControl. */
export class LocalRunner implements RunnerControl<StatsSnapshot> {
  private readonly machine: RunnerStateMachine;
  private readonly options: LocalRunnerOptions;
  private readonly clock: Clock;
  private readonly pool: UserPool;
  private sequence: UserSequence;
  private ramp: Ramp | undefined;
  private target = 0;
  private rampTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private runTimer: NodeJS.Timeout | undefined;
  private shapeLast = '';
  private stopping: Promise<void> | undefined;
  private stopped: { promise: Promise<void>; resolve: () => void };

  constructor(options: LocalRunnerOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.machine = new RunnerStateMachine((from, to) => options.environment.logger.debug(`runner ${from} → ${to}`));
    this.sequence = this.buildSequence(undefined);
    this.pool = new UserPool({
      environment: options.environment,
      classes: options.userClasses,
      plan: options.plan,
      now: () => this.clock.now(),
      onStopTest: (error) => this.onStopTest(error),
      ...(options.timers !== undefined ? { timers: options.timers } : {}),
    });
    this.stopped = deferred();
    options.environment.runner = this;
  }

  get state(): RunnerState {
    return this.machine.state;
  }

  get userCount(): number {
    return this.pool.count;
  }

  get targetUserCount(): number {
    return this.target;
  }

  userClassCounts(): Record<string, number> {
    return this.pool.counts();
  }

  snapshot(): StatsSnapshot {
    return this.options.stats.snapshot(this.pool.count);
  }

  resetStats(): void {
    this.options.stats.reset();
    this.options.environment.events.resetStats.fire({});
  }

  whenStopped(): Promise<void> {
    return this.stopped.promise;
  }

  private readonly listeners = new MessageListeners();

  /** In one process there is no master: a custom message goes to this process's own listeners. */
  sendMessage(name: string, data: unknown): void {
    if (!this.listeners.deliver(name, data, 'local')) this.options.environment.logger.warning(`custom message '${name}' has no listener (registerMessage)`);
  }

  registerMessage(name: string, listener: MessageListener): void {
    this.listeners.register(name, listener);
  }

  start(request: StartRequest): void {
    checkStartRequest(request, this.machine.state);
    const { userCount, spawnRate } = request;
    if (request.host !== undefined) this.options.environment.host = request.host;
    if (request.userClasses !== undefined) this.sequence = this.buildSequence(request.userClasses);
    if (this.machine.is('ready', 'stopped')) this.begin();
    this.setRunTime(request.runTime);
    this.rampTo(userCount, spawnRate);
  }

  startShape(runTime?: number): void {
    const shape = this.options.shape;
    if (!shape) throw new UsageError('this cicadafile defines no LoadShape');
    if (!this.machine.is('ready', 'stopped')) throw new UsageError(`cannot start a shape while ${this.state}`);
    this.begin();
    shape.attach(this, () => this.clock.now());
    this.setRunTime(runTime);
    this.shapeLast = '';
    this.applyShape();
  }

  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.machine.is('ready', 'stopped')) {
      if (this.machine.is('ready')) this.machine.to('stopped');
      this.stopped.resolve();
      return Promise.resolve();
    }
    this.stopping = this.finish();
    return this.stopping;
  }

  private buildSequence(names: readonly string[] | undefined): UserSequence {
    const classes = [...this.options.userClasses.entries()]
      .filter(([name]) => names === undefined || names.includes(name))
      .map(([name, cls]) => ({ name, weight: cls.weight, fixedCount: cls.fixedCount }));
    return new UserSequence(classes, this.options.equalWeights);
  }

  private begin(): void {
    const { environment, stats } = this.options;
    // A run starts from clean statistics, as in Locust: a new run after a stop, and also the first one, so
    // its start time (and so its total RPS) is the run's and not the process's (the web UI may wait a long time).
    stats.reset();
    if (this.machine.is('stopped')) {
      this.stopped = deferred();
      this.stopping = undefined;
    }
    this.machine.to('spawning');
    environment.events.testStart.fire({ environment });
    const tickMs = this.options.tickMs ?? 1000;
    this.tickTimer = setInterval(() => this.onTick(), tickMs);
  }

  private onTick(): void {
    this.options.stats.recordHistory(this.pool.count);
    if (this.options.shape?.runner === this && this.machine.is('spawning', 'running')) this.applyShape();
  }

  private applyShape(): void {
    const shape = this.options.shape!;
    let tick: ReturnType<LoadShape['tick']>;
    try {
      tick = shape.tick();
    } catch (error) {
      this.options.environment.logger.error(`LoadShape.tick() threw: ${String(error)}; stopping the test`);
      void this.stop();
      return;
    }
    if (tick === null) {
      void this.stop();
      return;
    }
    const key = JSON.stringify(tick);
    if (key === this.shapeLast) return;
    this.shapeLast = key;
    if (tick.userClasses !== undefined) this.sequence = this.buildSequence(tick.userClasses);
    this.rampTo(tick.users, tick.spawnRate);
  }

  private setRunTime(seconds: number | undefined): void {
    clearTimeout(this.runTimer);
    this.runTimer = undefined;
    if (seconds === undefined) return;
    this.runTimer = setTimeout(() => {
      this.options.environment.logger.info(`run time limit (${seconds} s) reached, stopping`);
      void this.stop();
    }, seconds * 1000);
  }

  private rampTo(userCount: number, spawnRate: number): void {
    const capacity = this.sequence.capacity;
    if (userCount > capacity) {
      this.options.environment.logger.warning(`only ${capacity} users can be placed (fixedCount classes only); ramping to ${capacity}`);
    }
    this.target = Math.min(userCount, capacity);
    if (this.machine.is('running')) this.machine.to('spawning');
    else if (this.machine.is('spawning')) this.machine.to('spawning');
    this.ramp = { from: this.pool.count, to: this.target, rate: spawnRate, startedAt: this.clock.now() };
    clearInterval(this.rampTimer);
    this.rampTimer = setInterval(() => this.rampStep(), rampStepMs(spawnRate));
    this.rampStep();
  }

  private rampStep(): void {
    const ramp = this.ramp;
    if (!ramp || !this.machine.is('spawning')) return;
    const n = rampPosition(ramp, this.clock.now());
    this.pool.reconcile(this.sequence.countsFor(n), this.stopPlan());
    if (n === ramp.to) this.rampDone();
  }

  private rampDone(): void {
    clearInterval(this.rampTimer);
    this.rampTimer = undefined;
    this.ramp = undefined;
    this.machine.to('running');
    this.pool.rampComplete();
    const { environment } = this.options;
    environment.logger.info(`ramp complete: ${this.pool.count} users (${JSON.stringify(this.pool.counts())})`);
    environment.events.spawningComplete.fire({ userCount: this.pool.count });
    if (this.options.resetStatsAfterRamp) this.resetStats();
  }

  /** Ends the waits of a stop under way (a second Ctrl+C): requests in flight are cut now, reports still follow. */
  cutInFlight(): void {
    this.pool.cutNow();
  }

  private stopPlan(): StopPlan {
    const { stopTimeout, drainTimeout, environment } = this.options;
    return { stopTimeoutMs: stopTimeout * 1000, drainMs: drainTimeout * 1000, onWait: (wait) => environment.logger.info(describeStopWait(wait)) };
  }

  private onStopTest(error: StopTest): void {
    this.options.environment.logger.info(`StopTest: ${error.message}`);
    void this.stop();
  }

  private async finish(): Promise<void> {
    const { environment, stats } = this.options;
    this.machine.to('stopping');
    environment.events.testStopping.fire({ environment });
    clearInterval(this.rampTimer);
    clearTimeout(this.runTimer);
    this.ramp = undefined;
    const { cut, abandoned } = await this.pool.stopAll(this.stopPlan());
    if (cut > 0) environment.logger.warning(`${cut} requests still in flight were cut and recorded as failed: cancelled at stop`);
    if (abandoned > 0) environment.logger.warning(`${abandoned} users were still busy in their own code after the stop (it ignores user.signal); left behind`);
    clearInterval(this.tickTimer);
    stats.recordHistory(0);
    this.target = 0;
    this.machine.to('stopped');
    environment.events.testStop.fire({ environment });
    this.stopped.resolve();
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
