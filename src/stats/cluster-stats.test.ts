// The master's sums of its workers' reports: exact however reports arrive, refused when impossible, bounded whatever the names.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterStats, type UpdateResult } from './cluster-stats.ts';
import { mergeSnapshots } from './merge.ts';
import { OTHER_NAME, RequestStats } from './request-stats.ts';
import type { StatsSnapshot } from './types.ts';
import { prng } from './prng.test-helper.ts';

describe('cluster statistics', () => {
  it('sums the latest report of every worker exactly, however reports repeat and reorder', () => {
    const random = prng(7);
    let clock = 1_700_000_000_000;
    const now = () => clock;
    const cluster = new ClusterStats({ now });
    const workers = ['w1', 'w2', 'w3'].map((id) => ({ id, stats: new RequestStats({ now }), seq: 0, sent: [] as { seq: number; snap: StatsSnapshot }[] }));
    for (let round = 0; round < 30; round++) {
      clock += 1000;
      for (const w of workers) {
        for (let i = 0; i < 50; i++) {
          const name = `/n${Math.floor(random() * 5)}`;
          w.stats.log('GET', name, random() * 300, 100, clock);
          if (random() < 0.1) w.stats.logError('GET', name, 'HTTP 503', clock);
        }
        w.seq++;
        w.sent.push({ seq: w.seq, snap: w.stats.snapshot(0, { history: false }) });
      }
      // Deliver this round's reports in random order, with an occasional stale duplicate.
      const batch = workers.flatMap((w) => [{ w, r: w.sent[w.sent.length - 1]! }, ...(random() < 0.3 && w.sent.length > 1 ? [{ w, r: w.sent[w.sent.length - 2]! }] : [])]);
      batch.sort(() => random() - 0.5);
      for (const { w, r } of batch) cluster.update(w.id, 0, r.seq, r.snap);
    }
    const expected = mergeSnapshots(workers.map((w) => w.stats.snapshot(0, { history: false })));
    const actual = cluster.snapshot(0);
    assert.equal(actual.total.numRequests, 4500);
    assert.deepEqual(actual.total.histogram, expected.total.histogram);
    assert.equal(actual.total.numFailures, expected.total.numFailures);
    assert.equal(actual.total.totalResponseTime, expected.total.totalResponseTime);
    assert.equal(actual.total.minResponseTime, expected.total.minResponseTime);
    assert.equal(actual.total.maxResponseTime, expected.total.maxResponseTime);
    assert.deepEqual(actual.entries.map((e) => [e.name, e.numRequests, e.numFailures]), expected.entries.map((e) => [e.name, e.numRequests, e.numFailures]));
    assert.deepEqual(actual.errors.map((e) => e.occurrences), expected.errors.map((e) => e.occurrences));
  });

  it('ignores stale and old-epoch reports and leaves the sums untouched by a malformed one', () => {
    const cluster = new ClusterStats();
    const stats = new RequestStats();
    stats.log('GET', '/a', 10, 1);
    assert.equal(cluster.update('w', 0, 2, stats.snapshot(1, { history: false })).status, 'applied');
    assert.equal(cluster.update('w', 0, 1, stats.snapshot(1, { history: false })).status, 'stale');
    assert.equal(cluster.update('w', 5, 3, stats.snapshot(1, { history: false })).status, 'stale');
    const bad = stats.snapshot(1, { history: false });
    bad.entries[0]!.histogram = { indices: [-1], counts: [1] };
    assert.deepEqual(refusedBy(cluster.update('w', 0, 9, bad)), 'histogram');
    assert.equal(cluster.snapshot(1).total.numRequests, 1);
    cluster.reset();
    assert.equal(cluster.snapshot(0).total.numRequests, 0);
  });

  it('changes nothing for a refused report: the worker\'s previous one stays in the totals', () => {
    const clock = { ms: T0 };
    const cluster = new ClusterStats({ now: () => clock.ms });
    const [a, b] = [worker(clock, 30, '/a'), worker(clock, 20, '/b')];
    cluster.update('a', 0, 1, a.snapshot(0, { history: false }));
    cluster.update('b', 0, 1, b.snapshot(0, { history: false }));
    const before = cluster.snapshot(0);
    for (let i = 0; i < 10; i++) a.log('GET', '/a', 5, 1, clock.ms);
    const poisoned = a.snapshot(0, { history: false });
    poisoned.total.numFailures = poisoned.total.numRequests * 1000;
    assert.equal(refusedBy(cluster.update('a', 0, 2, poisoned)), 'failures');
    assert.deepEqual(cluster.snapshot(0), before);
    assert.equal(cluster.seqOf('a'), 1, 'the refused report is not held: the next good one replaces #1');
    assert.equal(cluster.update('a', 0, 3, a.snapshot(0, { history: false })).status, 'applied');
    assert.equal(cluster.snapshot(0).total.numRequests, 40 + 20);
  });

  it('caps distinct names at 500 across workers, grouping later ones as (other) per method, and says so once', () => {
    const clock = { ms: T0 };
    const cluster = new ClusterStats({ now: () => clock.ms });
    const overflows: string[] = [];
    for (let w = 0; w < 4; w++) {
      const stats = new RequestStats({ now: () => clock.ms, maxNames: 10_000 });
      for (let i = 0; i < 200; i++) stats.log(i % 2 === 0 ? 'GET' : 'POST', `/w${w}/n${i}`, 10, 1, clock.ms);
      const result = cluster.update(`w${w}`, 0, 1, stats.snapshot(0, { history: false }));
      assert.equal(result.status, 'applied');
      if (result.status === 'applied' && result.overflowName !== undefined) overflows.push(result.overflowName);
    }
    const snap = cluster.snapshot(0);
    // A snapshot lists its entries method by method: w2's 100 GET names take the last places, its POST names are grouped.
    assert.deepEqual(overflows, ['/w2/n1'], 'one warning, naming the first name grouped');
    assert.equal(snap.entries.filter((e) => e.name !== OTHER_NAME).length, 500);
    assert.deepEqual(snap.entries.filter((e) => e.name === OTHER_NAME).map((e) => [e.method, e.numRequests]).sort(), [['GET', 100], ['POST', 200]]);
    assert.equal(snap.total.numRequests, 800, 'grouped, not lost');
    assert.equal(snap.overflowedNames, 300);
  });

  it('drops the entries a replaced report leaves empty, so a flood of fresh names neither grows the master nor fills its cap', () => {
    const clock = { ms: T0 };
    const cluster = new ClusterStats({ now: () => clock.ms });
    // The attack of issue 13, scaled down: every report of the flooder holds 2000 names it never sent before.
    for (let round = 1; round <= 50; round++) {
      clock.ms += 1000;
      const stats = new RequestStats({ now: () => clock.ms, maxNames: 10_000 });
      for (let i = 0; i < 2000; i++) stats.log('GET', `/flood/${round}/${i}`, 10, 1, clock.ms);
      cluster.update('flooder', 0, round, stats.snapshot(0, { history: false }));
      assert.ok(liveEntries(cluster) <= 501, `round ${round}: ${liveEntries(cluster)} entries held`);
    }
    assert.equal(cluster.snapshot(0).total.numRequests, 2000, 'only the latest report counts');
    // An honest worker's names still get rows of their own: the flooder's old names gave their places back.
    const honest = new RequestStats({ now: () => clock.ms });
    honest.log('GET', '/real', 10, 1, clock.ms);
    const stats = new RequestStats({ now: () => clock.ms });
    stats.log('GET', '/calm', 10, 1, clock.ms);
    cluster.update('flooder', 0, 51, stats.snapshot(0, { history: false }));
    cluster.update('honest', 0, 1, honest.snapshot(0, { history: false }));
    assert.deepEqual(cluster.snapshot(0).entries.map((e) => e.name).sort(), ['/calm', '/real']);
    assert.equal(liveEntries(cluster), 2);
  });

  it('takes back exactly what a grouped report added when a newer one replaces it', () => {
    const random = prng(11);
    const clock = { ms: T0 };
    const now = (): number => clock.ms;
    const cluster = new ClusterStats({ now, maxNames: 3 });
    const workers = ['w1', 'w2'].map(() => new RequestStats({ now, maxNames: 1000 }));
    for (let round = 1; round <= 6; round++) {
      clock.ms += 1000;
      for (const stats of workers) {
        for (let i = 0; i < 200; i++) {
          const name = `/n${Math.floor(random() * 20)}`;
          // Ends out of order, as concurrent requests do; a failure is logged with its request (RequestStats.attach).
          const at = clock.ms - random() * 900;
          stats.log('GET', name, random() * 500, 10, at);
          if (random() < 0.2) stats.logError('GET', name, 'HTTP 500', at);
        }
      }
      workers.forEach((stats, k) => assert.equal(cluster.update(`w${k}`, 0, round, stats.snapshot(0, { history: false })).status, 'applied'));
    }
    // The same latest reports, taken once by a master that never saw the older ones.
    const fresh = new ClusterStats({ now, maxNames: 3 });
    workers.forEach((stats, k) => fresh.update(`w${k}`, 0, 1, stats.snapshot(0, { history: false })));
    const view = (c: ClusterStats) => c.snapshot(0).entries.map((e) => [e.name, e.numRequests, e.numFailures, e.totalResponseTime, e.totalContentLength, e.histogram, e.numReqsPerSec]);
    assert.deepEqual(view(cluster), view(fresh));
    assert.equal(cluster.snapshot(0).total.numRequests, 2400);
  });

  it('groups methods past 100 as (other) (other): methods are strings from the workers too', () => {
    const clock = { ms: T0 };
    const cluster = new ClusterStats({ now: () => clock.ms });
    const stats = new RequestStats({ now: () => clock.ms, maxNames: 10_000 });
    for (let i = 0; i < 300; i++) stats.log(`M${i}`, '/x', 10, 1, clock.ms);
    cluster.update('w', 0, 1, stats.snapshot(0, { history: false }));
    const snap = cluster.snapshot(0);
    assert.equal(new Set(snap.entries.map((e) => e.method)).size, 101);
    assert.equal(snap.entries.find((e) => e.method === OTHER_NAME)?.numRequests, 200);
    assert.equal(snap.total.numRequests, 300);
  });

  it('refuses a report that would take the cluster\'s totals past 2^53', () => {
    const clock = { ms: T0 };
    const cluster = new ClusterStats({ now: () => clock.ms });
    const huge = (): StatsSnapshot => {
      const s = new RequestStats({ now: () => clock.ms });
      s.log('GET', '/a', 0, 0, clock.ms);
      const snap = s.snapshot(0, { history: false });
      // 3·2^51 requests of 0 ms: each report is exact on its own, two of them are not.
      for (const e of [snap.entries[0]!, snap.total]) {
        e.numRequests = 3 * 2 ** 51;
        e.histogram = { indices: e.histogram.indices, counts: [3 * 2 ** 51] };
        e.numReqsPerSec = {};
      }
      return snap;
    };
    assert.equal(cluster.update('w1', 0, 1, huge()).status, 'applied');
    assert.equal(refusedBy(cluster.update('w2', 0, 1, huge())), 'sum');
    assert.equal(cluster.update('w1', 0, 2, huge()).status, 'applied', 'replacing its own report is no sum of two');
    assert.equal(cluster.snapshot(0).total.numRequests, 3 * 2 ** 51);
  });
});

const T0 = 1_700_000_000_000;

/** A worker's recorder with `n` requests of `name` at the clock's time. */
function worker(clock: { ms: number }, n: number, name: string): RequestStats {
  const stats = new RequestStats({ now: () => clock.ms });
  for (let i = 0; i < n; i++) stats.log('GET', name, 10 + i, 100, clock.ms);
  return stats;
}

function refusedBy(result: UpdateResult): string {
  return result.status === 'refused' ? result.violation.rule : result.status;
}

/** Entries the master holds, empty ones included (what the snapshot hides, and what memory is made of). */
function liveEntries(cluster: ClusterStats): number {
  const entries = (cluster as unknown as { entries: Map<string, Map<string, unknown>> }).entries;
  let n = 0;
  for (const byName of entries.values()) n += byName.size;
  return n;
}
