// The master: dispatches users over workers at the spawn rate, sums their reports, and notices missing workers.
import type { Clock } from '../core/clock.ts';
import { repeat, systemClock, systemTimers, type Timers } from '../core/clock.ts';
import { shareOf, type ScenarioCommon, type Segment } from '../core/executor.ts';
import type { LoadShape } from '../core/load-shape.ts';
import { checkStartRequest, MessageListeners, type MessageListener, type RunnerControl, type StartRequest } from '../core/contracts.ts';
import type { Environment } from '../core/environment.ts';
import { UsageError } from '../core/errors.ts';
import { RunnerStateMachine, type RunnerState } from '../core/runner-state.ts';
import type { ClusterStats } from '../stats/cluster-stats.ts';
import type { StatsSnapshot } from '../stats/types.ts';
import type { MasterMessage, WorkerMessage } from './messages.ts';
import { snapshotOf } from './messages.ts';
import type { ClassWeight } from './user-sequence.ts';
import { DispatchedScenario } from './dispatched-scenario.ts';
import { DEFAULT_SCENARIO, executorOf, parseScenario, requestScenario } from './executors/index.ts';
import { partitionFrom } from './partition.ts';
import { RunTimer } from './run-timer.ts';
import type { Assignment } from './worker-dispatch.ts';

/** Where the master's messages to one worker go. */
export interface WorkerLink {
  send(message: MasterMessage): boolean;
}

export interface MasterTiming {
  heartbeatIntervalMs: number;
  /** Heartbeats a worker may miss before it is marked missing (Locust: 3). */
  heartbeatLiveness: number;
  /**
   * After a stop, how long past the stop timeout and the drain to wait for workers to confirm it
   * (they cut their requests at the end of the drain, and need a moment and a report interval more).
   */
  stopWaitMs: number;
}

export const defaultMasterTiming: MasterTiming = { heartbeatIntervalMs: 1000, heartbeatLiveness: 3, stopWaitMs: 3000 };

/** What the master knows of one worker. */
export interface WorkerInfo {
  id: string;
  state: RunnerState;
  userCount: number;
  cpu: number;
  memory: number;
  missing: boolean;
  connected: boolean;
}

interface WorkerRecord extends WorkerInfo {
  link: WorkerLink | undefined;
  lastHeard: number;
  /** Per closed-model scenario, the counts last sent. */
  sent: Map<string, Record<string, number>>;
  /** Per-class users the worker last reported (all its scenarios). */
  classes: Record<string, number>;
  stoppedEpoch: number;
}

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

/** An open-model or iteration-count scenario, partitioned over the workers (each runs its segment). */
interface PartitionedScenario {
  /** The scenario's name, or `name~N` for the N-th part re-run from lost workers' shares. */
  readonly key: string;
  readonly config: ScenarioCommon;
  /** Monotonic ms the master started it (its start time included). */
  readonly startedAt: number;
  /** Worker id → its segment. */
  segments: Map<string, Segment>;
  /** Workers whose share has ended. */
  readonly endedBy: Set<string>;
  over: boolean;
}

