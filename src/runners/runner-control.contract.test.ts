// The RunnerControl contract: the same cases run against the local runner, a master with two in-process workers, and a worker.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../../test/helpers.ts';
import type { MessageListener, RunnerControl, StartRequest } from '../core/contracts.ts';
import { defaultClientDefaults, type Environment } from '../core/environment.ts';
import { UsageError } from '../core/errors.ts';
import { Events } from '../core/events.ts';
import { silentLogger } from '../core/logger.ts';
import { TaskPlan } from '../core/task-plan.ts';
import { task } from '../core/tasks.ts';
import { User, type UserClass } from '../core/user.ts';
import { constant } from '../core/wait-time.ts';
import { ClusterStats } from '../stats/cluster-stats.ts';
import { RequestStats } from '../stats/request-stats.ts';
import type { StatsSnapshot } from '../stats/types.ts';
import { LocalRunner } from './local-runner.ts';
import { MasterRunner, type WorkerLink } from './master-runner.ts';
import { masterMessage, parse, workerMessage } from './messages.ts';
import { parseScenario } from './executors/index.ts';
import { WorkerRunner, type MasterLink } from './worker-runner.ts';

/** Fires one fake 1 ms request named `/a` per task, every 20 ms. */
class A extends User {
  static weight = 1;
  waitTime = constant(0.02);
  @task async a() {
    this.environment.events.request.fire({ requestType: 'GET', name: '/a', responseTime: 1, responseLength: 2, error: null, startTime: Date.now() });
  }
}
/** As A, named `/b`. */
class B extends User {
  static weight = 1;
  waitTime = constant(0.02);
  @task async b() {
    this.environment.events.request.fire({ requestType: 'GET', name: '/b', responseTime: 1, responseLength: 2, error: null, startTime: Date.now() });
  }
}
const CLASSES: Record<string, UserClass> = { A, B };

/** Short intervals so reports and heartbeats flow within a test; liveness 20 (1 s) so a busy event loop marks no worker missing. */
const MASTER_TIMING = { heartbeatIntervalMs: 50, heartbeatLiveness: 20, stopWaitMs: 1000 };
const WORKER_TIMING = { reportIntervalMs: 50, heartbeatIntervalMs: 50, masterTimeoutMs: 10_000, finalAckTimeoutMs: 1000 };
const TEST = { timeout: 10_000 };
const WAIT_MS = 5000;

/** The other end of custom messages, and the `from` each side sees. */
interface Peer {
  sendMessage: (name: string, data: unknown) => void;
  registerMessage: (name: string, listener: MessageListener) => void;
  /** `from` as the subject's listeners see the peer's messages. */
  fromPeer: string;
  /** `from` as the peer's listeners see the subject's messages. */
  fromSubject: string;
}

interface Subject {
  control: RunnerControl<StatsSnapshot>;
  classes: Record<string, UserClass>;
  /** Stops everything the subject started (timers, users, workers); fails when a message broke the wire schema. */
  close: () => Promise<void>;
  /** Gets users running the way this implementation gets them: its own start(), or (a worker) its master's. */
  load: (request: StartRequest) => void;
  /** The class counts of the users each process really runs (each worker's own, for the master). */
  processCounts: () => Record<string, number>[];
  peer: Peer;
}

interface ContractOptions {
  /** False for a worker: its master starts and stops runs, so the start cases do not apply (start() is refused). */
  startsRuns: boolean;
}

function environment(): Environment {
  return { events: new Events(), host: undefined, logger: silentLogger, clientDefaults: defaultClientDefaults, parsedOptions: {}, runner: undefined };
}

