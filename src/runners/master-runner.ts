// The master: dispatches users over workers at the spawn rate, sums their reports, and notices missing workers.
import type { Clock } from '../core/clock.ts';
import { repeat, systemClock, systemTimers, type Timers } from '../core/clock.ts';
import type { ScenarioCommon } from '../core/executor.ts';
import type { LoadShape } from '../core/load-shape.ts';
import { checkStartRequest, MessageListeners, type MessageListener, type RunnerControl, type StartRequest } from '../core/contracts.ts';
import type { Environment } from '../core/environment.ts';
import { UsageError } from '../core/errors.ts';
import { RunnerStateMachine, type RunnerState } from '../core/runner-state.ts';
import type { ClusterStats } from '../stats/cluster-stats.ts';
import type { StatsSnapshot } from '../stats/types.ts';
import { printable } from '../core/printable.ts';
import type { MasterMessage, WorkerMessage } from './messages.ts';
import type { ClassWeight } from './user-sequence.ts';
import { ClosedScenarios } from './closed-scenarios.ts';
import { defaultMasterTiming, printableLogger, takeHeartbeat, takeReport, type MasterTiming, type ReportContext, type WorkerInfo, type WorkerLink, type WorkerRecord } from './master-workers.ts';
import { DEFAULT_SCENARIO, executorOf, parseScenario, requestScenario } from './executors/index.ts';
import { Partitions } from './partitions.ts';
import { RunTimer } from './run-timer.ts';

export { defaultMasterTiming, type MasterTiming, type WorkerInfo, type WorkerLink } from './master-workers.ts';

export interface MasterRunnerOptions {
  environment: Environment;
  classes: readonly ClassWeight[];
  stats: ClusterStats;
  stopTimeout: number;
  /** Seconds the workers' requests in flight get after the stop timeout (`--drain-timeout`). */
  drainTimeout: number;
  equalWeights?: boolean;
  timing?: Partial<MasterTiming>;
  clock?: Clock;
  timers?: Timers;
  /** The cicadafile's LoadShape, which the master runs for the whole cluster. */
  shape?: LoadShape | undefined;
}

/** Drives workers through the same RunnerControl the CLI and the web UI use for a local run. */
export class MasterRunner implements RunnerControl<StatsSnapshot> {
  private readonly options: MasterRunnerOptions;
  private readonly timing: MasterTiming;
  private readonly clock: Clock;
  private readonly machine: RunnerStateMachine;
  private readonly timers: Timers;
  private readonly workers = new Map<string, WorkerRecord>();
  private readonly closed: ClosedScenarios;
  private readonly partitioned: Partitions;
  private ramping = new Set<string>();
  /** More than one scenario runs: requests are recorded per scenario (`name [scenario]`). */
  private tagScenarios = false;
  private spawnSeq = 0;
  private readonly runTime: RunTimer;
  private readonly stopTick: () => void;
  private stopping: Promise<void> | undefined;
  private stopped = deferred();
  private stopWaiters: (() => void)[] = [];
  private joinWaiters: (() => void)[] = [];

  constructor(options: MasterRunnerOptions) {
    this.options = options;
    this.timing = { ...defaultMasterTiming, ...options.timing };
    this.clock = options.clock ?? systemClock;
    this.machine = new RunnerStateMachine((from, to) => options.environment.logger.debug(`master ${from} → ${to}`));
    this.timers = options.timers ?? systemTimers;
    this.runTime = new RunTimer(this.timers, options.environment.logger, () => void this.stop());
    const common = (): { seq: number; epoch: number; stopTimeout: number; drainTimeout: number; host?: string; tagScenarios?: boolean } => ({
      seq: ++this.spawnSeq, epoch: options.stats.epoch, stopTimeout: options.stopTimeout, drainTimeout: options.drainTimeout,
      ...(options.environment.host !== undefined ? { host: options.environment.host } : {}), ...(this.tagScenarios ? { tagScenarios: true } : {}),
    });
    const send = (id: string, message: MasterMessage): void => void this.workers.get(id)?.link?.send(message);
    this.closed = new ClosedScenarios({ liveWorkers: () => this.liveWorkerIds(), send, message: common });
    this.partitioned = new Partitions({
      clock: this.clock,
      // Its lines name workers and scenario keys.
      logger: printableLogger(options.environment.logger),
      stats: options.stats,
      liveWorkers: () => this.liveWorkerIds(),
      send,
      message: common,
      onOver: (key) => this.scenarioOver(key),
    });
    this.stopTick = repeat(this.timers, this.timing.heartbeatIntervalMs, () => this.tick());
    options.environment.runner = this;
  }

