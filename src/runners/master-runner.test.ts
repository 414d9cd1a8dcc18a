// The master in-process: fake worker links record what it sends; reports are real snapshots validated like wire messages.
import { linesLogger } from '../core/test-environment.test-helper.ts';
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { repeat } from '../core/clock.ts';
import { FakeClock, flushMicrotasks } from '../core/fake-clock.test-helper.ts';
import { defaultClientDefaults, type Environment } from '../core/environment.ts';
import { Events } from '../core/events.ts';
import { ClusterStats } from '../stats/cluster-stats.ts';
import { RequestStats } from '../stats/request-stats.ts';
import { MasterRunner, type WorkerLink } from './master-runner.ts';
import { parse, workerMessage, type MasterMessage, type WorkerMessage } from './messages.ts';

const CLASSES = [
  { name: 'A', weight: 3, fixedCount: 0 },
  { name: 'B', weight: 1, fixedCount: 0 },
];
const HEARTBEAT_MS = 50;
const LIVENESS = 3;

type Spawn = Extract<MasterMessage, { type: 'spawn' }>;

/** A worker link that records every message the master sends it. */
class FakeLink implements WorkerLink {
  readonly sent: MasterMessage[] = [];
  send(message: MasterMessage): boolean {
    this.sent.push(message);
    return true;
  }
  spawns(): Spawn[] {
    return this.sent.filter((m): m is Spawn => m.type === 'spawn');
  }
  /** The absolute per-class counts this worker was last told to run ({} before any spawn). */
  counts(): Record<string, number> {
    return this.spawns().at(-1)?.classes ?? {};
  }
  total(): number {
    return Object.values(this.counts()).reduce((a, b) => a + b, 0);
  }
  of(type: MasterMessage['type']): MasterMessage[] {
    return this.sent.filter((m) => m.type === type);
  }
}

/** The fake clock of the current test: the master's heartbeats, ramps and stop waits move only when the test advances it. */
let clock = new FakeClock();

function setup(t: TestContext, options: { stopTimeout?: number; stopWaitMs?: number } = {}) {
  clock = new FakeClock();
  const events = new Events();
  const logger = linesLogger();
  const environment: Environment = { events, host: undefined, logger, clientDefaults: defaultClientDefaults, parsedOptions: {}, runner: undefined };
  const stats = new ClusterStats();
  const master = new MasterRunner({
    environment,
    classes: CLASSES,
    stats,
    stopTimeout: options.stopTimeout ?? 0,
    drainTimeout: 0,
    timing: { heartbeatIntervalMs: HEARTBEAT_MS, heartbeatLiveness: LIVENESS, stopWaitMs: options.stopWaitMs ?? 2000 },
    clock,
    timers: clock,
  });
  t.after(() => master.close());
  const links = new Map<string, FakeLink>();
  const join = (id: string): FakeLink => {
    const link = new FakeLink();
    links.set(id, link);
    master.workerConnected(id, link);
    return link;
  };
  return { master, stats, events, logger, links, join };
}

/** Sends a heartbeat for each id every 20 ms of the fake clock (well inside the liveness window) until the returned function is called. */
function keepAlive(master: MasterRunner, ids: string[]): () => void {
  const beat = (): void => {
    for (const id of ids) master.handle(id, { type: 'heartbeat', state: 'running', userCount: 0, cpu: 0, memory: 0 });
  };
  beat();
  return repeat(clock, 20, beat);
}

/** Starts `userCount` users at 1000/s (a step every 10 ms) and checks the ramp ends exactly when it should: still spawning 1 ms before. */
async function startFast(master: MasterRunner, userCount: number): Promise<void> {
  master.start({ userCount, spawnRate: 1000 });
  // One user at once, then one a millisecond, stepped every 10 ms: the whole ramp lands on a step.
  const doneAt = Math.ceil((userCount - 1) / 10) * 10;
  if (doneAt > 0) {
    await clock.advance(doneAt - 1);
    assert.equal(master.state, 'spawning', `still spawning at ${clock.now()} ms`);
    await clock.advance(1);
  } else await flushMicrotasks();
  assert.equal(master.state, 'running', `running at ${clock.now()} ms`);
}