function localSubject(): Subject {
  const env = environment();
  const stats = new RequestStats();
  const detach = stats.attach(env.events);
  const runner = new LocalRunner({ environment: env, userClasses: new Map(Object.entries(CLASSES)), plan: new TaskPlan(), stats, stopTimeout: 0, drainTimeout: 1, tickMs: 100 });
  return {
    control: runner satisfies RunnerControl<StatsSnapshot>,
    classes: CLASSES,
    close: async () => {
      await runner.stop();
      detach();
    },
    load: (request) => runner.start(request),
    processCounts: () => [runner.userClassCounts()],
    peer: { sendMessage: (n, d) => runner.sendMessage(n, d), registerMessage: (n, l) => runner.registerMessage(n, l), fromPeer: 'local', fromSubject: 'local' },
  };
}

/**
 * A master and `workerIds.length` real workers wired in-process, each message validated by the wire schema (as
 * src/cli/distributed.ts does: it also turns the workers' packed histograms back into arrays) and delivered on a
 * later turn of the event loop, as a socket would.
 */
function cluster(workerIds: readonly string[]) {
  const invalid: string[] = [];
  const masterEnv = environment();
  const master = new MasterRunner({
    environment: masterEnv,
    classes: Object.entries(CLASSES).map(([name, cls]) => ({ name, weight: cls.weight, fixedCount: cls.fixedCount })),
    stats: new ClusterStats(),
    stopTimeout: 0,
    drainTimeout: 1,
    timing: MASTER_TIMING,
  });
  const workers = workerIds.map((id) => {
    const env = environment();
    const stats = new RequestStats();
    const detach = stats.attach(env.events);
    const worker = new WorkerRunner({ environment: env, userClasses: new Map(Object.entries(CLASSES)), plan: new TaskPlan(), stats, timing: WORKER_TIMING });
    const toMaster: MasterLink = {
      send: (message) => {
        setImmediate(() => {
          const parsed = parse(workerMessage, message);
          if (parsed.ok) master.handle(id, parsed.message);
          else invalid.push(`${id} → master: ${parsed.reason}`);
        });
        return true;
      },
    };
    const toWorker: WorkerLink = {
      send: (message) => {
        setImmediate(() => {
          const parsed = parse(masterMessage, message);
          if (parsed.ok) worker.handle(parsed.message);
          else invalid.push(`master → ${id}: ${parsed.reason}`);
        });
        return true;
      },
    };
    worker.attach(toMaster);
    master.workerConnected(id, toWorker);
    return { id, worker, detach };
  });
  const close = async (): Promise<void> => {
    try {
      await master.stop();
    } finally {
      master.close();
      for (const w of workers) {
        await w.worker.shutdown();
        w.detach();
      }
    }
    assert.deepEqual(invalid, [], 'every message passed the wire schema');
  };
  return { master, workers, close };
}

function masterSubject(): Subject {
  const { master, workers, close } = cluster(['w1', 'w2']);
  const first = workers[0]!;
  return {
    control: master satisfies RunnerControl<StatsSnapshot>,
    classes: CLASSES,
    close,
    load: (request) => master.start(request),
    processCounts: () => workers.map((w) => w.worker.userClassCounts()),
    peer: { sendMessage: (n, d) => first.worker.sendMessage(n, d), registerMessage: (n, l) => first.worker.registerMessage(n, l), fromPeer: first.id, fromSubject: 'master' },
  };
}

/** One worker, driven by a real master (its peer for custom messages). */
function workerSubject(): Subject {
  const { master, workers, close } = cluster(['w1']);
  const { worker, id } = workers[0]!;
  return {
    control: worker satisfies RunnerControl<StatsSnapshot>,
    classes: CLASSES,
    close,
    load: (request) => master.start(request),
    processCounts: () => [worker.userClassCounts()],
    peer: { sendMessage: (n, d) => master.sendMessage(n, d, id), registerMessage: (n, l) => master.registerMessage(n, l), fromPeer: 'master', fromSubject: id },
  };
}

/** Class counts without zero entries: the contract says "users alive per class", not whether idle classes are listed. */
function alive(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n !== 0));
}

const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

