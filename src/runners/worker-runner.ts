// A worker: runs the users the master assigns, reports cumulative stats, and stops load when the master is gone.
import type { Clock } from '../core/clock.ts';
import { repeat, systemClock, systemTimers, type Timers } from '../core/clock.ts';
import type { ScenarioCommon, Segment } from '../core/executor.ts';
import type { StopTest } from '../core/control-flow.ts';
import { MessageListeners, type MessageListener, type RunnerControl } from '../core/contracts.ts';
import type { Environment } from '../core/environment.ts';
import { UsageError } from '../core/errors.ts';
import type { StatsSnapshot } from '../stats/types.ts';
import { RunnerStateMachine, type RunnerState } from '../core/runner-state.ts';
import type { TaskPlan } from '../core/task-plan.ts';
import type { UserClass } from '../core/user.ts';
import type { RequestStats } from '../stats/request-stats.ts';
import type { MasterMessage, WorkerMessage } from './messages.ts';
import { DEFAULT_SCENARIO, parseScenario } from './executors/index.ts';
import { ScenarioSet } from './scenario-set.ts';
import { describeStopWait, type StopPlan } from './user-pool.ts';
import { packSnapshot } from './wire-snapshot.ts';

/** Where a worker's messages go: the current connection to the master, if any. */
export interface MasterLink {
  send(message: WorkerMessage): boolean;
}

export interface WorkerTiming {
  /** Stats reports and heartbeats, ms (default 1000). */
  reportIntervalMs: number;
  heartbeatIntervalMs: number;
  /** No word from the master for this long → stop generating load (default 60 s, as Locust). */
  masterTimeoutMs: number;
  /** How long the final report waits for the master's ack before the worker exits anyway. */
  finalAckTimeoutMs: number;
}

export const defaultWorkerTiming: WorkerTiming = { reportIntervalMs: 1000, heartbeatIntervalMs: 1000, masterTimeoutMs: 60_000, finalAckTimeoutMs: 10_000 };

export interface WorkerRunnerOptions {
  environment: Environment;
  userClasses: ReadonlyMap<string, UserClass>;
  plan: TaskPlan;
  stats: RequestStats;
  timing?: Partial<WorkerTiming>;
  clock?: Clock;
  timers?: Timers;
  equalWeights?: boolean;
}

/**
 * Applies the master's absolute per-class counts (so a repeated or late `spawn` cannot overshoot),
 * sends numbered cumulative snapshots, and on `quit` sends a final one and waits for its ack.
 */
export class WorkerRunner implements RunnerControl<StatsSnapshot> {
  private readonly options: WorkerRunnerOptions;
  private readonly timing: WorkerTiming;
  private readonly clock: Clock;
  private readonly machine = new RunnerStateMachine();
  private readonly scenarios: ScenarioSet;
  private link: MasterLink | undefined;
  private seq = 0;
  private epoch = 0;
  private stopTimeoutMs = 0;
  private drainMs = 5000;
  private lastHeard: number;
  private stopTimers: (() => void)[] = [];
  private readonly wait: Timers;
  private pendingAck: { seq: number; resolve: () => void } | undefined;
  private finished: { promise: Promise<void>; resolve: () => void };
  private stopping: Promise<void> | undefined;
  private assigned: Record<string, number> = {};
  private readonly listeners = new MessageListeners();

  constructor(options: WorkerRunnerOptions) {
    this.options = options;
    this.timing = { ...defaultWorkerTiming, ...options.timing };
    this.wait = options.timers ?? systemTimers;
    this.clock = options.clock ?? systemClock;
    this.lastHeard = this.clock.now();
    const { logger } = options.environment;
    this.scenarios = new ScenarioSet({
      environment: options.environment,
      classes: options.userClasses,
      plan: options.plan,
      clock: this.clock,
      timers: this.wait,
      equalWeights: options.equalWeights ?? false,
      onStopTest: (error: StopTest) => {
        logger.warning(`StopTest on this worker: ${error.message}; stopping its users (the master decides about the run)`);
        void this.stopUsers();
      },
      onWait: (wait) => logger.info(describeStopWait(wait, 'signal this worker again to cut them now')),
      runner: this,
      onRampComplete: () => undefined,
      onScenarioEnded: (name) => this.send({ type: 'ended', epoch: this.epoch, scenario: name }),
    });
    let resolve!: () => void;
    this.finished = { promise: new Promise<void>((r) => (resolve = r)), resolve };
    this.stopTimers.push(repeat(this.wait, this.timing.reportIntervalMs, () => this.report(false)));
    this.stopTimers.push(repeat(this.wait, this.timing.heartbeatIntervalMs, () => this.beat()));
    options.environment.runner = this;
  }