  get state(): RunnerState {
    return this.machine.state;
  }

  get userCount(): number {
    let n = 0;
    for (const w of this.workers.values()) if (!w.missing) n += w.userCount;
    return n;
  }

  get targetUserCount(): number {
    let n = this.closed.goal;
    if (this.partitioned.size > 0) for (const w of this.workers.values()) if (!w.missing) n += countOf(w.classes) - countOf(this.closed.classCounts(w.id));
    return n;
  }

  /** Workers that are connected and not missing. */
  get readyWorkers(): number {
    return [...this.workers.values()].filter((w) => w.connected && !w.missing).length;
  }

  workerInfo(): WorkerInfo[] {
    return [...this.workers.values()].map(({ id, state, userCount, cpu, memory, missing, connected }) => ({ id, state, userCount, cpu, memory, missing, connected }));
  }

  userClassCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    const add = (classes: Record<string, number>, sign: number): void => {
      for (const [c, n] of Object.entries(classes)) out[c] = (out[c] ?? 0) + sign * n;
    };
    add(this.closed.classCounts(), 1);
    // Partitioned scenarios' users are known from the workers' reports (their total minus the dispatched users).
    if (this.partitioned.size > 0) {
      for (const w of this.workers.values()) {
        if (w.missing) continue;
        add(w.classes, 1);
        add(this.closed.classCounts(w.id), -1);
      }
    }
    for (const [c, n] of Object.entries(out)) if (n <= 0) delete out[c];
    return out;
  }

  snapshot(): StatsSnapshot {
    return this.options.stats.snapshot(this.userCount);
  }

  resetStats(): void {
    const epoch = this.options.stats.reset();
    this.broadcast({ type: 'reset', epoch });
    this.options.environment.events.resetStats.fire({});
  }

  whenStopped(): Promise<void> {
    return this.stopped.promise;
  }

  private readonly listeners = new MessageListeners();

  /** Sends a custom message to one worker, or to every connected worker when `clientId` is absent. */
  sendMessage(name: string, data: unknown, clientId?: string): void {
    const message: MasterMessage = { type: 'custom', name, data };
    if (clientId === undefined) this.broadcast(message);
    else if (!this.workers.get(clientId)?.link?.send(message)) this.options.environment.logger.warning(`custom message '${printable(name, 100)}': worker ${printable(clientId, 128)} is not connected`);
  }

  registerMessage(name: string, listener: MessageListener): void {
    this.listeners.register(name, listener);
  }

  /** Resolves once `n` workers are connected, or after `maxWaitMs` (0 = no limit). */
  async waitForWorkers(n: number, maxWaitMs: number): Promise<boolean> {
    const deadline = maxWaitMs > 0 ? this.clock.now() + maxWaitMs : Infinity;
    while (this.readyWorkers < n) {
      if (this.clock.now() >= deadline || this.machine.is('stopped')) return false;
      await new Promise<void>((resolve) => {
        const timer = this.timers.setTimeout(resolve, Math.min(1000, Math.max(1, deadline - this.clock.now())));
        this.joinWaiters.push(() => { this.timers.clearTimeout(timer); resolve(); });
      });
    }
    return true;
  }

  // ---- workers coming and going ----

  /** A worker finished its handshake (first time, or again after a reconnect under the same id). */
  workerConnected(id: string, link: WorkerLink): void {
    const existing = this.workers.get(id);
    const logger = this.options.environment.logger;
    if (existing) {
      logger.info(`worker ${printable(id, 128)} reconnected${existing.missing ? ' (was missing)' : ''}`);
      existing.link = link;
      existing.connected = true;
      existing.lastHeard = this.clock.now();
      if (existing.missing) {
        existing.missing = false;
        // Its shares of partitioned scenarios went to the others while it was missing: it drops what it still runs, then gets new shares.
        if (this.machine.is('spawning', 'running') && this.partitioned.active) link.send({ type: 'stop', epoch: this.options.stats.epoch });
        this.closed.addWorker(id);
        this.redispatch();
      } else {
        this.closed.resend(id);
        this.partitioned.resend(id);
      }
    } else {
      logger.info(`worker ${printable(id, 128)} connected (${this.workers.size + 1} in total)`);
      this.workers.set(id, {
        id, state: 'ready', userCount: 0, cpu: 0, memory: 0, missing: false, connected: true, link, lastHeard: this.clock.now(), classes: {}, stoppedEpoch: -1,
        refusals: { loggedAt: Number.NEGATIVE_INFINITY, unlogged: 0 },
      });
      this.closed.addWorker(id);
      this.redispatch();
    }
    for (const wake of this.joinWaiters.splice(0)) wake();
  }

  /**
   * A connection closed. The worker is not missing yet: it may reconnect within the liveness window.
   * `link` says which connection: the late close of an old one must not cut a newer one.
   */
  workerDisconnected(id: string, link?: WorkerLink): void {
    const w = this.workers.get(id);
    if (!w || (link !== undefined && w.link !== link)) return;
    w.link = undefined;
    w.connected = false;
  }

  handle(id: string, message: WorkerMessage): void {
    const w = this.workers.get(id);
    if (!w) return;
    w.lastHeard = this.clock.now();
    switch (message.type) {
      // Numbers no worker can send are refused (and logged at most once a minute per worker): see master-workers.ts.
      case 'heartbeat':
        if (takeHeartbeat(w, message, this.reportContext()) && w.missing) this.workerConnected(id, w.link ?? { send: () => false });
        return;
      case 'stats':
        takeReport(w, message, this.reportContext());
        return;
      case 'spawned':
        w.userCount = message.userCount;
        return;
      case 'ended':
        if (message.epoch === this.options.stats.epoch) this.partitioned.shareEnded(id, message.scenario);
        return;
      case 'stopped':
        w.stoppedEpoch = message.epoch;
        w.userCount = 0;
        for (const wake of this.stopWaiters.splice(0)) wake();
        return;
      case 'custom':
        if (!this.listeners.deliver(message.name, message.data, id)) {
          this.options.environment.logger.warning(`custom message '${printable(message.name, 100)}' from ${printable(id, 128)} has no listener (registerMessage)`);
        }
        return;
    }
  }

  private reportContext(): ReportContext {
    const { environment, stats } = this.options;
    return { stats, logger: environment.logger, events: environment.events, now: this.clock.now() };
  }

  private tick(): void {
    const now = this.clock.now();
    this.broadcast({ type: 'heartbeat' });
    const limit = this.timing.heartbeatIntervalMs * this.timing.heartbeatLiveness;
    for (const w of this.workers.values()) {
      if (!w.missing && now - w.lastHeard > limit) {
        w.missing = true;
        w.state = 'missing';
        this.options.environment.logger.warning(
          `worker ${printable(w.id, 128)} is missing (no heartbeat for ${((now - w.lastHeard) / 1000).toFixed(1)} s); its users go to the others. ` +
            (this.options.stats.seqOf(w.id) < 0
              ? 'It sent no report, so none of its requests are counted'
              : `Its last report (#${this.options.stats.seqOf(w.id)}) stays in the totals: requests it made after that report are not counted`),
        );
        this.closed.removeWorker(w.id);
        this.redispatch();
        if (this.machine.is('spawning', 'running')) this.partitioned.reassignIterations(w.id);
        for (const wake of this.stopWaiters.splice(0)) wake();
      }
    }
    if (this.machine.is('spawning', 'running', 'stopping', 'stopped')) this.options.stats.recordHistory(this.userCount);
  }

  // ---- running ----

  /** Starts N users at R users/s over the workers (one `users` scenario), or gives the running one a new target. */
  start(request: StartRequest): void {
    checkStartRequest(request, this.machine.state);
    const classes = request.userClasses;
    for (const name of classes ?? []) {
      if (!this.options.classes.some((c) => c.name === name)) throw new UsageError(`unknown user class '${name}'`, `classes in this run: ${this.options.classes.map((c) => c.name).join(', ')}`);
    }
    const config = requestScenario(request, this.options.stopTimeout * 1000);
    if (request.host !== undefined) this.options.environment.host = request.host;
    const running = this.closed.get(DEFAULT_SCENARIO);
    const open = executorOf(config).model === 'open';
    if (this.machine.is('ready', 'stopped')) {
      this.begin();
      if (open) this.partitioned.add(classes !== undefined ? { ...config, userClasses: classes } : config);
      else this.addClosed(config, classes);
    } else if (!open && running !== undefined && running.config.executor === 'users') {
      this.machine.to('spawning');
      this.ramping.add(DEFAULT_SCENARIO);
      if (classes !== undefined) running.setClasses(classes);
      running.replan(config);
    } else {
      throw new UsageError(`a run is going: it cannot be changed to ${open ? 'an arrival rate' : 'a user count'} on a master`, 'stop the run first, then start again');
    }
    this.runTime.set(request.arrivalRate === undefined ? request.runTime : undefined);
    this.runningIfNothingRamps();
  }

  /** Only arrival rates and iteration counts: nothing ramps, the run is running as soon as it starts. */
  private runningIfNothingRamps(): void {
    if (this.ramping.size === 0 && this.machine.is('spawning')) {
      this.machine.to('running');
      this.options.environment.events.spawningComplete.fire({ userCount: this.targetUserCount });
    }
  }

  /** Runs the cicadafile's LoadShape for the whole cluster: the master ticks it and dispatches its users. */
  startShape(runTime?: number): void {
    const shape = this.options.shape;
    if (!shape) throw new UsageError('this cicadafile defines no LoadShape');
    if (!this.machine.is('ready', 'stopped')) throw new UsageError(`cannot start a shape while ${this.state}`);
    this.begin();
    this.addClosed(parseScenario('shape', { executor: 'shape', shape: shape.constructor.name }, 'LoadShape', { stopTimeoutMs: this.options.stopTimeout * 1000 }));
    this.runTime.set(runTime);
  }

  startScenarios(scenarios: readonly ScenarioCommon[], runTime?: number): void {
    if (!this.machine.is('ready', 'stopped')) throw new UsageError(`cannot start scenarios while ${this.state}`, 'stop the run first');
    if (scenarios.length === 0) throw new UsageError('no scenario to run', 'define scenarios, or give -u/-r');
    if (scenarios.some((s) => s.executor === 'shape') && !this.options.shape) throw new UsageError('a shape scenario needs a LoadShape in the cicadafile');
    this.begin();
    this.tagScenarios = scenarios.length > 1;
    for (const config of scenarios) {
      if (executorOf(config).model === 'closed') this.addClosed(config);
      else this.partitioned.add(config);
    }
    this.runTime.set(runTime);
    this.runningIfNothingRamps();
  }

  private begin(): void {
    // Clean statistics for every run. Before the first one nothing was counted: only the clock and
    // history restart (no new epoch), so the current rates are the run's, not the master's since it began.
    if (this.machine.is('ready')) this.options.stats.restartClock();
    if (this.machine.is('stopped')) {
      this.resetStats();
      this.stopped = deferred();
      this.stopping = undefined;
      this.closed.clear();
      this.partitioned.clear();
      this.ramping.clear();
    }
    this.tagScenarios = false;
    this.machine.to('spawning');
    this.options.environment.events.testStart.fire({ environment: this.options.environment });
  }


  private addClosed(config: ScenarioCommon, classes?: readonly string[]): void {
    const { environment } = this.options;
    const scenario = this.closed.add({
      config,
      classes: this.options.classes,
      equalWeights: this.options.equalWeights ?? false,
      clock: this.clock,
      timers: this.timers,
      logger: environment.logger,
      ...(config.executor === 'shape' && this.options.shape ? { shape: { instance: this.options.shape, runner: this } } : {}),
      onRampComplete: () => this.rampDone(config.name),
      onRampStart: () => {
        this.ramping.add(config.name);
        if (this.machine.is('running')) this.machine.to('spawning');
      },
      onEnded: () => this.scenarioOver(config.name),
    });
    if (classes !== undefined) scenario.setClasses(classes);
    this.ramping.add(config.name);
    scenario.start();
  }

  private rampDone(name: string): void {
    this.ramping.delete(name);
    if (this.ramping.size > 0 || !this.machine.is('spawning')) return;
    this.machine.to('running');
    const n = this.targetUserCount;
    this.options.environment.logger.info(`ramp complete: ${n} users over ${this.readyWorkers} workers`);
    this.options.environment.events.spawningComplete.fire({ userCount: n });
  }

  private liveWorkerIds(): string[] {
    return [...this.workers.values()].filter((w) => !w.missing && w.connected).map((w) => w.id).sort();
  }

  private scenarioOver(name: string): void {
    this.ramping.delete(name);
    const all = this.closed.allOver && !this.partitioned.active;
    if (this.closed.size + this.partitioned.size > 1) this.options.environment.logger.info(`scenario ${name} ended`);
    if (all && this.machine.is('spawning', 'running')) {
      if (this.closed.size + this.partitioned.size > 1) this.options.environment.logger.info('every scenario has ended, stopping');
      void this.stop();
    }
  }

  /** Re-places users after a worker joined, left or went missing, keeping the current totals. */
  private redispatch(): void {
    if (!this.machine.is('spawning', 'running')) return;
    this.closed.redispatch((line) => this.options.environment.logger.info(line));
    this.partitioned.repartition();
  }

  private broadcast(message: MasterMessage): void {
    for (const w of this.workers.values()) w.link?.send(message);
  }

  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.machine.is('ready', 'stopped')) {
      if (this.machine.is('ready')) this.machine.to('stopped');
      this.stopped.resolve();
      for (const wake of this.joinWaiters.splice(0)) wake();
      return Promise.resolve();
    }
    this.stopping = this.finish();
    return this.stopping;
  }

  /** Tells the workers to cut their requests in flight now (a second Ctrl+C during a stop); the stop still completes. */
  cutInFlight(): void {
    if (this.machine.is('stopping')) this.broadcast({ type: 'stop', epoch: this.options.stats.epoch, cut: true });
  }

  private async finish(): Promise<void> {
    const { environment } = this.options;
    this.machine.to('stopping');
    environment.events.testStopping.fire({ environment });
    this.runTime.clear();
    const epoch = this.options.stats.epoch;
    this.closed.stop();
    this.partitioned.end();
    // Only the workers told to stop are waited for: one that joins now has no users to stop.
    const told = new Set([...this.workers.values()].filter((w) => w.link !== undefined).map((w) => w.id));
    this.broadcast({ type: 'stop', epoch });
    const deadline = this.clock.now() + (this.options.stopTimeout + this.options.drainTimeout) * 1000 + this.timing.stopWaitMs;
    const pending = () => [...this.workers.values()].filter((w) => told.has(w.id) && !w.missing && w.connected && w.stoppedEpoch !== epoch);
    while (pending().length > 0 && this.clock.now() < deadline) {
      await new Promise<void>((resolve) => {
        // Never past the deadline (a full 500 ms wait overshot it by up to 499 ms).
        const timer = this.timers.setTimeout(resolve, Math.min(500, Math.max(1, deadline - this.clock.now())));
        this.stopWaiters.push(() => { this.timers.clearTimeout(timer); resolve(); });
      });
    }
    const late = pending();
    if (late.length > 0) environment.logger.warning(`${late.length} workers did not confirm the stop in time; their last reports are used`);
    this.options.stats.recordHistory(0);
    this.machine.to('stopped');
    environment.events.testStop.fire({ environment });
    this.stopped.resolve();
  }

  /**
   * Tells every worker to quit and waits for their final reports (acknowledged by `handle`).
   * Call after `stop()`, before writing reports.
   */
  async quit(maxWaitMs = 10_000): Promise<void> {
    const seqs = new Map([...this.workers.values()].filter((w) => w.connected && !w.missing).map((w) => [w.id, this.options.stats.seqOf(w.id)]));
    this.broadcast({ type: 'quit' });
    const deadline = this.clock.now() + maxWaitMs;
    while ([...seqs].some(([id, seq]) => this.options.stats.seqOf(id) <= seq && this.workers.get(id)?.connected) && this.clock.now() < deadline) {
      await new Promise((r) => this.timers.setTimeout(() => r(undefined), 20));
    }
    this.stopTick();
  }

  /** Stops the master's own timers (tests, and the end of a run). */
  close(): void {
    this.stopTick();
    this.runTime.clear();
    this.closed.stop();
  }
}

function countOf(classes: Readonly<Record<string, number>>): number {
  let n = 0;
  for (const v of Object.values(classes)) n += v;
  return n;
}


function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
