// Tests of HistoryBuffer: one point per second, bounded, older points thinned.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HistoryBuffer } from './history.ts';
import type { HistoryPoint } from './types.ts';

function point(time: number, userCount = 1): HistoryPoint {
  return { time, userCount, currentRps: 0, currentFailPerSec: 0, currentPercentiles: [], totalRequests: 0, totalFailures: 0 };
}

describe('HistoryBuffer', () => {
  it('replaces the point of a second recorded twice', () => {
    const h = new HistoryBuffer();
    h.push(point(10, 1));
    h.push(point(10, 2));
    h.push(point(11, 3));
    assert.deepEqual(h.toArray().map((p) => [p.time, p.userCount]), [[10, 2], [11, 3]]);
  });

  it('keeps recent points at full resolution and older ones thinned, within bounds', () => {
    const h = new HistoryBuffer({ recent: 100, olderStep: 10, older: 5 });
    for (let t = 0; t < 1000; t++) h.push(point(t));
    const times = h.toArray().map((p) => p.time);
    assert.equal(h.length, 105);
    assert.deepEqual(times.slice(0, 5), [850, 860, 870, 880, 890]);
    assert.deepEqual(times.slice(5, 8), [900, 901, 902]);
    assert.equal(times.at(-1), 999);
  });

  it('empties on clear', () => {
    const h = new HistoryBuffer();
    h.push(point(1));
    h.clear();
    assert.deepEqual(h.toArray(), []);
  });
});