/** Drives workers through the same RunnerControl the CLI and the web UI use for a local run. */
export class MasterRunner implements RunnerControl<StatsSnapshot> {
  private readonly options: MasterRunnerOptions;
  private readonly timing: MasterTiming;
  private readonly clock: Clock;
  private readonly machine: RunnerStateMachine;
  private readonly timers: Timers;
  private readonly workers = new Map<string, WorkerRecord>();
  private readonly closed = new Map<string, DispatchedScenario>();
  private readonly partitioned = new Map<string, PartitionedScenario>();
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
    let n = 0;
    for (const c of this.closed.values()) n += c.goal;
    if (this.partitioned.size > 0) for (const w of this.workers.values()) if (!w.missing) n += countOf(w.classes) - this.closedCountOf(w.id);
    return n;
  }

  private closedCountOf(id: string): number {
    let n = 0;
    for (const c of this.closed.values()) n += countOf(c.dispatch.assignment()[id] ?? {});
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
    for (const c of this.closed.values()) for (const classes of Object.values(c.dispatch.assignment())) add(classes, 1);
    // Partitioned scenarios' users are known from the workers' reports (their total minus the dispatched users).
    if (this.partitioned.size > 0) {
      for (const w of this.workers.values()) {
        if (w.missing) continue;
        add(w.classes, 1);
        for (const c of this.closed.values()) add(c.dispatch.assignment()[w.id] ?? {}, -1);
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
    else if (!this.workers.get(clientId)?.link?.send(message)) this.options.environment.logger.warning(`custom message '${name}': worker ${clientId} is not connected`);
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
      logger.info(`worker ${id} reconnected${existing.missing ? ' (was missing)' : ''}`);
      existing.link = link;
      existing.connected = true;
      existing.lastHeard = this.clock.now();
      if (existing.missing) {
        existing.missing = false;
        existing.sent = new Map();
        // Its shares of partitioned scenarios went to the others while it was missing: it drops what it still runs, then gets new shares.
        if (this.machine.is('spawning', 'running') && [...this.partitioned.values()].some((p) => !p.over)) link.send({ type: 'stop', epoch: this.options.stats.epoch });
        for (const c of this.closed.values()) c.dispatch.addWorker(id);
        this.redispatch();
      } else {
        existing.sent = new Map();
        for (const [name, c] of this.closed) this.sendAssignments(name, c.dispatch.assignment());
        this.resendSegments(id);
      }
    } else {
      logger.info(`worker ${id} connected (${this.workers.size + 1} in total)`);
      this.workers.set(id, { id, state: 'ready', userCount: 0, cpu: 0, memory: 0, missing: false, connected: true, link, lastHeard: this.clock.now(), sent: new Map(), classes: {}, stoppedEpoch: -1 });
      for (const c of this.closed.values()) c.dispatch.addWorker(id);
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
      case 'heartbeat':
        w.state = message.state;
        w.userCount = message.userCount;
        w.cpu = message.cpu;
        w.memory = message.memory;
        if (w.missing) this.workerConnected(id, w.link ?? { send: () => false });
        return;
      case 'stats': {
        w.userCount = message.userCount;
        w.classes = message.classes;
        try {
          this.options.stats.update(id, message.epoch, message.seq, snapshotOf(message));
        } catch (error) {
          this.options.environment.logger.warning(`ignored a malformed report from worker ${id}: ${error instanceof Error ? error.message : String(error)}`);
          return;
        }
        if (message.final) w.link?.send({ type: 'ack', seq: message.seq });
        this.options.environment.events.workerReport.fire({ clientId: id, data: { userCount: message.userCount } });
        return;
      }
      case 'spawned':
        w.userCount = message.userCount;
        return;
      case 'ended':
        if (message.epoch === this.options.stats.epoch) this.shareEnded(id, message.scenario);
        return;
      case 'stopped':
        w.stoppedEpoch = message.epoch;
        w.userCount = 0;
        for (const wake of this.stopWaiters.splice(0)) wake();
        return;
      case 'custom':
        if (!this.listeners.deliver(message.name, message.data, id)) {
          this.options.environment.logger.warning(`custom message '${message.name}' from ${id} has no listener (registerMessage)`);
        }
        return;
    }
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
          `worker ${w.id} is missing (no heartbeat for ${((now - w.lastHeard) / 1000).toFixed(1)} s); its users go to the others. ` +
            (this.options.stats.seqOf(w.id) < 0
              ? 'It sent no report, so none of its requests are counted'
              : `Its last report (#${this.options.stats.seqOf(w.id)}) stays in the totals: requests it made after that report are not counted`),
        );
        for (const c of this.closed.values()) c.dispatch.removeWorker(w.id);
        this.redispatch();
        if (this.machine.is('spawning', 'running')) this.reassignIterations(w.id);
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
      if (open) this.addPartitioned(classes !== undefined ? { ...config, userClasses: classes } : config);
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
      else this.addPartitioned(config);
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
      for (const w of this.workers.values()) w.sent = new Map();
    }
    this.tagScenarios = false;
    this.machine.to('spawning');
    this.options.environment.events.testStart.fire({ environment: this.options.environment });
  }


  private addClosed(config: ScenarioCommon, classes?: readonly string[]): void {
    const { environment } = this.options;
    const scenario: DispatchedScenario = new DispatchedScenario({
      config,
      classes: this.options.classes,
      equalWeights: this.options.equalWeights ?? false,
      clock: this.clock,
      timers: this.timers,
      logger: environment.logger,
      ...(config.executor === 'shape' && this.options.shape ? { shape: { instance: this.options.shape, runner: this } } : {}),
      onAssignment: (assignment) => this.sendAssignments(config.name, assignment),
      onRampComplete: () => this.rampDone(config.name),
      onRampStart: () => {
        this.ramping.add(config.name);
        if (this.machine.is('running')) this.machine.to('spawning');
      },
      onEnded: () => this.scenarioOver(config.name),
    });
    for (const w of this.workers.values()) if (!w.missing && w.connected) scenario.dispatch.addWorker(w.id);
    if (classes !== undefined) scenario.setClasses(classes);
    this.closed.set(config.name, scenario);
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

  /** Gives each connected worker an equal, exact share of the scenario (k6's execution segments, striped). */
  private addPartitioned(config: ScenarioCommon, key = config.name): void {
    const scenario: PartitionedScenario = { key, config, startedAt: this.clock.now(), segments: new Map(), endedBy: new Set(), over: false };
    this.partitioned.set(key, scenario);
    const ids = this.liveWorkerIds();
    ids.forEach((id, index) => scenario.segments.set(id, { index, count: ids.length }));
    for (const id of ids) this.sendSegment(scenario, id);
    if (ids.length === 0) this.options.environment.logger.warning(`scenario ${config.name}: no worker is connected; it runs on the workers that join`);
  }

  private liveWorkerIds(): string[] {
    return [...this.workers.values()].filter((w) => !w.missing && w.connected).map((w) => w.id).sort();
  }

  private sendSegment(scenario: PartitionedScenario, id: string): void {
    const segment = scenario.segments.get(id);
    const w = this.workers.get(id);
    if (segment === undefined || w?.link === undefined) return;
    const host = this.options.environment.host;
    w.link.send({
      type: 'scenario', seq: ++this.spawnSeq, epoch: this.options.stats.epoch, config: { ...scenario.config }, segment,
      stopTimeout: this.options.stopTimeout, drainTimeout: this.options.drainTimeout, elapsedMs: this.clock.now() - scenario.startedAt, ...(host !== undefined ? { host } : {}),
      ...(this.tagScenarios ? { tagScenarios: true } : {}), ...(scenario.key !== scenario.config.name ? { key: scenario.key } : {}),
    });
  }

  /** A worker reconnected under the same id: it gets its segments again (a worker that has them ignores a repeat). */
  private resendSegments(id: string): void {
    for (const scenario of this.partitioned.values()) if (!scenario.over) this.sendSegment(scenario, id);
  }

  /**
   * Re-partitions the open-model scenarios over the workers now live, from the first arrival due a
   * second from now: until then each worker finishes its old share, from then on the new shares apply,
   * so no arrival is run twice or skipped. Iteration counts keep their shares (see the README).
   */
  private repartition(): void {
    const ids = this.liveWorkerIds();
    for (const scenario of this.partitioned.values()) {
      if (scenario.over || ids.length === 0) continue;
      if (executorOf(scenario.config).model !== 'open') {
        // An iteration count that no worker could take yet (none was connected) goes to those here now.
        if (scenario.segments.size === 0) {
          ids.forEach((id, index) => scenario.segments.set(id, { index, count: ids.length }));
          for (const id of ids) this.sendSegment(scenario, id);
        }
        continue;
      }
      const same = ids.length === scenario.segments.size && ids.every((id, i) => scenario.segments.get(id)?.index === i && scenario.segments.get(id)?.count === ids.length);
      if (same) continue;
      const elapsed = this.clock.now() - scenario.startedAt - scenario.config.startTimeMs;
      const fromItem = partitionFrom(scenario.config, elapsed + 1000);
      scenario.segments = new Map(ids.map((id, index) => [id, { index, count: ids.length, fromItem }]));
      for (const id of ids) this.sendSegment(scenario, id);
      this.options.environment.logger.info(`scenario ${scenario.config.name}: re-partitioned over ${ids.length} workers from arrival #${fromItem}`);
    }
  }

  private shareEnded(id: string, key: string): void {
    const scenario = this.partitioned.get(key);
    if (scenario === undefined || scenario.over) return;
    scenario.endedBy.add(id);
    this.checkShares(scenario);
  }

  /** A partitioned scenario is over once every worker holding a share has ended it. */
  private checkShares(scenario: PartitionedScenario): void {
    if (scenario.segments.size > 0 && [...scenario.segments.keys()].every((w) => scenario.endedBy.has(w))) this.scenarioOver(scenario.key);
  }

  /**
   * A worker went missing before its share of an iteration count ended: the iterations its last report
   * does not count are run by the others, as a new part of the scenario (so the total stays exact; what it
   * ran after that report is lost with it, as its requests are).
   */
  private reassignIterations(id: string): void {
    let part = 0;
    for (const scenario of [...this.partitioned.values()]) {
      const segment = scenario.segments.get(id);
      if (scenario.over || segment === undefined || executorOf(scenario.config).model !== 'iterations') continue;
      scenario.segments.delete(id);
      const ended = scenario.endedBy.has(id);
      this.checkShares(scenario);
      if (ended) continue;
      const config = scenario.config as ScenarioCommon & { users: number; iterations: number; maxDurationMs: number };
      const share = config.executor === 'per-user-iterations' ? shareOf(config.users, segment) * config.iterations : shareOf(config.iterations, segment);
      const owed = share - this.options.stats.iterationsOf(id, config.name);
      const left = config.maxDurationMs - (this.clock.now() - scenario.startedAt - config.startTimeMs);
      if (owed <= 0 || left <= 0 || this.liveWorkerIds().length === 0) continue;
      while (this.partitioned.has(`${config.name}~${++part}`));
      const key = `${config.name}~${part}`;
      const users = Math.max(1, Math.min(owed, shareOf(config.users, segment)));
      this.options.environment.logger.warning(`scenario ${config.name}: worker ${id} left with ${owed} of its iterations not reported; the other workers run them`);
      this.addPartitioned({ ...config, executor: 'shared-iterations', users, iterations: owed, maxDurationMs: left, startTimeMs: 0 } as ScenarioCommon, key);
    }
  }

  private scenarioOver(name: string): void {
    const partitioned = this.partitioned.get(name);
    if (partitioned !== undefined) partitioned.over = true;
    this.ramping.delete(name);
    const all = [...this.closed.values()].every((c) => c.over) && [...this.partitioned.values()].every((p) => p.over);
    if (this.closed.size + this.partitioned.size > 1) this.options.environment.logger.info(`scenario ${name} ended`);
    if (all && this.machine.is('spawning', 'running')) {
      if (this.closed.size + this.partitioned.size > 1) this.options.environment.logger.info('every scenario has ended, stopping');
      void this.stop();
    }
  }

  /** Re-places users after a worker joined, left or went missing, keeping the current totals. */
  private redispatch(): void {
    if (!this.machine.is('spawning', 'running')) return;
    for (const [name, c] of this.closed) {
      // `target` (not `total`): a lost worker's users are waiting to be re-placed on the others.
      c.dispatch.setTotal(c.dispatch.target);
      this.sendAssignments(name, c.dispatch.rebalance());
      this.options.environment.logger.info(`re-dispatched ${c.dispatch.total} users over ${c.dispatch.workers.length} workers`);
    }
    this.repartition();
  }

  /** Sends each worker its absolute per-class counts of a scenario, only when they changed. */
  private sendAssignments(scenario: string, assignment: Assignment): void {
    for (const w of this.workers.values()) {
      if (w.missing || !w.link) continue;
      const classes = assignment[w.id] ?? {};
      if (sameCounts(classes, w.sent.get(scenario) ?? {})) continue;
      const host = this.options.environment.host;
      w.link.send({
        type: 'spawn', seq: ++this.spawnSeq, epoch: this.options.stats.epoch, classes, stopTimeout: this.options.stopTimeout, drainTimeout: this.options.drainTimeout,
        ...(scenario !== DEFAULT_SCENARIO ? { scenario } : {}), ...(host !== undefined ? { host } : {}), ...(this.tagScenarios ? { tagScenarios: true } : {}),
      });
      w.sent.set(scenario, { ...classes });
    }
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
    for (const c of this.closed.values()) c.stop();
    for (const p of this.partitioned.values()) p.over = true;
    for (const w of this.workers.values()) w.sent = new Map();
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
    for (const c of this.closed.values()) c.stop();
  }
}

function countOf(classes: Readonly<Record<string, number>>): number {
  let n = 0;
  for (const v of Object.values(classes)) n += v;
  return n;
}

function sameCounts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if ((a[k] ?? 0) !== (b[k] ?? 0)) return false;
  return true;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
