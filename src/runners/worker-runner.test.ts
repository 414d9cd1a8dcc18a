// The worker in-process: real users firing `request`, a fake master link that records (and schema-checks) what is sent.
import { linesLogger } from '../core/test-environment.test-helper.ts';
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../core/clock.ts';
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

/** Fires one fake 1 ms request per task, every 20 ms. */
class Pinger extends User {
  waitTime = constant(0.02);
  @task async ping() {
    this.environment.events.request.fire({ requestType: 'GET', name: '/ping', responseTime: 1, responseLength: 2, error: null, startTime: Date.now() });
  }
}
/** A task that takes 300 ms and then records a request, to see the stop wait for it. */
class Slow extends User {
  static finished = 0;
  @task async slow() {
    await sleep(300);
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

function setup(t: TestContext, classes: Record<string, UserClass>, timing: Partial<WorkerTiming> = {}) {
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
  });
  t.after(async () => {
    await worker.shutdown();
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

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

const requests = (s: Sent<'stats'>): number => s.snapshot.total.numRequests;

describe('the worker runner', () => {
  it('says hello with a heartbeat and a report as soon as it is attached', (t) => {
    const { master } = setup(t, { Pinger });
    assert.deepEqual(master.sent.map((m) => m.type), ['heartbeat', 'stats']);
    assert.deepEqual(master.invalid, []);
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
  });

  it('sends cumulative reports with increasing sequence numbers', async (t) => {
    const { worker, master } = setup(t, { Pinger });
    worker.handle(spawn({ Pinger: 2 }));
    await sleep(400);
    const reports = master.of('stats');
    assert.ok(reports.length >= 5, `${reports.length} reports in 400 ms at 50 ms`);
    for (let i = 1; i < reports.length; i++) {
      assert.ok(reports[i]!.seq > reports[i - 1]!.seq, 'seq grows');
      assert.ok(requests(reports[i]!) >= requests(reports[i - 1]!), 'counts never go down: reports are cumulative, not deltas');
    }
    assert.ok(requests(reports.at(-1)!) > 10, `two users at 20 ms made ${requests(reports.at(-1)!)} requests`);
    assert.deepEqual(reports.at(-1)!.classes, { Pinger: 2 });
    assert.deepEqual(master.invalid, [], 'every message passes the master\'s schema');
  });

  it('starts from zero in a new epoch, on reset or on a spawn of a newer epoch', async (t) => {
    const { worker, master } = setup(t, { Pinger });
    worker.handle(spawn({ Pinger: 2 }));
    await until(() => requests(master.lastStats()) > 10);
    worker.handle({ type: 'reset', epoch: 1 });
    const before = master.sent.length;
    await until(() => master.sent.length > before && master.of('stats').at(-1)!.epoch === 1);
    const afterReset = master.lastStats();
    assert.ok(requests(afterReset) < 10, `counted from the reset: ${requests(afterReset)}`);
    await until(() => requests(master.lastStats()) > 10);
    worker.handle(spawn({ Pinger: 2 }, { epoch: 2 }));
    const at = master.of('stats').length;
    await until(() => master.of('stats').length > at);
    assert.equal(master.lastStats().epoch, 2);
    assert.ok(requests(master.lastStats()) < 10, 'a spawn of a newer epoch resets too');
  });

  it('on stop lets running tasks end, then says stopped', async (t) => {
    Slow.finished = 0;
    const { worker, master } = setup(t, { Slow });
    worker.handle(spawn({ Slow: 3 }, { stopTimeout: 2 }));
    await sleep(50);
    worker.handle({ type: 'stop', epoch: 0 });
    assert.equal(worker.state, 'stopping');
    assert.deepEqual(master.of('stopped'), []);
    await until(() => master.of('stopped').length === 1);
    assert.equal(Slow.finished, 3, 'the three tasks in progress finished before `stopped`');
    assert.deepEqual(master.of('stopped'), [{ type: 'stopped', epoch: 0 }]);
    assert.equal(worker.state, 'stopped');
    assert.equal(worker.userCount, 0);
    const lastBeforeStopped = master.sent.slice(0, master.sent.findIndex((m) => m.type === 'stopped')).filter((m) => m.type === 'stats').at(-1) as Sent<'stats'>;
    assert.equal(requests(lastBeforeStopped), 3, 'a report with the finished tasks precedes `stopped`');
  });

  it('on quit sends a final report and finishes once the master acknowledges it', async (t) => {
    const { worker, master } = setup(t, { Pinger }, { finalAckTimeoutMs: 3000 });
    worker.handle(spawn({ Pinger: 2 }));
    await sleep(100);
    let finished = false;
    void worker.whenFinished().then(() => (finished = true));
    worker.handle({ type: 'quit' });
    await until(() => master.of('stats').some((s) => s.final));
    const final = master.of('stats').find((s) => s.final)!;
    assert.equal(final.userCount, 0);
    assert.ok(requests(final) > 0);
    await sleep(150);
    assert.equal(finished, false, 'waits for the ack');
    worker.handle({ type: 'ack', seq: final.seq - 1 });
    await sleep(20);
    assert.equal(finished, false, 'an ack of an older report does not count');
    const started = Date.now();
    worker.handle({ type: 'ack', seq: final.seq });
    await worker.whenFinished();
    assert.ok(Date.now() - started < 100);
    const count = master.sent.length;
    await sleep(150);
    assert.equal(master.sent.length, count, 'nothing is sent once finished');
  });

  it('on quit without an ack finishes after the ack timeout, not before', async (t) => {
    const { worker, master, logger } = setup(t, { Pinger }, { finalAckTimeoutMs: 300 });
    worker.handle(spawn({ Pinger: 1 }));
    const started = Date.now();
    worker.handle({ type: 'quit' });
    await worker.whenFinished();
    const took = Date.now() - started;
    assert.ok(took >= 290 && took < 1000, `finished after ${took} ms`);
    assert.ok(master.of('stats').some((s) => s.final));
    assert.ok(logger.lines.some((l) => /did not acknowledge the final report/.test(l)));
  });

  it('stops its users when the master has been silent longer than the master timeout', async (t) => {
    const { worker, stats, logger } = setup(t, { Pinger }, { masterTimeoutMs: 200 });
    worker.handle(spawn({ Pinger: 2 }));
    await sleep(100);
    worker.handle({ type: 'heartbeat' });
    assert.equal(worker.userCount, 2, 'a heartbeat keeps it going');
    const lastWord = Date.now();
    await until(() => worker.userCount === 0, 2000);
    const after = Date.now() - lastWord;
    assert.ok(after >= 190 && after < 600, `users stopped ${after} ms after the master's last word`);
    assert.ok(logger.lines.some((l) => /no word from the master/.test(l)));
    await until(() => worker.state === 'stopped');
    const settled = stats.snapshot(0).total.numRequests;
    await sleep(150);
    assert.equal(stats.snapshot(0).total.numRequests, settled, 'no load after the stop');
  });

  it('takes a spawn that arrives while it is still stopping, without orphan users', async (t) => {
    Slow.finished = 0;
    Counted.live = 0;
    Counted.halt = false;
    t.after(async () => {
      Counted.halt = true; // ends users the worker may have lost track of, so the process can exit
      await until(() => Counted.live === 0, 2000);
    });
    const { worker, stats } = setup(t, { Slow, Counted });
    worker.handle(spawn({ Slow: 2 }, { stopTimeout: 1 }));
    await sleep(50);
    worker.handle({ type: 'stop', epoch: 0 });
    assert.equal(worker.state, 'stopping');
    let threw: unknown;
    try {
      worker.handle(spawn({ Counted: 2 }));
    } catch (error) {
      threw = error;
    }
    await until(() => worker.state !== 'stopping', 2000);
    await sleep(100);
    const counted = (): number => stats.snapshot(0).entries.find((e) => e.name === '/counted')?.numRequests ?? 0;
    const before = counted();
    await sleep(100);
    const grew = counted() - before;
    assert.equal(threw, undefined, `handle threw: ${String(threw)}`);
    assert.equal(worker.userCount, Counted.live, `the worker counts ${worker.userCount} users, ${Counted.live} run (${grew} requests in 100 ms)`);
  });
});
