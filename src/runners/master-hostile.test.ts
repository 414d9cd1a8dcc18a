// The master against a hostile worker (issue 13), in-process: impossible reports refused and logged once a minute, honest ones taken, no forged log line.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode } from '@msgpack/msgpack';
import { Events } from '../core/events.ts';
import { FakeClock } from '../core/fake-clock.test-helper.ts';
import { testEnvironment } from '../core/test-environment.test-helper.ts';
import { ClusterStats } from '../stats/cluster-stats.ts';
import { RequestStats } from '../stats/request-stats.ts';
import type { StatsSnapshot } from '../stats/types.ts';
import { MasterRunner, type WorkerLink } from './master-runner.ts';
import { parse, workerMessage, type MasterMessage, type WorkerMessage } from './messages.ts';
import { REFUSAL_LOG_INTERVAL_MS } from './master-workers.ts';
import { packSnapshot } from './wire-snapshot.ts';

/** A newline, a line shaped like the master's own, and an ANSI colour: what a peer's string may carry into a log. */
const FORGED = 'x\n[2024-01-01 00:00:00] INFO forged\u001b[31m';

class FakeLink implements WorkerLink {
  readonly sent: MasterMessage[] = [];
  send(message: MasterMessage): boolean {
    this.sent.push(message);
    return true;
  }
}

function setup(t: TestContext) {
  const clock = new FakeClock();
  const environment = testEnvironment({ events: new Events() });
  const stats = new ClusterStats();
  const master = new MasterRunner({ environment, classes: [{ name: 'A', weight: 1, fixedCount: 0 }], stats, stopTimeout: 0, drainTimeout: 0, clock, timers: clock });
  t.after(() => master.close());
  const join = (id: string): FakeLink => {
    const link = new FakeLink();
    master.workerConnected(id, link);
    return link;
  };
  return { master, clock, lines: environment.logger.lines, join };
}

/** A stats message as it crosses the link: packed, msgpack-encoded, decoded and validated by the master's schema. */
function wire(seq: number, snapshot: StatsSnapshot, options: { final?: boolean; userCount?: number } = {}): WorkerMessage {
  const userCount = options.userCount ?? 1;
  const raw = decode(encode({ type: 'stats', seq, epoch: 0, final: options.final ?? false, userCount, classes: { A: userCount }, snapshot: packSnapshot(snapshot) }));
  const parsed = parse(workerMessage, raw);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
  return parsed.message;
}

function honest(requests: number): RequestStats {
  const stats = new RequestStats();
  for (let i = 0; i < requests; i++) {
    stats.log(i % 3 === 0 ? 'POST' : 'GET', `/n${i % 7}`, 1 + ((i * 37) % 500), 100);
    if (i % 5 === 0) stats.logError('GET', `/n${i % 7}`, 'HTTP 503');
  }
  return stats;
}

const refusals = (lines: string[]): string[] => lines.filter((l) => l.includes('refused a'));

