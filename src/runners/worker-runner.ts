// A worker: runs the users the master assigns, reports cumulative stats, and stops load when the master is gone.
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
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
import { describeStopWait, UserPool, type StopPlan } from './user-pool.ts';
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
  private readonly pool: UserPool;
  private link: MasterLink | undefined;
  private seq = 0;
  private epoch = 0;
  private stopTimeoutMs = 0;
  private drainMs = 5000;
  private lastHeard: number;
  private timers: NodeJS.Timeout[] = [];
  private pendingAck: { seq: number; resolve: () => void } | undefined;
  private finished: { promise: Promise<void>; resolve: () => void };
  private stopping: Promise<void> | undefined;
  private assigned: Record<string, number> = {};
  private readonly listeners = new MessageListeners();

  constructor(options: WorkerRunnerOptions) {
    this.options = options;
    this.timing = { ...defaultWorkerTiming, ...options.timing };
    this.clock = options.clock ?? systemClock;
    this.lastHeard = this.clock.now();
    this.pool = new UserPool({
      environment: options.environment,
      classes: options.userClasses,
      plan: options.plan,
      now: () => this.clock.now(),
      onStopTest: (error: StopTest) => {
        options.environment.logger.warning(`StopTest on this worker: ${error.message}; stopping its users (the master decides about the run)`);
        void this.stopUsers();
      },
    });
    let resolve!: () => void;
    this.finished = { promise: new Promise<void>((r) => (resolve = r)), resolve };
    this.timers.push(setInterval(() => this.report(false), this.timing.reportIntervalMs));
    this.timers.push(setInterval(() => this.beat(), this.timing.heartbeatIntervalMs));
    options.environment.runner = this;
  }

  // ---- RunnerControl: a worker is driven by its master, so starting here is refused ----

  start(): void {
    throw new UsageError('a worker is driven by its master', 'start the run on the master (or its web UI)');
  }

  startShape(): void {
    this.start();
  }

  stop(): Promise<void> {
    return this.stopUsers();
  }

  get targetUserCount(): number {
    return Object.values(this.assigned).reduce((a, b) => a + b, 0);
  }

  userClassCounts(): Record<string, number> {
    return this.pool.counts();
  }

  snapshot(): StatsSnapshot {
    return this.options.stats.snapshot(this.pool.count);
  }

  resetStats(): void {
    this.options.stats.reset();
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
    return this.pool.count;
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
        this.spawn(message);
        return;
      case 'stop':
        if (message.cut === true) this.pool.cutNow();
        void this.stopUsers().then(() => this.send({ type: 'stopped', epoch: this.epoch }));
        return;
      case 'reset':
        this.epoch = message.epoch;
        this.options.stats.reset();
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

  private spawn(message: Extract<MasterMessage, { type: 'spawn' }>): void {
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
    this.assigned = { ...message.classes };
    const { environment } = this.options;
    if (this.machine.is('ready', 'stopped')) environment.events.testStart.fire({ environment });
    if (this.machine.is('ready', 'stopped', 'running')) this.machine.to('spawning');
    this.pool.reconcile(message.classes, this.stopPlan());
    this.pool.rampComplete();
    this.machine.to('running');
    this.send({ type: 'spawned', seq: message.seq, userCount: this.pool.count });
  }

  /** Stops every user (soft, then hard after the stop timeout); in-flight requests finish and are counted. */
  private stopUsers(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (!this.machine.is('spawning', 'running')) return Promise.resolve();
    this.machine.to('stopping');
    this.stopping = this.pool.stopAll(this.stopPlan()).then(({ cut, abandoned }) => {
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
    this.pool.cutNow();
  }

  private stopPlan(): StopPlan {
    const { logger } = this.options.environment;
    return { stopTimeoutMs: this.stopTimeoutMs, drainMs: this.drainMs, onWait: (wait) => logger.info(describeStopWait(wait, 'signal this worker again to cut them now')) };
  }

  private report(final: boolean): number {
    this.seq++;
    const snapshot = packSnapshot(this.options.stats.snapshot(this.pool.count, { history: false }));
    this.send({ type: 'stats', seq: this.seq, epoch: this.epoch, final, userCount: this.pool.count, classes: this.pool.counts(), snapshot });
    return this.seq;
  }

  private beat(): void {
    const silentFor = this.clock.now() - this.lastHeard;
    if (silentFor > this.timing.masterTimeoutMs && this.pool.count > 0) {
      this.options.environment.logger.warning(`no word from the master for ${Math.round(silentFor / 1000)} s: stopping this worker's users`);
      void this.stopUsers();
    }
    const usage = process.cpuUsage();
    this.send({
      type: 'heartbeat',
      state: this.machine.state,
      userCount: this.pool.count,
      cpu: (usage.user + usage.system) / 1000,
      memory: process.memoryUsage.rss(),
    });
  }

  private async quit(): Promise<void> {
    await this.stopUsers();
    const seq = this.report(true);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.options.environment.logger.warning('the master did not acknowledge the final report in time; exiting anyway');
        resolve();
      }, this.timing.finalAckTimeoutMs);
      this.pendingAck = { seq, resolve: () => { clearTimeout(timer); resolve(); } };
    });
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.finished.resolve();
  }

  /** Ends the worker without the master (e.g. SIGTERM to the worker itself). */
  async shutdown(): Promise<void> {
    await this.stopUsers();
    this.report(true);
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.finished.resolve();
  }
}
