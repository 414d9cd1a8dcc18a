// The runner of one process: ramps users at the spawn rate, follows a LoadShape, stops gracefully.
import type { Clock } from '../core/clock.ts';
import { repeat, systemClock, systemTimers, type Timers } from '../core/clock.ts';
import { checkStartRequest, MessageListeners, type MessageListener, type RunnerControl, type StartRequest } from '../core/contracts.ts';
import type { StopTest } from '../core/control-flow.ts';
import type { Environment } from '../core/environment.ts';
import { UsageError } from '../core/errors.ts';
import { WHOLE, type ScenarioCommon } from '../core/executor.ts';
import type { LoadShape } from '../core/load-shape.ts';
import { RunnerStateMachine, type RunnerState } from '../core/runner-state.ts';
import type { TaskPlan } from '../core/task-plan.ts';
import type { UserClass } from '../core/user.ts';
import type { RequestStats } from '../stats/request-stats.ts';
import type { StatsSnapshot } from '../stats/types.ts';
import { DEFAULT_SCENARIO, parseScenario, requestScenario } from './executors/index.ts';
import { RunTimer } from './run-timer.ts';
import { ScenarioSet } from './scenario-set.ts';
import { describeStopWait, type StopPlan } from './user-pool.ts';

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
  /** Timers of every wait — ramps, arrivals, the run time, the stop (a fake clock in tests). */
  timers?: Timers;
  /** How often history points are recorded and shapes ticked, ms. */
  tickMs?: number;
}

export { DEFAULT_SCENARIO } from './executors/index.ts';

/**
 * Drives users in this process by hosting scenarios, each run by its executor. The web UI, the CLI and
 * a script control it through RunnerControl.
 */
export class LocalRunner implements RunnerControl<StatsSnapshot> {
  private readonly machine: RunnerStateMachine;
  private readonly options: LocalRunnerOptions;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly scenarios: ScenarioSet;
  private stopTick: (() => void) | undefined;
  private readonly runTime: RunTimer;
  private stopping: Promise<void> | undefined;
  private stopped: { promise: Promise<void>; resolve: () => void };
  private readonly listeners = new MessageListeners();

  constructor(options: LocalRunnerOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? systemTimers;
    this.runTime = new RunTimer(this.timers, options.environment.logger, () => void this.stop());
    this.machine = new RunnerStateMachine((from, to) => options.environment.logger.debug(`runner ${from} → ${to}`));
    this.scenarios = new ScenarioSet({
      environment: options.environment,
      classes: options.userClasses,
      plan: options.plan,
      clock: this.clock,
      timers: this.timers,
      equalWeights: options.equalWeights ?? false,
      onStopTest: (error) => this.onStopTest(error),
      onWait: (wait) => options.environment.logger.info(describeStopWait(wait)),
      shape: options.shape,
      runner: this,
      onRampComplete: () => this.rampDone(),
      onRampStart: () => {
        if (this.machine.is('running')) this.machine.to('spawning');
      },
      onScenarioEnded: (name) => this.scenarioEnded(name),
    });
    this.scenarios.drainMs = options.drainTimeout * 1000;
    this.stopped = deferred();
    options.environment.runner = this;
  }

  get state(): RunnerState {
    return this.machine.state;
  }

  get userCount(): number {
    return this.scenarios.userCount;
  }

  get targetUserCount(): number {
    return this.scenarios.targetUserCount;
  }

  userClassCounts(): Record<string, number> {
    return this.scenarios.counts();
  }

  snapshot(): StatsSnapshot {
    return this.options.stats.snapshot(this.userCount);
  }

  resetStats(): void {
    this.options.stats.reset();
    this.options.environment.events.resetStats.fire({});
  }

  whenStopped(): Promise<void> {
    return this.stopped.promise;
  }

  /** In one process there is no master: a custom message goes to this process's own listeners. */
  sendMessage(name: string, data: unknown): void {
    if (!this.listeners.deliver(name, data, 'local')) this.options.environment.logger.warning(`custom message '${name}' has no listener (registerMessage)`);
  }

  registerMessage(name: string, listener: MessageListener): void {
    this.listeners.register(name, listener);
  }