describe('the master and a hostile worker', () => {
  it('takes every report of an honest worker through the wire', (t) => {
    const { master, lines, join } = setup(t);
    join('w1');
    const stats = honest(0);
    for (let seq = 1; seq <= 5; seq++) {
      for (let i = 0; i < 300; i++) {
        stats.log('GET', `/n${i % 9}`, (i * 13) % 700, 10);
        if (i % 4 === 0) stats.logError('GET', `/n${i % 9}`, 'HTTP 500');
      }
      master.handle('w1', wire(seq, stats.snapshot(1, { history: false })));
    }
    assert.deepEqual(refusals(lines), []);
    assert.equal(master.snapshot().total.numRequests, 1500);
    assert.equal(master.snapshot().total.numFailures, 375);
  });

  it('refuses an impossible report, keeping the previous one and the user counts, and does not ack it', (t) => {
    const { master, lines, join } = setup(t);
    const link = join('w1');
    const stats = honest(100);
    master.handle('w1', wire(1, stats.snapshot(1, { history: false }), { userCount: 1 }));
    const before = master.snapshot();
    const forged = stats.snapshot(1, { history: false });
    forged.total.numFailures = forged.total.numRequests + 1;
    master.handle('w1', wire(2, forged, { final: true, userCount: 7 }));
    assert.deepEqual({ ...master.snapshot(), time: 0, history: [] }, { ...before, time: 0, history: [] });
    assert.equal(master.userCount, 1, 'its user counts are not taken either');
    assert.deepEqual(link.sent.filter((m) => m.type === 'ack'), [], 'a refused final report is not acknowledged');
    const [line, ...more] = refusals(lines);
    assert.deepEqual(more, []);
    assert.match(line!, /^warning refused a report from worker w1 \(rule 'failures'\): the total: 101 failures of 100 requests; /);
    assert.match(line!, /its previous report stays in the totals/);
  });

  it('logs refusals at most once a minute per worker, counting the ones in between', async (t) => {
    const { master, clock, lines, join } = setup(t);
    join('w1');
    join('w2');
    const forged = honest(10).snapshot(1, { history: false });
    forged.entries[0]!.minResponseTime = forged.entries[0]!.maxResponseTime + 1;
    for (let seq = 1; seq <= 30; seq++) {
      master.handle('w1', wire(seq, forged));
      master.handle('w2', wire(seq, forged));
      await clock.advance(1000);
    }
    assert.equal(refusals(lines).length, 2, 'one line for each worker in the first minute');
    assert.ok(refusals(lines).every((l) => l.includes("(rule 'extremes')")));
    await clock.advance(REFUSAL_LOG_INTERVAL_MS);
    master.handle('w1', wire(31, forged));
    assert.equal(refusals(lines).length, 3);
    assert.match(refusals(lines)[2]!, /worker w1 .*\(29 more refused since the last line\)/);
  });

  it('refuses heartbeats with users, CPU or memory out of range, changing nothing', (t) => {
    const { master, lines, join } = setup(t);
    join('w1');
    master.handle('w1', { type: 'heartbeat', state: 'running', userCount: 3, cpu: 10, memory: 50e6 });
    master.handle('w1', { type: 'heartbeat', state: 'stopped', userCount: 3, cpu: 10, memory: 2 ** 52 });
    assert.deepEqual(master.workerInfo().map(({ state, userCount, memory }) => ({ state, userCount, memory })), [{ state: 'running', userCount: 3, memory: 50e6 }]);
    assert.match(refusals(lines)[0]!, /refused a heartbeat from worker w1 \(rule 'heartbeat'\): memory/);
  });

  it('lets no worker id or message name forge a line of its log', async (t) => {
    const { master, clock, lines, join } = setup(t);
    const id = `evil${FORGED}`;
    join(id);
    join(id); // reconnected
    master.handle(id, { type: 'custom', name: FORGED, data: null });
    const forged = honest(10).snapshot(1, { history: false });
    forged.entries[0]!.name = FORGED;
    forged.entries[0]!.numFailures = 1000;
    master.handle(id, wire(1, forged));
    master.sendMessage(FORGED, null, `nobody${FORGED}`);
    await clock.advance(10_000); // missing
    const many = new RequestStats({ maxNames: 1000 });
    for (let i = 0; i < 600; i++) many.log('GET', `${FORGED}${i}`, 1, 0);
    master.handle(id, wire(2, many.snapshot(1, { history: false })));
    assert.ok(lines.length >= 6, lines.join('\n'));
    for (const line of lines) {
      assert.doesNotMatch(line, /[\n\r\u001b]/, JSON.stringify(line));
    }
    assert.ok(lines.some((l) => l.includes('custom message \'x [2024-01-01 00:00:00] INFO forged')), lines.join('\n'));
    assert.ok(lines.some((l) => /more than 500 distinct request names across the workers; 'x \[2024/.test(l)), lines.join('\n'));
  });

  it('gives schema rejections as one printable line: zod quotes the peer\'s own keys', () => {
    for (const raw of [
      { type: 'heartbeat', state: 'ready', userCount: 0, cpu: 0, memory: 0, [FORGED]: 1 },
      { type: 'stats', seq: 1, epoch: 0, final: false, userCount: 0, classes: { [FORGED]: -1 }, snapshot: {} },
    ]) {
      const parsed = parse(workerMessage, raw);
      assert.equal(parsed.ok, false);
      assert.doesNotMatch(parsed.ok ? '' : parsed.reason, /[\n\u001b]/);
    }
  });
});
