// Tests of mergeSnapshots: three processes' snapshots sum to what one recorder fed everything holds.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mergeSnapshots } from './merge.ts';
import { RequestStats } from './request-stats.ts';
import type { StatsSnapshot } from './types.ts';
import { sortEntries } from './view.ts';
import { prng } from './prng.test-helper.ts';

const T0 = 1_700_000_000_000;

/** Everything except fields that legitimately differ (order, history, time). */
function comparable(s: StatsSnapshot): unknown {
  const byKey = (a: { method: string; name: string; error: string }, b: typeof a): number =>
    `${a.method}|${a.name}|${a.error}`.localeCompare(`${b.method}|${b.name}|${b.error}`);
  return {
    startTime: s.startTime,
    entries: sortEntries(s.entries),
    total: s.total,
    errors: [...s.errors].sort(byKey),
    exceptions: [...s.exceptions].sort((a, b) => a.traceback.localeCompare(b.traceback)),
    overflowedNames: s.overflowedNames,
  };
}

describe('mergeSnapshots', () => {
  it('sums three snapshots into exactly what one recorder fed all three streams holds', () => {
    let now = T0;
    const clock = (): number => now;
    const workers = [0, 1, 2].map(() => new RequestStats({ now: clock }));
    const all = new RequestStats({ now: clock });
    const rand = prng(2024);
    const names = ['/a', '/b', '/items/[id]', '/cart'];
    for (let i = 0; i < 20_000; i++) {
      now = T0 + i * 3; // 60 s of traffic
      const w = workers[Math.floor(rand() * 3)]!;
      const method = rand() < 0.7 ? 'GET' : 'POST';
      const name = names[Math.floor(rand() * names.length)]!;
      const ms = Math.exp(3 + 1.2 * rand() * rand() * 4) * (1 + rand());
      const bytes = Math.floor(rand() * 5000);
      for (const r of [w, all]) r.log(method, name, ms, bytes);
      if (rand() < 0.05) {
        const message = rand() < 0.5 ? 'HTTP 503' : 'ECONNRESET';
        for (const r of [w, all]) r.logError(method, name, message);
      }
      if (rand() < 0.001) {
        const stack = `Error: x\n    at t${i % 2}`;
        w.logException('x', stack, `w${workers.indexOf(w)}`);
        all.logException('x', stack, `w${workers.indexOf(w)}`);
      }
    }
    const snaps = workers.map((w) => w.snapshot(10, { history: false }));
    const merged = mergeSnapshots(snaps);
    const expected = all.snapshot(30, { history: false });
    const withoutNodes = (s: StatsSnapshot): unknown => ({ ...(comparable(s) as object), exceptions: null });
    assert.deepEqual(withoutNodes(merged), withoutNodes(expected));
    assert.equal(merged.userCount, 30);
    assert.equal(merged.total.numRequests, 20_000);
    // Exceptions: counts add, nodes are the union of the workers that saw each traceback.
    for (const e of merged.exceptions) {
      const same = expected.exceptions.find((x) => x.traceback === e.traceback);
      assert.equal(e.count, same?.count);
    }
    assert.deepEqual(mergeSnapshots([snaps[2]!, snaps[0]!, snaps[1]!]), merged, 'order does not matter');
  });

  it('unites exception nodes and adds error rows', () => {
    const a = new RequestStats({ now: () => T0 });
    const b = new RequestStats({ now: () => T0 + 5000 });
    a.logException('boom', 'stack-1', 'w1');
    b.logException('boom', 'stack-1', 'w2');
    b.logException('boom', 'stack-1', 'w1');
    a.logError('GET', '/x', 'HTTP 500');
    b.logError('GET', '/x', 'HTTP 500');
    const merged = mergeSnapshots([a.snapshot(0), b.snapshot(0)]);
    assert.deepEqual(merged.exceptions, [{ count: 3, msg: 'boom', traceback: 'stack-1', nodes: ['w1', 'w2'] }]);
    assert.deepEqual(merged.errors, [{ method: 'GET', name: '/x', error: 'HTTP 500', occurrences: 2, firstSeen: T0 / 1000, lastSeen: (T0 + 5000) / 1000 }]);
    assert.equal(merged.time, T0 + 5000);
    assert.equal(merged.startTime, T0 / 1000);
  });

  it('merges history points of the same second', () => {
    const point = (time: number, users: number, p50: number | null): StatsSnapshot['history'][number] =>
      ({ time, userCount: users, currentRps: users, currentFailPerSec: 0, currentPercentiles: [p50], totalRequests: users * 10, totalFailures: 0 });
    const base = mergeSnapshots([]);
    const merged = mergeSnapshots([
      { ...base, history: [point(1, 2, 10), point(2, 2, null)] },
      { ...base, history: [point(2, 3, 30), point(3, 3, 5)] },
    ]);
    assert.deepEqual(merged.history.map((p) => [p.time, p.userCount, p.totalRequests, p.currentPercentiles[0]]),
      [[1, 2, 20, 10], [2, 5, 50, 30], [3, 3, 30, 5]]);
  });

  it('gives an empty snapshot for no input', () => {
    const s = mergeSnapshots([]);
    assert.deepEqual([s.entries, s.errors, s.exceptions, s.history, s.total.numRequests], [[], [], [], [], 0]);
    assert.equal(s.total.name, 'Aggregated');
  });
});