  /** Starts N users at R users/s (one `users` scenario), or gives the running one a new target. */
  start(request: StartRequest): void {
    checkStartRequest(request, this.machine.state);
    const classes = request.userClasses;
    if (classes !== undefined) for (const name of classes) this.checkClass(name);
    // Every class is in the default scenario; a request's userClasses narrows it (and a later one may widen it again).
    const config = requestScenario(request, this.options.stopTimeout * 1000);
    if (request.host !== undefined) this.options.environment.host = request.host;
    const running = this.scenarios.get(DEFAULT_SCENARIO);
    if (this.machine.is('ready', 'stopped')) {
      this.begin();
      this.scenarios.add(config, WHOLE, classes !== undefined ? { classes } : {});
    } else if (running !== undefined && running.config.executor === config.executor && (config.executor === 'users' || config.executor === 'constant-arrival-rate')) {
      if (config.executor === 'users') {
        this.machine.to('spawning');
        this.scenarios.rampingAgain(DEFAULT_SCENARIO);
      }
      if (classes !== undefined) running.setClasses(classes);
      // A new arrival rate starts its schedule afresh from now; a new user count ramps on from where it is.
      void running.replan(config.executor === 'users' ? { config } : { config, restartClock: true });
    } else {
      throw new UsageError(`a ${running?.config.executor ?? 'scenario'} run is going: it cannot be changed to ${config.executor === 'users' ? 'a user count' : 'an arrival rate'}`, 'stop the run first, then start again');
    }
    // An arrival rate's run time is its scenario's duration (its graceful stop then follows); a user count's caps the run.
    this.runTime.set(request.arrivalRate === undefined ? request.runTime : undefined);
    this.runningIfNothingRamps();
  }

  /** Only arrival rates and iteration counts: nothing ramps, the run is running as soon as it starts. */
  private runningIfNothingRamps(): void {
    if (this.machine.is('spawning') && !this.scenarios.isRamping) this.rampDone();
  }

  startShape(runTime?: number): void {
    if (!this.options.shape) throw new UsageError('this cicadafile defines no LoadShape');
    if (!this.machine.is('ready', 'stopped')) throw new UsageError(`cannot start a shape while ${this.state}`);
    const config = parseScenario('shape', { executor: 'shape', shape: this.options.shape.constructor.name }, 'LoadShape', { stopTimeoutMs: this.options.stopTimeout * 1000 });
    this.begin();
    this.scenarios.add({ ...config, tickMs: this.options.tickMs ?? 1000 } as ScenarioCommon, WHOLE);
    this.runTime.set(runTime);
  }

  startScenarios(scenarios: readonly ScenarioCommon[], runTime?: number): void {
    if (!this.machine.is('ready', 'stopped')) throw new UsageError(`cannot start scenarios while ${this.state}`, 'stop the run first');
    if (scenarios.length === 0) throw new UsageError('no scenario to run', 'define scenarios, or give -u/-r');
    for (const s of scenarios) for (const name of s.userClasses ?? []) this.checkClass(name);
    if (scenarios.some((s) => s.executor === 'shape') && !this.options.shape) throw new UsageError('a shape scenario needs a LoadShape in the cicadafile');
    this.begin();
    this.options.stats.tagScenarios = scenarios.length > 1;
    for (const config of scenarios) this.scenarios.add(config, WHOLE);
    this.runTime.set(runTime);
    this.runningIfNothingRamps();
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

  /** Ends the waits of a stop under way (a second Ctrl+C): requests in flight are cut now, reports still follow. */
  cutInFlight(): void {
    this.scenarios.cutNow();
  }

  private checkClass(name: string): void {
    if (!this.options.userClasses.has(name)) {
      throw new UsageError(`unknown user class '${name}'`, `classes in this run: ${[...this.options.userClasses.keys()].join(', ')}`);
    }
  }

  private begin(): void {
    const { environment, stats } = this.options;
    // A run starts from clean statistics, as in Locust: a new run after a stop, and also the first one, so
    // its start time (and so its total RPS) is the run's and not the process's (the web UI may wait a long time).
    stats.reset();
    stats.tagScenarios = false;
    if (this.machine.is('stopped')) {
      this.stopped = deferred();
      this.stopping = undefined;
      this.scenarios.clear();
    }
    this.machine.to('spawning');
    environment.events.testStart.fire({ environment });
    this.stopTick = repeat(this.timers, this.options.tickMs ?? 1000, () => this.options.stats.recordHistory(this.userCount));
  }


  private rampDone(): void {
    if (!this.machine.is('spawning')) return;
    this.machine.to('running');
    const { environment } = this.options;
    environment.logger.info(`ramp complete: ${this.userCount} users (${JSON.stringify(this.userClassCounts())})`);
    environment.events.spawningComplete.fire({ userCount: this.userCount });
    if (this.options.resetStatsAfterRamp) this.resetStats();
  }

  private scenarioEnded(name: string): void {
    if (this.scenarios.size > 1) this.options.environment.logger.info(`scenario ${name} ended`);
    if (this.scenarios.allEnded) {
      if (this.scenarios.size > 1) this.options.environment.logger.info('every scenario has ended, stopping');
      void this.stop();
    }
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
    if (this.machine.is('ready')) this.machine.to('spawning');
    this.machine.to('stopping');
    environment.events.testStopping.fire({ environment });
    this.runTime.clear();
    const { cut, abandoned } = await this.scenarios.stopAll(this.stopPlan());
    if (cut > 0) environment.logger.warning(`${cut} requests still in flight were cut and recorded as failed: cancelled at stop`);
    if (abandoned > 0) environment.logger.warning(`${abandoned} users were still busy in their own code after the stop (it ignores user.signal); left behind`);
    this.stopTick?.();
    stats.recordHistory(0);
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