const missing = (master: MasterRunner, id: string): boolean | undefined => master.workerInfo().find((w) => w.id === id)?.missing;

/** The first master heartbeat at which a worker heard last at `since` is past liveness × interval: when it is marked missing. */
const missingAt = (since: number): number => (Math.floor((since + HEARTBEAT_MS * LIVENESS) / HEARTBEAT_MS) + 1) * HEARTBEAT_MS;

function sumOver(links: Iterable<FakeLink>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const link of links) for (const [c, n] of Object.entries(link.counts())) out[c] = (out[c] ?? 0) + n;
  return out;
}

function assertBalanced(links: FakeLink[], target: number): void {
  const totals = links.map((l) => l.total());
  assert.equal(totals.reduce((a, b) => a + b, 0), target, `worker totals ${totals.join('+')} add up to ${target}`);
  assert.ok(Math.max(...totals) - Math.min(...totals) <= 1, `worker totals within ±1: ${totals.join(', ')}`);
  for (const { name } of CLASSES) {
    const per = links.map((l) => l.counts()[name] ?? 0);
    assert.ok(Math.max(...per) - Math.min(...per) <= 1, `class ${name} within ±1 per worker: ${per.join(', ')}`);
  }
}

/** A real cumulative snapshot with `n` requests named `name`, wrapped in a stats message and validated by the schema. */
function report(seq: number, epoch: number, requests: Record<string, number>, final = false): WorkerMessage {
  const stats = new RequestStats();
  for (const [name, n] of Object.entries(requests)) for (let i = 0; i < n; i++) stats.log('GET', name, 10 + i, 100);
  const parsed = parse(workerMessage, { type: 'stats', seq, epoch, final, userCount: 1, classes: { A: 1 }, snapshot: stats.snapshot(1, { history: false }) });
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
  return parsed.message;
}

const requestsOf = (master: MasterRunner, name?: string): number =>
  name === undefined ? master.snapshot().total.numRequests : master.snapshot().entries.find((e) => e.name === name)?.numRequests ?? 0;

