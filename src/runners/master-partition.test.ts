// Partitioned scenarios over in-process workers: shares add up exactly, also when a worker joins or is lost mid-run.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../../test/helpers.ts';
import { defaultClientDefaults, type Environment } from '../core/environment.ts';
import { Events } from '../core/events.ts';
import { sleep } from '../core/clock.ts';
import { FakeClock } from '../core/fake-clock.test-helper.ts';
import { silentLogger } from '../core/logger.ts';
import { TaskPlan } from '../core/task-plan.ts';
import { task } from '../core/tasks.ts';
import { User } from '../core/user.ts';
import { ClusterStats } from '../stats/cluster-stats.ts';
import { RequestStats } from '../stats/request-stats.ts';
import { parseScenario } from './executors/index.ts';
import { MasterRunner } from './master-runner.ts';
import { masterMessage, parse, workerMessage } from './messages.ts';
import { WorkerRunner } from './worker-runner.ts';

/** One iteration = one fake request of 10 ms, recorded as it ends. */
class Caller extends User {
  @task async call() {
    const started = Date.now();
    await sleep(10, this.signal);
    this.environment.events.request.fire({ requestType: 'GET', name: '/c', responseTime: Date.now() - started, responseLength: 0, error: null, startTime: started });
  }
}

function environment(): Environment {
  return { events: new Events(), host: undefined, logger: silentLogger, clientDefaults: defaultClientDefaults, parsedOptions: {}, runner: undefined };
}

/** A master and workers wired in-process through the wire schema; a worker can join later or be cut off (as a crashed process). */
function cluster(liveness = 20) {
  const master = new MasterRunner({
    environment: environment(),
    classes: [{ name: 'Caller', weight: 1, fixedCount: 0 }],
    stats: new ClusterStats(),
    stopTimeout: 0,
    drainTimeout: 1,
    timing: { heartbeatIntervalMs: 50, heartbeatLiveness: liveness, stopWaitMs: 1000 },
  });
  const workers = new Map<string, { worker: WorkerRunner; ran: () => number; cut: () => void; detach: () => void }>();
  const join = (id: string): void => {
    const env = environment();
    const stats = new RequestStats();
    const detach = stats.attach(env.events);
    let ran = 0;
    env.events.iteration.addListener((e) => { if (!e.dropped) ran++; });
    let alive = true;
    const worker = new WorkerRunner({ environment: env, userClasses: new Map([['Caller', Caller]]), plan: new TaskPlan(), stats, timing: { reportIntervalMs: 50, heartbeatIntervalMs: 50, masterTimeoutMs: 10_000, finalAckTimeoutMs: 500 } });
    worker.attach({ send: (m) => { if (alive) setImmediate(() => { const p = parse(workerMessage, m); if (p.ok && alive) master.handle(id, p.message); }); return alive; } });
    master.workerConnected(id, { send: (m) => { if (alive) setImmediate(() => { const p = parse(masterMessage, m); if (p.ok && alive) worker.handle(p.message); }); return alive; } });
    workers.set(id, {
      worker,
      ran: () => ran,
      // A crash: nothing crosses any more, and its users stop where they are.
      cut: () => {
        alive = false;
        master.workerDisconnected(id);
        void worker.shutdown();
      },
      detach,
    });
  };
  const close = async (): Promise<void> => {
    await master.stop();
    master.close();
    for (const w of workers.values()) {
      await w.worker.shutdown();
      w.detach();
    }
  };
  return { master, workers, join, close };
}

const iterationsOf = (master: MasterRunner, name: string): number => master.snapshot().scenarios?.find((s) => s.name === name)?.iterations ?? 0;