  // ---- RunnerControl: a worker is driven by its master, so starting here is refused ----

  start(): void {
    throw new UsageError('a worker is driven by its master', 'start the run on the master (or its web UI)');
  }

  startShape(): void {
    this.start();
  }

  startScenarios(): void {
    this.start();
  }

  stop(): Promise<void> {
    return this.stopUsers();
  }

  get targetUserCount(): number {
    return Object.values(this.assigned).reduce((a, b) => a + b, 0);
  }

  userClassCounts(): Record<string, number> {
    return this.scenarios.counts();
  }

  snapshot(): StatsSnapshot {
    return this.options.stats.snapshot(this.scenarios.userCount);
  }

  resetStats(): void {
    this.options.stats.reset();
    this.options.environment.events.resetStats.fire({});
  }

  whenStopped(): Promise<void> {
    return this.finished.promise;
  }

  /** Sends a custom message to the master (`clientId` is ignored on a worker). */
  sendMessage(name: string, data: unknown): void {
    this.send({ type: 'custom', name, data });
  }

  registerMessage(name: string, listener: MessageListener): void {
    this.listeners.register(name, listener);
  }

  get state(): RunnerState {
    return this.machine.state;
  }

  get userCount(): number {
    return this.scenarios.userCount;
  }

  /** Resolves once the master said `quit` and the final report was acknowledged (or timed out). */
  whenFinished(): Promise<void> {
    return this.finished.promise;
  }

  /** A new connection to the master (after the first connect or a reconnect under the same id). */
  attach(link: MasterLink): void {
    this.link = link;
    this.lastHeard = this.clock.now();
    this.beat();
    this.report(false);
  }

  detach(): void {
    this.link = undefined;
  }

  handle(message: MasterMessage): void {
    this.lastHeard = this.clock.now();
    switch (message.type) {
      case 'heartbeat':
        return;
      case 'spawn':
      case 'scenario':
        this.spawn(message);
        return;
      case 'stop':
        if (message.cut === true) this.scenarios.cutNow();
        void this.stopUsers().then(() => this.send({ type: 'stopped', epoch: this.epoch }));
        return;
      case 'reset':
        this.epoch = message.epoch;
        this.resetStats();
        return;
      case 'ack':
        if (this.pendingAck && message.seq >= this.pendingAck.seq) this.pendingAck.resolve();
        return;
      case 'quit':
        void this.quit();
        return;
      case 'custom':
        if (!this.listeners.deliver(message.name, message.data, 'master')) {
          this.options.environment.logger.warning(`custom message '${message.name}' from the master has no listener (registerMessage)`);
        }
        return;
    }
  }

  private send(message: WorkerMessage): void {
    this.link?.send(message);
  }

  private spawn(message: Extract<MasterMessage, { type: 'spawn' | 'scenario' }>): void {
    if (this.stopping) {
      // Users started now would escape the stop under way: apply the assignment once it is done.
      const later = message;
      void this.stopping.then(() => this.spawn(later));
      return;
    }
    if (message.epoch !== this.epoch) {
      this.epoch = message.epoch;
      this.options.stats.reset();
    }
    if (message.host !== undefined) this.options.environment.host = message.host;
    this.stopTimeoutMs = message.stopTimeout * 1000;
    this.drainMs = message.drainTimeout * 1000;
    this.scenarios.drainMs = this.drainMs;
    this.options.stats.tagScenarios = message.tagScenarios === true;
    const { environment } = this.options;
    if (this.machine.is('ready', 'stopped')) {
      this.scenarios.clear();
      environment.events.testStart.fire({ environment });
    }
    if (this.machine.is('ready', 'stopped', 'running')) this.machine.to('spawning');
    if (message.type === 'spawn') this.applyCounts(message.scenario ?? DEFAULT_SCENARIO, message.classes);
    else this.applySegment(message.config as unknown as ScenarioCommon, message.segment, message.elapsedMs, message.key);
    this.assigned = this.scenarios.counts();
    this.machine.to('running');
    if (message.type === 'spawn') this.send({ type: 'spawned', seq: message.seq, userCount: this.scenarios.userCount });
  }

