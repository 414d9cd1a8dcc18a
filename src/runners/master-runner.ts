// The master: dispatches users over workers at the spawn rate, sums their reports, and notices missing workers.
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import { checkStartRequest, MessageListeners, type MessageListener, type RunnerControl, type StartRequest } from '../core/contracts.ts';
import type { Environment } from '../core/environment.ts';
import { UsageError } from '../core/errors.ts';
import { RunnerStateMachine, type RunnerState } from '../core/runner-state.ts';
import type { ClusterStats } from '../stats/cluster-stats.ts';
import type { StatsSnapshot } from '../stats/types.ts';
import type { MasterMessage, WorkerMessage } from './messages.ts';
import { snapshotOf } from './messages.ts';
import type { ClassWeight } from './user-sequence.ts';
import { rampPosition, rampStepMs, type Ramp } from './ramp.ts';
import { WorkerDispatch, type Assignment } from './worker-dispatch.ts';

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
  sent: Record<string, number>;
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
}

/** Drives workers through the same RunnerControl the CLI and the web UI use for a local run. */
export class MasterRunner implements RunnerControl<StatsSnapshot> {
  private readonly options: MasterRunnerOptions;
  private readonly timing: MasterTiming;
  private readonly clock: Clock;
  private readonly machine: RunnerStateMachine;
  private readonly dispatch: WorkerDispatch;
  private readonly workers = new Map<string, WorkerRecord>();
  private target = 0;
  private spawnSeq = 0;
  private ramp: Ramp | undefined;
  private rampTimer: NodeJS.Timeout | undefined;
  private runTimer: NodeJS.Timeout | undefined;
  private readonly tickTimer: NodeJS.Timeout;
  private stopping: Promise<void> | undefined;
  private stopped = deferred();
  private stopWaiters: (() => void)[] = [];
  private joinWaiters: (() => void)[] = [];