describe('partitioned scenarios on a master', () => {
  it('a constant arrival rate over 2 workers, a third joining mid-run: every arrival runs exactly once', { timeout: 15_000 }, async () => {
    const { master, workers, join, close } = cluster();
    try {
      join('w1');
      join('w2');
      master.startScenarios([parseScenario('rate', { executor: 'constant-arrival-rate', rate: 200, duration: '2s', preAllocatedUsers: 5 }, 'test', { stopTimeoutMs: 0 })]);
      await sleep(600);
      join('w3');
      await master.whenStopped();
      const ran = [...workers.values()].reduce((n, w) => n + w.ran(), 0);
      assert.equal(ran, 400, 'the workers ran 200/s × 2 s between them');
      // It joined at 0.6 s; shares switch at the first arrival due a second later (1.6 s): a third of the last 0.4 s is ≈ 27.
      assert.ok(workers.get('w3')!.ran() >= 20, `the worker that joined took its share: ${workers.get('w3')!.ran()}`);
      await master.quit(2000);
      assert.equal(iterationsOf(master, 'rate'), 400, "the master's totals agree");
    } finally {
      await close();
    }
  });

  it('shared iterations over 2 workers, one lost mid-run: the others run what its last report did not count, and the total is exact', { timeout: 20_000 }, async () => {
    // Liveness 4 × 50 ms: the lost worker is noticed soon (the join test keeps 20, so a busy machine marks nobody missing).
    const { master, workers, join, close } = cluster(4);
    try {
      join('w1');
      join('w2');
      master.startScenarios([parseScenario('batch', { executor: 'shared-iterations', users: 2, iterations: 300 }, 'test', { stopTimeoutMs: 0 })]);
      await until(() => iterationsOf(master, 'batch') > 40, 'some iterations reported');
      workers.get('w2')!.cut();
      await master.whenStopped();
      await master.quit(2000);
      assert.equal(iterationsOf(master, 'batch'), 300, 'the totals count 300 iterations');
      assert.ok(workers.get('w1')!.ran() > 150, `the remaining worker took over the lost share: ${workers.get('w1')!.ran()}`);
    } finally {
      await close();
    }
  });

  it('with only fixedCount classes, the target is what can be placed, with a warning, as in one process (regression: the master said 10 while 2 ran)', () => {
    const warnings: string[] = [];
    const env = { ...environment(), logger: { ...silentLogger, warning: (m: string) => warnings.push(m) } };
    const master = new MasterRunner({ environment: env, classes: [{ name: 'F', weight: 1, fixedCount: 2 }], stats: new ClusterStats(), stopTimeout: 0, drainTimeout: 1, timing: { heartbeatIntervalMs: 50 } });
    try {
      master.start({ userCount: 10, spawnRate: 100 });
      assert.equal(master.targetUserCount, 2);
      assert.ok(warnings.some((w) => /only 2 users can be placed/.test(w)), warnings.join('\n'));
    } finally {
      master.close();
    }
  });

  it('a stop ends at its deadline when a worker never confirms (regression: the 500 ms wait overshot 800 ms to 1000 ms)', async () => {
    const clock = new FakeClock();
    const master = new MasterRunner({
      environment: environment(), classes: [{ name: 'Caller', weight: 1, fixedCount: 0 }], stats: new ClusterStats(), stopTimeout: 0, drainTimeout: 0,
      timing: { heartbeatIntervalMs: 50, heartbeatLiveness: 1000, stopWaitMs: 800 }, clock, timers: clock,
    });
    try {
      master.workerConnected('silent', { send: () => true });
      master.start({ userCount: 1, spawnRate: 100 });
      await clock.advance(10);
      let done = false;
      void master.stop().then(() => (done = true));
      await clock.advance(799);
      assert.equal(done, false);
      await clock.advance(1);
      assert.equal(done, true, 'stopped at 800 ms');
    } finally {
      master.close();
    }
  });

  it("a worker's quit keeps an ack that comes back at once, inside send() (regression: it waited the whole ack timeout)", async () => {
    const clock = new FakeClock();
    const worker = new WorkerRunner({
      environment: environment(), userClasses: new Map([['Caller', Caller]]), plan: new TaskPlan(), stats: new RequestStats(),
      timing: { reportIntervalMs: 50, heartbeatIntervalMs: 50, finalAckTimeoutMs: 5000 }, clock, timers: clock,
    });
    worker.attach({ send: (m) => { if (m.type === 'stats' && m.final) worker.handle({ type: 'ack', seq: m.seq }); return true; } });
    let finished = false;
    void worker.whenFinished().then(() => (finished = true));
    worker.handle({ type: 'quit' });
    await clock.advance(10);
    assert.equal(finished, true);
  });

  it('a LoadShape drives a distributed run: the master ticks it and places its users over the workers', { timeout: 15_000 }, async () => {
    const { LoadShape } = await import('../core/load-shape.ts');
    class Steps extends LoadShape {
      tick() {
        const t = this.getRunTime();
        // Ticks come once a second: steps between ticks (at 0, 1, 2, 3 s) give 4, 4, 2, then the end.
        return t < 1.5 ? { users: 4, spawnRate: 100 } : t < 2.5 ? { users: 2, spawnRate: 100 } : null;
      }
    }
    const master = new MasterRunner({
      environment: environment(), classes: [{ name: 'Caller', weight: 1, fixedCount: 0 }], stats: new ClusterStats(), stopTimeout: 0, drainTimeout: 1,
      timing: { heartbeatIntervalMs: 50, heartbeatLiveness: 20, stopWaitMs: 1000 }, shape: new Steps(),
    });
    const seen = new Set<number>();
    const worker = new WorkerRunner({ environment: environment(), userClasses: new Map([['Caller', Caller]]), plan: new TaskPlan(), stats: new RequestStats(), timing: { reportIntervalMs: 50, heartbeatIntervalMs: 50 } });
    worker.attach({ send: (m) => { setImmediate(() => { const p = parse(workerMessage, m); if (p.ok) master.handle('w', p.message); }); return true; } });
    master.workerConnected('w', { send: (m) => { setImmediate(() => { const p = parse(masterMessage, m); if (p.ok) worker.handle(p.message); seen.add(worker.userCount); }); return true; } });
    try {
      master.startShape();
      await master.whenStopped();
      assert.ok(seen.has(4) && seen.has(2), `the worker ran 4 then 2 users: ${[...seen].join(',')}`);
    } finally {
      master.close();
      await worker.shutdown();
    }
  });
});
