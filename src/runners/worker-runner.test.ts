// The worker in-process: real users firing `request`, a fake master link that records (and schema-checks) what is sent.
import { linesLogger } from '../core/test-environment.test-helper.ts';
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../core/clock.ts';
import { FakeClock, flushMicrotasks } from '../core/fake-clock.test-helper.ts';
import { defaultClientDefaults, type Environment } from '../core/environment.ts';
import { Events } from '../core/events.ts';
import { StopUser } from '../core/control-flow.ts';
import { TaskPlan } from '../core/task-plan.ts';
import { task } from '../core/tasks.ts';
import { User, type UserClass } from '../core/user.ts';
import { constant } from '../core/wait-time.ts';
import { RequestStats } from '../stats/request-stats.ts';
import { parse, workerMessage, type MasterMessage, type WorkerMessage } from './messages.ts';
import { WorkerRunner, type MasterLink, type WorkerTiming } from './worker-runner.ts';

/** The fake clock of the current test: the worker's reports, heartbeats, stop waits and its users' waits and tasks all move only when the test advances it. */
let clock = new FakeClock();

/** Fires one fake 1 ms request per task, every 20 ms. */
class Pinger extends User {
  waitTime = constant(0.02);
  @task async ping() {
    this.environment.events.request.fire({ requestType: 'GET', name: '/ping', responseTime: 1, responseLength: 2, error: null, startTime: Date.now() });
  }
}
/** A task that takes 300 ms of the test's clock and then records a request, to see the stop wait for it. */
class Slow extends User {
  static finished = 0;
  @task async slow() {
    await sleep(300, undefined, clock);
    Slow.finished++;
    this.environment.events.request.fire({ requestType: 'GET', name: '/slow', responseTime: 300, responseLength: 2, error: null, startTime: Date.now() - 300 });
  }
}

/** Counts its live users, and can be told to end them all (so a test can clean up users the worker lost track of). */
class Counted extends User {
  static live = 0;
  static halt = false;
  waitTime = constant(0.02);
  onStart() { Counted.live++; }
  onStop() { Counted.live--; }
  @task async tick() {
    if (Counted.halt) throw new StopUser();
    this.environment.events.request.fire({ requestType: 'GET', name: '/counted', responseTime: 1, responseLength: 2, error: null, startTime: Date.now() });
  }
}

type Sent<T extends WorkerMessage['type']> = Extract<WorkerMessage, { type: T }>;

/** A link to a fake master: every message must pass the same schema the real master applies. */
class FakeMaster implements MasterLink {
  readonly sent: WorkerMessage[] = [];
  readonly invalid: string[] = [];
  send(message: WorkerMessage): boolean {
    const parsed = parse(workerMessage, message);
    if (!parsed.ok) this.invalid.push(parsed.reason);
    this.sent.push(message);
    return true;
  }
  of<T extends WorkerMessage['type']>(type: T): Sent<T>[] {
    return this.sent.filter((m): m is Sent<T> => m.type === type);
  }
  lastStats(): Sent<'stats'> {
    const last = this.of('stats').at(-1);
    assert.ok(last, 'a stats report was sent');
    return last;
  }
}

/** Advances the fake clock until `promise` settles (cleanup that waits on the worker's timers), failing past `ms`. */
async function settle(promise: Promise<unknown>, ms = 10_000): Promise<void> {
  let done = false;
  void promise.then(() => (done = true), () => (done = true));
  await flushMicrotasks();
  for (let waited = 0; !done; waited += 50) {
    if (waited >= ms) throw new Error(`not settled within ${ms} ms of the fake clock`);
    await clock.advance(50);
  }
  await promise;
}

function setup(t: TestContext, classes: Record<string, UserClass>, timing: Partial<WorkerTiming> = {}) {
  clock = new FakeClock();
  const events = new Events();
  const logger = linesLogger();
  const environment: Environment = { events, host: undefined, logger, clientDefaults: defaultClientDefaults, parsedOptions: {}, runner: undefined };
  const stats = new RequestStats();
  const detach = stats.attach(events);
  const worker = new WorkerRunner({
    environment,
    userClasses: new Map(Object.entries(classes)),
    plan: new TaskPlan(),
    stats,
    timing: { reportIntervalMs: 50, heartbeatIntervalMs: 50, masterTimeoutMs: 10_000, finalAckTimeoutMs: 2000, ...timing },
    clock,
    timers: clock,
  });
  t.after(async () => {
    await settle(worker.shutdown());
    detach();
  });
  const master = new FakeMaster();
  worker.attach(master);
  return { worker, master, stats, logger, environment };
}