  constructor(options: MasterRunnerOptions) {
    this.options = options;
    this.timing = { ...defaultMasterTiming, ...options.timing };
    this.clock = options.clock ?? systemClock;
    this.machine = new RunnerStateMachine((from, to) => options.environment.logger.debug(`master ${from} → ${to}`));
    this.dispatch = new WorkerDispatch(options.classes, { equalWeights: options.equalWeights });
    this.tickTimer = setInterval(() => this.tick(), this.timing.heartbeatIntervalMs);
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
    return this.target;
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
    for (const classes of Object.values(this.dispatch.assignment())) {
      for (const [c, n] of Object.entries(classes)) out[c] = (out[c] ?? 0) + n;
    }
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
        const timer = setTimeout(resolve, Math.min(1000, Math.max(1, deadline - this.clock.now())));
        this.joinWaiters.push(() => { clearTimeout(timer); resolve(); });
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
        this.dispatch.addWorker(id);
        existing.sent = {};
        this.redispatch();
      } else {
        existing.sent = {};
        this.sendAssignments(this.dispatch.assignment());
      }
    } else {
      logger.info(`worker ${id} connected (${this.workers.size + 1} in total)`);
      this.workers.set(id, { id, state: 'ready', userCount: 0, cpu: 0, memory: 0, missing: false, connected: true, link, lastHeard: this.clock.now(), sent: {}, stoppedEpoch: -1 });
      this.dispatch.addWorker(id);
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
        this.dispatch.removeWorker(w.id);
        this.redispatch();
        for (const wake of this.stopWaiters.splice(0)) wake();
      }
    }
    if (this.machine.is('spawning', 'running', 'stopping', 'stopped')) this.options.stats.recordHistory(this.userCount);
  }

  // ---- running ----

  start(request: StartRequest): void {
    checkStartRequest(request, this.machine.state);
    const { userCount, spawnRate } = request;
    if (request.host !== undefined) this.options.environment.host = request.host;
    if (this.machine.is('ready', 'stopped')) {
      // Clean statistics for every run. Before the first one nothing was counted: only the clock and
      // history restart (no new epoch), so the current rates are the run's, not the master's since it began.
      if (this.machine.is('ready')) this.options.stats.restartClock();
      if (this.machine.is('stopped')) {
        this.resetStats();
        this.stopped = deferred();
        this.stopping = undefined;
      }
      this.machine.to('spawning');
      this.options.environment.events.testStart.fire({ environment: this.options.environment });
    } else {
      this.machine.to('spawning');
    }
    clearTimeout(this.runTimer);
    if (request.runTime !== undefined) {
      this.runTimer = setTimeout(() => {
        this.options.environment.logger.info(`run time limit (${request.runTime} s) reached, stopping`);
        void this.stop();
      }, request.runTime * 1000);
    }
    this.target = userCount;
    this.ramp = { from: this.dispatch.target, to: userCount, rate: spawnRate, startedAt: this.clock.now() };
    clearInterval(this.rampTimer);
    this.rampTimer = setInterval(() => this.rampStep(), rampStepMs(spawnRate));
    this.rampStep();
  }

  startShape(): void {
    throw new UsageError('LoadShape is not supported in distributed runs yet', 'run the shape locally (without --master/--processes), or use -u/-r/-t');
  }

  private rampStep(): void {
    const ramp = this.ramp;
    if (!ramp || !this.machine.is('spawning')) return;
    const n = rampPosition(ramp, this.clock.now());
    this.dispatch.setTotal(n);
    // Rebalancing each step keeps every worker within ±1 in total too (growth alone keeps classes balanced).
    this.sendAssignments(this.dispatch.rebalance());
    if (n === ramp.to) {
      clearInterval(this.rampTimer);
      this.ramp = undefined;
      this.machine.to('running');
      this.options.environment.logger.info(`ramp complete: ${n} users over ${this.readyWorkers} workers`);
      this.options.environment.events.spawningComplete.fire({ userCount: n });
    }
  }

  /** Re-places users after a worker joined, left or went missing, keeping the current total. */
  private redispatch(): void {
    if (!this.machine.is('spawning', 'running')) return;
    // `target` (not `total`): a lost worker's users are waiting to be re-placed on the others.
    this.dispatch.setTotal(this.dispatch.target);
    this.sendAssignments(this.dispatch.rebalance());
    this.options.environment.logger.info(`re-dispatched ${this.dispatch.total} users over ${this.dispatch.workers.length} workers`);
  }

  /** Sends each worker its absolute per-class counts, only when they changed. */
  private sendAssignments(assignment: Assignment): void {
    for (const w of this.workers.values()) {
      if (w.missing || !w.link) continue;
      const classes = assignment[w.id] ?? {};
      if (sameCounts(classes, w.sent)) continue;
      const host = this.options.environment.host;
      w.link.send({ type: 'spawn', seq: ++this.spawnSeq, epoch: this.options.stats.epoch, classes, stopTimeout: this.options.stopTimeout, drainTimeout: this.options.drainTimeout, ...(host !== undefined ? { host } : {}) });
      w.sent = { ...classes };
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
    clearInterval(this.rampTimer);
    clearTimeout(this.runTimer);
    this.ramp = undefined;
    const epoch = this.options.stats.epoch;
    this.dispatch.setTotal(0);
    for (const w of this.workers.values()) w.sent = {};
    // Only the workers told to stop are waited for: one that joins now has no users to stop.
    const told = new Set([...this.workers.values()].filter((w) => w.link !== undefined).map((w) => w.id));
    this.broadcast({ type: 'stop', epoch });
    const deadline = this.clock.now() + (this.options.stopTimeout + this.options.drainTimeout) * 1000 + this.timing.stopWaitMs;
    const pending = () => [...this.workers.values()].filter((w) => told.has(w.id) && !w.missing && w.connected && w.stoppedEpoch !== epoch);
    while (pending().length > 0 && this.clock.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 500);
        this.stopWaiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    const late = pending();
    if (late.length > 0) environment.logger.warning(`${late.length} workers did not confirm the stop in time; their last reports are used`);
    this.options.stats.recordHistory(0);
    this.target = 0;
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
      await new Promise((r) => setTimeout(r, 20));
    }
    clearInterval(this.tickTimer);
  }

  /** Stops the master's own timers (tests, and the end of a run). */
  close(): void {
    clearInterval(this.tickTimer);
    clearInterval(this.rampTimer);
    clearTimeout(this.runTimer);
  }
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