/** Settles with `promise`, or fails after `ms` naming what was awaited. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const isUsageError = (error: unknown): boolean => error instanceof UsageError && error.code === 'CICADA_ERR_USAGE';

const BAD_REQUESTS: StartRequest[] = [
  { userCount: -1, spawnRate: 10 },
  { userCount: 2, spawnRate: 0 },
  { userCount: 2, spawnRate: 10, runTime: 0 },
];

/** Runs the RunnerControl contract against fresh subjects from `makeSubject`. */
function runnerControlContract(name: string, makeSubject: () => Subject | Promise<Subject>, options: ContractOptions): void {
  const fresh = async (t: TestContext): Promise<Subject> => {
    const subject = await makeSubject();
    t.after(() => subject.close());
    return subject;
  };

  /** Waits until the run is `running` at `n` users, alive and targeted. */
  const runningAt = (control: RunnerControl<StatsSnapshot>, n: number): Promise<void> =>
    until(
      () => control.state === 'running' && control.userCount === n && control.targetUserCount === n && sum(control.userClassCounts()) === n,
      `running at ${n} users (now ${control.state}, ${control.userCount} alive, target ${control.targetUserCount}, ${JSON.stringify(control.userClassCounts())})`,
      WAIT_MS,
    );

  describe(`RunnerControl contract: ${name}`, () => {
    it('starts ready, with no users and empty statistics', TEST, async (t) => {
      const { control } = await fresh(t);
      assert.equal(control.state, 'ready');
      assert.equal(control.userCount, 0);
      assert.equal(control.targetUserCount, 0);
      assert.deepEqual(alive(control.userClassCounts()), {});
      const s = control.snapshot();
      assert.equal(typeof s.time, 'number');
      assert.equal(typeof s.startTime, 'number');
      assert.ok(Array.isArray(s.entries) && Array.isArray(s.errors) && Array.isArray(s.exceptions) && Array.isArray(s.history));
      assert.deepEqual(s.entries, []);
      assert.equal(s.total.numRequests, 0);
      assert.equal(s.total.numFailures, 0);
      assert.equal(s.userCount, 0);
    });

    it('refuses bad start requests with a UsageError and leaves the state unchanged', TEST, async (t) => {
      const { control } = await fresh(t);
      for (const request of BAD_REQUESTS) {
        assert.throws(() => control.start(request), isUsageError, JSON.stringify(request));
        assert.equal(control.state, 'ready', `state after ${JSON.stringify(request)}`);
        assert.equal(control.userCount, 0);
        assert.equal(control.targetUserCount, 0);
      }
    });

    it('startShape without a LoadShape throws a UsageError', TEST, async (t) => {
      const { control } = await fresh(t);
      assert.throws(() => control.startShape(), isUsageError);
      assert.equal(control.state, 'ready');
    });

    it('snapshot() counts the requests of the run', TEST, async (t) => {
      const { control, load } = await fresh(t);
      load({ userCount: 2, spawnRate: 100 });
      await until(() => control.snapshot().total.numRequests > 0, 'requests in the snapshot', WAIT_MS);
      const s = control.snapshot();
      assert.ok(s.entries.length > 0, 'per-name entries');
      for (const e of s.entries) assert.ok(['/a', '/b'].includes(e.name), `entry ${e.name} is one the users fired`);
      assert.equal(s.total.numRequests, s.entries.reduce((a, e) => a + e.numRequests, 0), 'the total is the sum of the entries');
    });

    it('resetStats() clears counts, and counting goes on', TEST, async (t) => {
      const { control, load } = await fresh(t);
      load({ userCount: 2, spawnRate: 100 });
      await until(() => control.snapshot().total.numRequests >= 5, 'some requests counted', WAIT_MS);
      control.resetStats();
      const s = control.snapshot();
      assert.equal(s.total.numRequests, 0);
      assert.deepEqual(s.entries, []);
      // For a master this needs the workers to have taken the reset (a new epoch) and reported again.
      await until(() => control.snapshot().total.numRequests > 0, 'requests counted again after the reset', WAIT_MS);
    });

    it('registerMessage/sendMessage deliver custom messages both ways', TEST, async (t) => {
      const { control, peer } = await fresh(t);
      const toSubject: [unknown, string][] = [];
      const toPeer: [unknown, string][] = [];
      control.registerMessage('to-subject', (data, from) => toSubject.push([data, from]));
      peer.registerMessage('to-peer', (data, from) => toPeer.push([data, from]));
      peer.sendMessage('to-subject', { n: 1 });
      control.sendMessage('to-peer', { n: 2 });
      await until(() => toSubject.length > 0 && toPeer.length > 0, 'both messages delivered', WAIT_MS);
      assert.deepEqual(toSubject, [[{ n: 1 }, peer.fromPeer]]);
      assert.deepEqual(toPeer, [[{ n: 2 }, peer.fromSubject]]);
    });

    if (!options.startsRuns) {
      it('refuses start() and startShape() with a UsageError: its master drives it', TEST, async (t) => {
        const { control } = await fresh(t);
        assert.throws(() => control.start({ userCount: 2, spawnRate: 10 }), isUsageError);
        assert.throws(() => control.startShape(), isUsageError);
        assert.equal(control.state, 'ready');
        assert.equal(control.userCount, 0);
      });
      return;
    }

    it('start() ramps to the count, spread over the classes by weight', TEST, async (t) => {
      const { control } = await fresh(t);
      control.start({ userCount: 4, spawnRate: 100 });
      assert.ok(control.state === 'spawning' || control.state === 'running', `state after start: ${control.state}`);
      await runningAt(control, 4);
      assert.deepEqual(alive(control.userClassCounts()), { A: 2, B: 2 });
    });

    it('start() with userClasses runs only those classes', TEST, async (t) => {
      // Known bug on the master: MasterRunner.start ignores `userClasses` and dispatches {"A":2,"B":2}.
      const { control, processCounts } = await fresh(t);
      control.start({ userCount: 4, spawnRate: 100, userClasses: ['A'] });
      await runningAt(control, 4);
      const bInProcesses = processCounts().reduce((n, c) => n + (c.B ?? 0), 0);
      assert.deepEqual(
        { userClassCounts: alive(control.userClassCounts()), bUsersRunning: bInProcesses },
        { userClassCounts: { A: 4 }, bUsersRunning: 0 },
      );
    });

    it('start() while running with a lower count ramps down', TEST, async (t) => {
      const { control, processCounts } = await fresh(t);
      control.start({ userCount: 4, spawnRate: 100 });
      await runningAt(control, 4);
      control.start({ userCount: 2, spawnRate: 100 });
      await runningAt(control, 2);
      assert.equal(processCounts().reduce((n, c) => n + sum(c), 0), 2, 'users alive in the processes');
    });

    it('refuses bad start requests while running and keeps the run as it was', TEST, async (t) => {
      const { control } = await fresh(t);
      control.start({ userCount: 2, spawnRate: 100 });
      await runningAt(control, 2);
      for (const request of BAD_REQUESTS) {
        assert.throws(() => control.start(request), isUsageError, JSON.stringify(request));
        assert.equal(control.state, 'running', `state after ${JSON.stringify(request)}`);
        assert.equal(control.targetUserCount, 2);
        assert.equal(control.userCount, 2);
      }
    });

    it('stop() ends the run: stopped, no users, whenStopped() resolves, a second stop() resolves too', TEST, async (t) => {
      const { control, processCounts } = await fresh(t);
      control.start({ userCount: 4, spawnRate: 100 });
      await runningAt(control, 4);
      await within(control.stop(), WAIT_MS, 'stop()');
      assert.equal(control.state, 'stopped');
      assert.equal(control.userCount, 0);
      assert.equal(control.targetUserCount, 0);
      assert.equal(sum(control.userClassCounts()), 0);
      assert.equal(processCounts().reduce((n, c) => n + sum(c), 0), 0, 'users alive in the processes');
      await within(control.whenStopped(), 1000, 'whenStopped()');
      await within(control.stop(), 1000, 'a second stop()');
      assert.equal(control.state, 'stopped');
    });

    it('start() after a stop begins a new run with fresh statistics', TEST, async (t) => {
      const { control } = await fresh(t);
      control.start({ userCount: 4, spawnRate: 100 });
      await until(() => control.snapshot().total.numRequests >= 10, 'some requests counted', WAIT_MS);
      await within(control.stop(), WAIT_MS, 'stop()');
      const before = control.snapshot().total.numRequests;
      control.start({ userCount: 4, spawnRate: 100 });
      assert.ok(control.state === 'spawning' || control.state === 'running', `state after the new start: ${control.state}`);
      const after = control.snapshot().total.numRequests;
      assert.ok(after < before && after <= 4, `statistics restart: ${after} requests right after the new start (${before} before)`);
      let stopped = false;
      void control.whenStopped().then(() => (stopped = true));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(stopped, false, 'whenStopped() waits for the new run');
      await runningAt(control, 4);
      await until(() => control.snapshot().total.numRequests > 0, 'the new run counted', WAIT_MS);
    });

    it('runTime stops the run by itself', TEST, async (t) => {
      const { control } = await fresh(t);
      control.start({ userCount: 1, spawnRate: 10, runTime: 0.3 });
      await within(control.whenStopped(), WAIT_MS, 'whenStopped() after a 0.3 s run time');
      assert.equal(control.state, 'stopped');
      assert.equal(control.userCount, 0);
    });

    it('startScenarios runs iteration counts and arrival rates to their exact totals, then stops by itself; a second start while running is refused', TEST, async (t) => {
      const { control } = await fresh(t);
      control.startScenarios([
        parseScenario('count', { executor: 'shared-iterations', users: 3, iterations: 30, userClasses: ['A'] }, 'test', { stopTimeoutMs: 0 }),
        parseScenario('rate', { executor: 'constant-arrival-rate', rate: 50, duration: '400ms', userClasses: ['B'] }, 'test', { stopTimeoutMs: 0 }),
      ]);
      assert.equal(control.state, 'running', 'nothing ramps: the run is running at once (regression: it stayed spawning)');
      assert.throws(() => control.startScenarios([]), isUsageError);
      assert.throws(() => control.start({ userCount: 1, spawnRate: 1 }), isUsageError, 'a user count cannot replace running scenarios');
      await within(control.whenStopped(), WAIT_MS, 'whenStopped() once both scenarios ended');
      await until(() => (control.snapshot().scenarios ?? []).reduce((n, s) => n + s.iterations, 0) === 50, 'the iterations are all reported', WAIT_MS);
      const byName = Object.fromEntries((control.snapshot().scenarios ?? []).map((s) => [s.name, s.iterations + s.dropped]));
      assert.deepEqual(byName, { count: 30, rate: 20 });
    });

    it('start with an arrival rate runs the open model: rate × run time iterations', TEST, async (t) => {
      const { control } = await fresh(t);
      control.start({ userCount: 0, spawnRate: 1, arrivalRate: 40, runTime: 0.5, maxUsers: 5 });
      await within(control.whenStopped(), WAIT_MS, 'whenStopped() after the arrival rate ran for 0.5 s');
      await until(() => (control.snapshot().scenarios?.[0]?.iterations ?? 0) + (control.snapshot().scenarios?.[0]?.dropped ?? 0) === 20, 'the 20 arrivals are reported', WAIT_MS);
      assert.throws(() => control.start({ userCount: 1, spawnRate: 1, maxUsers: 3 }), isUsageError, 'max users without an arrival rate');
    });
  });
}

runnerControlContract('LocalRunner', localSubject, { startsRuns: true });
runnerControlContract('MasterRunner with two in-process workers', masterSubject, { startsRuns: true });
runnerControlContract('WorkerRunner', workerSubject, { startsRuns: false });