let spawnSeq = 0;
function spawn(classes: Record<string, number>, extra: { epoch?: number; stopTimeout?: number; host?: string } = {}): MasterMessage {
  return { type: 'spawn', seq: ++spawnSeq, epoch: extra.epoch ?? 0, classes, stopTimeout: extra.stopTimeout ?? 0, drainTimeout: 2, ...(extra.host !== undefined ? { host: extra.host } : {}) };
}

const requests = (s: Sent<'stats'>): number => s.snapshot.total.numRequests;

describe('the worker runner', () => {
  it('says hello with a heartbeat and a report as soon as it is attached', async (t) => {
    const { master } = setup(t, { Pinger });
    assert.deepEqual(master.sent.map((m) => m.type), ['heartbeat', 'stats']);
    assert.deepEqual(master.invalid, []);
    // Its own timers come only after an interval: the hello was the attach's.
    await clock.advance(49);
    assert.deepEqual(master.sent.map((m) => m.type), ['heartbeat', 'stats']);
    await clock.advance(1);
    assert.deepEqual(master.sent.map((m) => m.type).sort(), ['heartbeat', 'heartbeat', 'stats', 'stats']);
  });

  it('applies absolute counts: a repeated spawn does not overshoot and a smaller one retires users', async (t) => {
    const { worker, master, environment } = setup(t, { Pinger });
    const first = spawn({ Pinger: 3 }, { host: 'http://127.0.0.1:9' });
    worker.handle(first);
    assert.equal(worker.userCount, 3);
    assert.equal(worker.state, 'running');
    assert.equal(environment.host, 'http://127.0.0.1:9', 'the master\'s host is applied');
    worker.handle(first);
    worker.handle(spawn({ Pinger: 3 }));
    assert.equal(worker.userCount, 3, 'the same counts again change nothing');
    worker.handle(spawn({ Pinger: 1 }));
    assert.equal(worker.userCount, 1);
    worker.handle(spawn({ Pinger: 0 }));
    assert.equal(worker.userCount, 0);
    worker.handle(spawn({ Pinger: 2, Unknown: 4 }));
    assert.equal(worker.userCount, 2, 'a class this worker does not know is not spawned');
    const spawned = master.of('spawned');
    assert.deepEqual(spawned.map((s) => s.userCount), [3, 3, 3, 1, 0, 2]);
    assert.equal(spawned[0]!.seq, (first as { seq: number }).seq, 'the confirmation carries the spawn\'s seq');
    await clock.advance(100);
    assert.equal(worker.userCount, 2, 'the count holds while the users run');
  });

  it('sends cumulative reports with increasing sequence numbers', async (t) => {
    const { worker, master } = setup(t, { Pinger });
    worker.handle(spawn({ Pinger: 2 }));
    await clock.advance(400);
    const reports = master.of('stats');
    assert.equal(reports.length, 9, `the hello and one report every 50 ms: ${reports.length} in 400 ms`);
    for (let i = 1; i < reports.length; i++) {
      assert.equal(reports[i]!.seq, reports[i - 1]!.seq + 1, 'seq grows by one');
      assert.ok(requests(reports[i]!) >= requests(reports[i - 1]!), 'counts never go down: reports are cumulative, not deltas');
    }
    // Two users, a task each at 0, 20, 40 … ms; the report at 50 × k ms counts the tasks before it.
    assert.deepEqual(reports.map(requests), [0, 6, 10, 16, 20, 26, 30, 36, 40], 'each report holds every request so far');
    assert.deepEqual(reports.at(-1)!.classes, { Pinger: 2 });
    assert.deepEqual(master.invalid, [], 'every message passes the master\'s schema');
  });

  it('starts from zero in a new epoch, on reset or on a spawn of a newer epoch', async (t) => {
    const { worker, master } = setup(t, { Pinger });
    worker.handle(spawn({ Pinger: 2 }));
    await clock.advance(150);
    assert.equal(requests(master.lastStats()), 16, 'two users, tasks at 0 … 140 ms');
    assert.equal(master.lastStats().epoch, 0);
    worker.handle({ type: 'reset', epoch: 1 });
    await clock.advance(50);
    const afterReset = master.lastStats();
    assert.equal(afterReset.epoch, 1);
    assert.equal(requests(afterReset), 4, 'counted from the reset: the tasks at 160 and 180 ms');
    await clock.advance(150);
    assert.equal(requests(master.lastStats()), 20);
    worker.handle(spawn({ Pinger: 2 }, { epoch: 2 }));
    const at = master.of('stats').length;
    await clock.advance(50);
    assert.equal(master.of('stats').length, at + 1);
    assert.equal(master.lastStats().epoch, 2);
    assert.equal(requests(master.lastStats()), 4, 'a spawn of a newer epoch resets too');
  });

  it('on stop lets running tasks end, then says stopped', async (t) => {
    Slow.finished = 0;
    const { worker, master } = setup(t, { Slow });
    worker.handle(spawn({ Slow: 3 }, { stopTimeout: 2 }));
    await clock.advance(50);
    worker.handle({ type: 'stop', epoch: 0 });
    assert.equal(worker.state, 'stopping');
    assert.deepEqual(master.of('stopped'), []);
    // The tasks started at 0 ms end at 300 ms, well inside the 2 s stop timeout.
    await clock.advance(249);
    assert.equal(Slow.finished, 0);
    assert.deepEqual(master.of('stopped'), [], `not stopped at ${clock.now()} ms`);
    assert.equal(worker.state, 'stopping');
    await clock.advance(1);
    assert.equal(Slow.finished, 3, 'the three tasks in progress finished before `stopped`');
    assert.deepEqual(master.of('stopped'), [{ type: 'stopped', epoch: 0 }], `stopped at ${clock.now()} ms`);
    assert.equal(worker.state, 'stopped');
    assert.equal(worker.userCount, 0);
    const lastBeforeStopped = master.sent.slice(0, master.sent.findIndex((m) => m.type === 'stopped')).filter((m) => m.type === 'stats').at(-1) as Sent<'stats'>;
    assert.equal(requests(lastBeforeStopped), 3, 'a report with the finished tasks precedes `stopped`');
    await clock.advance(1000);
    assert.equal(Slow.finished, 3, 'no task starts after the stop');
  });

  it('on quit sends a final report and finishes once the master acknowledges it', async (t) => {
    const { worker, master } = setup(t, { Pinger }, { finalAckTimeoutMs: 3000 });
    worker.handle(spawn({ Pinger: 2 }));
    await clock.advance(100);
    let finished = false;
    void worker.whenFinished().then(() => (finished = true));
    worker.handle({ type: 'quit' });
    await flushMicrotasks();
    const final = master.of('stats').find((s) => s.final);
    assert.ok(final, 'the final report is sent at once: users that only wait stop at the signal');
    assert.equal(final.userCount, 0);
    assert.equal(requests(final), 12, 'two users, tasks at 0 … 100 ms');
    await clock.advance(2999);
    assert.equal(finished, false, 'waits for the ack, up to its 3 s timeout');
    worker.handle({ type: 'ack', seq: final.seq - 1 });
    await flushMicrotasks();
    assert.equal(finished, false, 'an ack of an older report does not count');
    const ackedAt = clock.now();
    worker.handle({ type: 'ack', seq: final.seq });
    await flushMicrotasks();
    assert.equal(finished, true, 'the ack ends the wait at once');
    assert.equal(clock.now(), ackedAt);
    await worker.whenFinished();
    const count = master.sent.length;
    await clock.advance(1000);
    assert.equal(master.sent.length, count, 'nothing is sent once finished');
  });

  it('on quit without an ack finishes after the ack timeout, not before', async (t) => {
    const { worker, master, logger } = setup(t, { Pinger }, { finalAckTimeoutMs: 300 });
    worker.handle(spawn({ Pinger: 1 }));
    let finished = false;
    void worker.whenFinished().then(() => (finished = true));
    worker.handle({ type: 'quit' });
    await clock.advance(299);
    assert.ok(master.of('stats').some((s) => s.final));
    assert.equal(finished, false, `not finished at ${clock.now()} ms`);
    assert.ok(!logger.lines.some((l) => /did not acknowledge the final report/.test(l)));
    await clock.advance(1);
    assert.equal(finished, true, `finished at ${clock.now()} ms`);
    assert.ok(logger.lines.some((l) => /did not acknowledge the final report/.test(l)));
  });

  it('stops its users when the master has been silent longer than the master timeout', async (t) => {
    const { worker, stats, logger } = setup(t, { Pinger }, { masterTimeoutMs: 200 });
    worker.handle(spawn({ Pinger: 2 }));
    await clock.advance(100);
    worker.handle({ type: 'heartbeat' });
    assert.equal(worker.userCount, 2, 'a heartbeat keeps it going');
    const lastWord = clock.now();
    // Its heartbeat every 50 ms looks: at 300 ms the master has been silent 200 ms (not longer), at 350 ms 250 ms.
    await clock.advance(lastWord + 249 - clock.now());
    assert.equal(worker.userCount, 2, `users still run ${clock.now() - lastWord} ms after the master's last word`);
    assert.equal(worker.state, 'running');
    assert.ok(!logger.lines.some((l) => /no word from the master/.test(l)));
    await clock.advance(1);
    assert.equal(worker.userCount, 0, `users stopped ${clock.now() - lastWord} ms after the master's last word`);
    assert.ok(logger.lines.some((l) => /no word from the master/.test(l)));
    assert.equal(worker.state, 'stopped');
    const settled = stats.snapshot(0).total.numRequests;
    assert.ok(settled > 0);
    await clock.advance(1000);
    assert.equal(stats.snapshot(0).total.numRequests, settled, 'no load after the stop');
  });

  it('takes a spawn that arrives while it is still stopping, without orphan users', async (t) => {
    Slow.finished = 0;
    Counted.live = 0;
    Counted.halt = false;
    t.after(async () => {
      Counted.halt = true; // ends users the worker may have lost track of, so the process can exit
      for (let waited = 0; Counted.live > 0 && waited < 2000; waited += 20) await clock.advance(20);
      assert.equal(Counted.live, 0, 'every Counted user ended');
    });
    const { worker, stats } = setup(t, { Slow, Counted });
    worker.handle(spawn({ Slow: 2 }, { stopTimeout: 1 }));
    await clock.advance(50);
    worker.handle({ type: 'stop', epoch: 0 });
    assert.equal(worker.state, 'stopping');
    let threw: unknown;
    try {
      worker.handle(spawn({ Counted: 2 }));
    } catch (error) {
      threw = error;
    }
    assert.equal(threw, undefined, `handle threw: ${String(threw)}`);
    await flushMicrotasks();
    assert.equal(Counted.live, 0, 'no user of the new spawn starts while the stop is under way');
    // The Slow tasks end at 300 ms; the stop then completes and the spawn is applied.
    await clock.advance(249);
    assert.equal(worker.state, 'stopping', `still stopping at ${clock.now()} ms`);
    assert.equal(Counted.live, 0);
    await clock.advance(1);
    assert.notEqual(worker.state, 'stopping', `stopped at ${clock.now()} ms`);
    assert.equal(Slow.finished, 2);
    await clock.advance(100);
    const counted = (): number => stats.snapshot(0).entries.find((e) => e.name === '/counted')?.numRequests ?? 0;
    const before = counted();
    await clock.advance(100);
    const grew = counted() - before;
    assert.equal(worker.userCount, Counted.live, `the worker counts ${worker.userCount} users, ${Counted.live} run (${grew} requests in 100 ms)`);
    assert.equal(worker.userCount, 2, 'the spawn that came during the stop is applied');
    assert.equal(grew, 10, 'two Counted users, a task each every 20 ms');
  });
});
