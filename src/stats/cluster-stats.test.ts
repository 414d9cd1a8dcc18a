import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterStats } from './cluster-stats.ts';
import { mergeSnapshots } from './merge.ts';
import { RequestStats } from './request-stats.ts';
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
    assert.equal(cluster.update('w', 0, 2, stats.snapshot(1, { history: false })), true);
    assert.equal(cluster.update('w', 0, 1, stats.snapshot(1, { history: false })), false);
    assert.equal(cluster.update('w', 5, 3, stats.snapshot(1, { history: false })), false);
    const bad = stats.snapshot(1, { history: false });
    bad.entries[0]!.histogram = { indices: [-1], counts: [1] };
    assert.throws(() => cluster.update('w', 0, 9, bad));
    assert.equal(cluster.snapshot(1).total.numRequests, 1);
    cluster.reset();
    assert.equal(cluster.snapshot(0).total.numRequests, 0);
  });
});