  /** A closed-model scenario: the master's absolute per-class counts for this worker. */
  private applyCounts(name: string, classes: Record<string, number>): void {
    let run = this.scenarios.get(name);
    if (run === undefined) {
      const config = parseScenario(name, { executor: 'users', users: 0, gracefulStop: this.stopTimeoutMs / 1000 }, 'the master', { stopTimeoutMs: this.stopTimeoutMs });
      run = this.scenarios.add(config, { index: 0, count: 1 }, { dispatched: true });
    }
    run.setClassCounts(classes);
  }

  /** An open-model or iteration-count scenario: this worker's segment of it, started or re-partitioned. */
  private applySegment(config: ScenarioCommon, segment: Segment, elapsedMs: number, key = config.name): void {
    const run = this.scenarios.get(key);
    if (run !== undefined) {
      void run.replan({ segment });
      return;
    }
    // The master started the scenario `elapsedMs` ago (its start time included): line this worker's schedule up with it.
    const startIn = Math.max(0, config.startTimeMs - elapsedMs);
    this.scenarios.add({ ...config, startTimeMs: startIn }, segment, { originShiftMs: Math.max(0, elapsedMs - config.startTimeMs), key });
  }

  /** Stops every user (soft, then hard after the stop timeout); in-flight requests finish and are counted. */
  private stopUsers(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (!this.machine.is('spawning', 'running')) return Promise.resolve();
    this.machine.to('stopping');
    this.stopping = this.scenarios.stopAll(this.stopPlan()).then(({ cut, abandoned }) => {
      const { logger } = this.options.environment;
      if (cut > 0) logger.warning(`${cut} requests still in flight were cut and recorded as failed: cancelled at stop`);
      if (abandoned > 0) logger.warning(`${abandoned} users were still busy in their own code after the stop (it ignores user.signal); left behind`);
      this.machine.to('stopped');
      this.assigned = {};
      const { environment } = this.options;
      environment.events.testStop.fire({ environment });
      this.stopping = undefined;
      this.report(false);
    });
    return this.stopping;
  }

  /** Ends the waits of a stop under way: requests in flight are cut now (a second signal to this worker). */
  cutInFlight(): void {
    this.scenarios.cutNow();
  }

  private stopPlan(): StopPlan {
    const { logger } = this.options.environment;
    return { stopTimeoutMs: this.stopTimeoutMs, drainMs: this.drainMs, onWait: (wait) => logger.info(describeStopWait(wait, 'signal this worker again to cut them now')) };
  }

  private report(final: boolean): number {
    this.seq++;
    const snapshot = packSnapshot(this.options.stats.snapshot(this.scenarios.userCount, { history: false }));
    this.send({ type: 'stats', seq: this.seq, epoch: this.epoch, final, userCount: this.scenarios.userCount, classes: this.scenarios.counts(), snapshot });
    return this.seq;
  }

  private beat(): void {
    const silentFor = this.clock.now() - this.lastHeard;
    if (silentFor > this.timing.masterTimeoutMs && this.scenarios.userCount > 0) {
      this.options.environment.logger.warning(`no word from the master for ${Math.round(silentFor / 1000)} s: stopping this worker's users`);
      void this.stopUsers();
    }
    const usage = process.cpuUsage();
    this.send({
      type: 'heartbeat',
      state: this.machine.state,
      userCount: this.scenarios.userCount,
      cpu: (usage.user + usage.system) / 1000,
      memory: process.memoryUsage.rss(),
    });
  }

  private async quit(): Promise<void> {
    await this.stopUsers();
    // Waiting for the ack starts before the report is sent: a link that answers at once must not lose it.
    const acked = new Promise<void>((resolve) => {
      const timer = this.wait.setTimeout(() => {
        this.options.environment.logger.warning('the master did not acknowledge the final report in time; exiting anyway');
        resolve();
      }, this.timing.finalAckTimeoutMs);
      this.pendingAck = { seq: this.seq + 1, resolve: () => { this.wait.clearTimeout(timer); resolve(); } };
    });
    this.report(true);
    await acked;
    for (const stop of this.stopTimers) stop();
    this.stopTimers = [];
    this.finished.resolve();
  }

  /** Ends the worker without the master (e.g. SIGTERM to the worker itself). */
  async shutdown(): Promise<void> {
    await this.stopUsers();
    this.report(true);
    for (const stop of this.stopTimers) stop();
    this.stopTimers = [];
    this.finished.resolve();
  }
}