describe('the master runner', () => {
  it('starts three workers with absolute per-class counts, balanced within ±1 and adding up to the target', async (t) => {
    const { master, join } = setup(t);
    const links = ['w1', 'w2', 'w3'].map(join);
    await startFast(master, 10);
    assertBalanced(links, 10);
    const all = sumOver(links);
    assert.deepEqual(all, master.userClassCounts());
    assert.ok(all.A! > all.B!, `A (weight 3) gets more users than B: ${JSON.stringify(all)}`);
    assert.equal(all.A! + all.B!, 10);
    for (const link of links) {
      const last = link.spawns().at(-1)!;
      assert.deepEqual(Object.keys(last.classes).sort(), ['A', 'B'], 'every class is listed, zeros included');
      assert.equal(last.epoch, 0);
      assert.equal(last.stopTimeout, 0);
    }
    const seqs = links.flatMap((l) => l.spawns().map((s) => s.seq)).sort((a, b) => a - b);
    assert.equal(new Set(seqs).size, seqs.length, 'every spawn message has its own sequence number');
  });

  it('gives a worker that joins mid-run its share and shrinks the others, keeping the total', async (t) => {
    const { master, join } = setup(t);
    const stop = keepAlive(master, ['w1', 'w2', 'w3', 'w4']);
    t.after(stop);
    const first = ['w1', 'w2', 'w3'].map(join);
    await startFast(master, 12);
    assert.deepEqual(first.map((l) => l.total()), [4, 4, 4]);
    await clock.advance(500);
    const late = join('w4');
    assert.equal(late.total(), 3, 'the newcomer gets 12 / 4 users');
    assert.deepEqual(first.map((l) => l.total()), [3, 3, 3], 'the others shrink');
    assertBalanced([...first, late], 12);
    assert.deepEqual(sumOver([...first, late]), master.userClassCounts());
    assert.equal(master.state, 'running');
  });

  it('marks a worker silent for liveness × interval missing and re-sends its users to the others', async (t) => {
    const { master, join, logger } = setup(t);
    const links = ['w1', 'w2', 'w3'].map(join);
    const stop = keepAlive(master, ['w1', 'w2']);
    t.after(stop);
    // w3 is never heard after its handshake at 0 ms.
    const silentSince = clock.now();
    await startFast(master, 9);
    assert.equal(links[2]!.total(), 3);
    const w3Spawns = links[2]!.spawns().length;
    const detectAt = missingAt(silentSince);
    assert.equal(detectAt, 200, 'the first heartbeat more than 3 × 50 ms after the last word');
    await clock.advance(detectAt - 1 - clock.now());
    assert.equal(missing(master, 'w3'), false, `not missing yet at ${clock.now()} ms`);
    assert.equal(links[2]!.total(), 3, 'w3 keeps its users while within the liveness window');
    assert.equal(master.readyWorkers, 3);
    await clock.advance(1);
    assert.equal(missing(master, 'w3'), true, `missing at ${clock.now()} ms`);
    const info = master.workerInfo().find((w) => w.id === 'w3')!;
    assert.equal(info.state, 'missing');
    assert.ok(logger.lines.some((l) => /warning worker w3 is missing \(no heartbeat for 0\.2 s\)/.test(l)), logger.lines.join('\n'));
    assert.deepEqual(links.slice(0, 2).map((l) => l.total()).sort(), [4, 5]);
    assert.equal(links[0]!.total() + links[1]!.total(), 9, 'the total is unchanged: the survivors run all 9 users');
    assertBalanced(links.slice(0, 2), 9);
    assert.equal(links[2]!.spawns().length, w3Spawns, 'nothing new is sent to the missing worker');
    assert.equal(master.readyWorkers, 2);
    assert.equal(missing(master, 'w1'), false, 'a worker that heartbeats every 20 ms is never missing');
    assert.equal(missing(master, 'w2'), false);
  });

  it('lets a missing worker that heartbeats again rejoin with its share', async (t) => {
    const { master, join } = setup(t);
    const links = ['w1', 'w2', 'w3'].map(join);
    const stop = keepAlive(master, ['w1', 'w2']);
    t.after(stop);
    await startFast(master, 9);
    await clock.advance(missingAt(0) - clock.now());
    assert.equal(missing(master, 'w3'), true);
    assert.equal(links[0]!.total() + links[1]!.total(), 9);
    master.handle('w3', { type: 'heartbeat', state: 'running', userCount: 3, cpu: 1, memory: 1 });
    const info = master.workerInfo().find((w) => w.id === 'w3')!;
    assert.equal(info.missing, false);
    assert.equal(info.state, 'running');
    assert.equal(master.readyWorkers, 3);
    assert.deepEqual(links.map((l) => l.total()), [3, 3, 3], 'users are spread over all three again');
    assertBalanced(links, 9);
  });

  it('sums the latest report of each worker exactly, ignoring stale, duplicate and reordered ones', async (t) => {
    const { master, join } = setup(t);
    join('w1');
    join('w2');
    master.handle('w1', report(2, 0, { '/a': 5 }));
    master.handle('w1', report(1, 0, { '/a': 3 }));
    assert.equal(requestsOf(master), 5, 'a report with a lower seq is ignored');
    master.handle('w1', report(2, 0, { '/a': 5 }));
    assert.equal(requestsOf(master), 5, 'a duplicate is not counted twice');
    master.handle('w1', report(2, 0, { '/a': 7 }));
    assert.equal(requestsOf(master), 5, 'a report with an equal seq is ignored, whatever it holds');
    master.handle('w2', report(1, 0, { '/a': 4, '/b': 2 }));
    assert.equal(requestsOf(master), 11);
    master.handle('w1', report(3, 0, { '/a': 6, '/b': 1 }));
    assert.equal(requestsOf(master, '/a'), 10);
    assert.equal(requestsOf(master, '/b'), 3);
    assert.equal(requestsOf(master), 13, 'totals are the exact sum of the latest reports');
  });

  it('ignores a report from an epoch before the last reset', async (t) => {
    const { master, join } = setup(t);
    const link = join('w1');
    master.handle('w1', report(1, 0, { '/a': 5 }));
    master.resetStats();
    assert.deepEqual(link.of('reset'), [{ type: 'reset', epoch: 1 }]);
    assert.equal(requestsOf(master), 0);
    master.handle('w1', report(9, 0, { '/a': 50 }));
    assert.equal(requestsOf(master), 0, 'epoch 0 is gone');
    master.handle('w1', report(10, 1, { '/a': 2 }));
    assert.equal(requestsOf(master), 2);
  });

  it('acknowledges a final report, and only a final one', async (t) => {
    const { master, join } = setup(t);
    const link = join('w1');
    master.handle('w1', report(1, 0, { '/a': 1 }));
    assert.deepEqual(link.of('ack'), []);
    master.handle('w1', report(2, 0, { '/a': 2 }, true));
    assert.deepEqual(link.of('ack'), [{ type: 'ack', seq: 2 }]);
    assert.equal(requestsOf(master), 2);
  });

  it('quit() waits for every worker\'s next report and then resolves', async (t) => {
    const { master, join } = setup(t);
    const links = ['w1', 'w2'].map(join);
    master.handle('w1', report(1, 0, { '/a': 1 }));
    let done = false;
    const quitting = master.quit(3000).then(() => (done = true));
    assert.ok(links.every((l) => l.of('quit').length === 1), 'quit is sent to every worker');
    await clock.advance(60);
    assert.equal(done, false, 'waiting for both');
    master.handle('w1', report(2, 0, { '/a': 2 }, true));
    await clock.advance(60);
    assert.equal(done, false, 'still waiting for w2');
    master.handle('w2', report(1, 0, { '/a': 3 }, true));
    // quit() looks again every 20 ms: it resolves at its next look, long before its 3 s limit.
    await clock.advance(20);
    assert.equal(done, true, `resolved by ${clock.now()} ms`);
    await quitting;
    assert.equal(requestsOf(master), 5);
  });

  it('stop() sends stop to every worker and waits until each says stopped', async (t) => {
    const { master, join } = setup(t, { stopWaitMs: 5000 });
    const links = ['w1', 'w2', 'w3'].map(join);
    const stop = keepAlive(master, ['w1', 'w2', 'w3']);
    t.after(stop);
    await startFast(master, 6);
    let stopped = false;
    const stopping = master.stop().then(() => (stopped = true));
    const stopAt = clock.now();
    assert.equal(master.state, 'stopping');
    for (const link of links) assert.deepEqual(link.of('stop'), [{ type: 'stop', epoch: 0 }]);
    master.handle('w1', { type: 'stopped', epoch: 0 });
    master.handle('w2', { type: 'stopped', epoch: 0 });
    // The deadline is stop timeout (0) + drain (0) + stopWaitMs (5 s): 1 ms before it, w3 is still waited for.
    await clock.advance(4999);
    assert.equal(stopped, false, 'w3 has not confirmed yet');
    assert.equal(master.state, 'stopping');
    master.handle('w3', { type: 'stopped', epoch: 0 });
    await flushMicrotasks();
    assert.equal(stopped, true, 'the last confirmation ends the stop at once, not at a timer');
    assert.equal(clock.now(), stopAt + 4999);
    await stopping;
    assert.equal(master.state, 'stopped');
    assert.equal(master.targetUserCount, 0);
  });

  it('ramps at the spawn rate: 10 users at 20/s take about 0.45 s, in growing absolute steps', async (t) => {
    const { master, join, events } = setup(t);
    const links = ['w1', 'w2'].map(join);
    const stop = keepAlive(master, ['w1', 'w2']);
    t.after(stop);
    let completed = -1;
    events.spawningComplete.addListener((e) => (completed = e.userCount));
    master.start({ userCount: 10, spawnRate: 20 });
    assert.equal(master.state, 'spawning');
    const placed = (): number => links[0]!.total() + links[1]!.total();
    assert.equal(placed(), 1, 'the first step spawns one user, not all');
    // One user at once, then one every 50 ms: the n-th at (n − 1) × 50 ms, the 10th at 450 ms.
    for (let n = 2; n <= 10; n++) {
      await clock.advance(49);
      assert.equal(placed(), n - 1, `${n - 1} users at ${clock.now()} ms`);
      assert.equal(master.state, 'spawning');
      await clock.advance(1);
      assert.equal(placed(), n, `${n} users at ${clock.now()} ms`);
    }
    assert.equal(clock.now(), 450);
    assert.equal(master.state, 'running');
    assert.equal(completed, 10);
    assertBalanced(links, 10);
    for (const link of links) {
      const totals = link.spawns().map((s) => Object.values(s.classes).reduce((a, b) => a + b, 0));
      assert.ok(totals.length >= 4, `several steps: ${totals.join(',')}`);
      assert.deepEqual([...totals].sort((a, b) => a - b), totals, `a worker's count only grows during a ramp up: ${totals.join(',')}`);
    }
    await clock.advance(1000);
    assert.equal(placed(), 10, 'the ramp stops at the target');
  });

  it('a worker that joins while the run is stopping does not hold the stop up until the deadline', async (t) => {
    const { master, join } = setup(t, { stopWaitMs: 800 });
    ['w1', 'w2'].map(join);
    const stop = keepAlive(master, ['w1', 'w2', 'w3']);
    t.after(stop);
    await startFast(master, 4);
    let stopped = false;
    const stopping = master.stop().then(() => (stopped = true));
    const late = join('w3');
    const stopAt = clock.now();
    master.handle('w1', { type: 'stopped', epoch: 0 });
    master.handle('w2', { type: 'stopped', epoch: 0 });
    await flushMicrotasks();
    assert.equal(stopped, true, `stop waited for a worker that was never told to stop (stop messages: ${late.of('stop').length})`);
    assert.equal(clock.now(), stopAt, 'no time passed: the stop did not wait for a timer');
    await stopping;
    assert.equal(master.state, 'stopped');
  });

  it('a late close of a worker\'s old link does not cut the link it reconnected with', async (t) => {
    const { master } = setup(t, { stopWaitMs: 500 });
    const old = new FakeLink();
    master.workerConnected('w1', old);
    const stop = keepAlive(master, ['w1']);
    t.after(stop);
    await startFast(master, 2);
    const fresh = new FakeLink();
    master.workerConnected('w1', fresh);
    assert.equal(fresh.total(), 2, 'the new link gets the assignment');
    // The old socket's close event arrives after the new handshake (as with a half-open link).
    master.workerDisconnected('w1', old);
    assert.equal(master.workerInfo().find((w) => w.id === 'w1')?.connected, true, 'still connected on its new link');
    assert.equal(master.readyWorkers, 1);
    let stopped = false;
    const stopping = master.stop().then(() => (stopped = true));
    assert.equal(fresh.of('stop').length, 1, 'the worker on its new link is told to stop');
    assert.equal(old.of('stop').length, 0, 'nothing goes to the old link');
    // A connected worker is waited for until it confirms (the deadline is 500 ms).
    await clock.advance(400);
    assert.equal(stopped, false, 'the stop waits for the worker on its new link');
    master.handle('w1', { type: 'stopped', epoch: 0 });
    await flushMicrotasks();
    assert.equal(stopped, true);
    await stopping;
  });
});
