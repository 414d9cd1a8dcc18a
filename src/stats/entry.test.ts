// Tests of StatsEntry: exact counters, bounded per-second counts, snapshot round trips and merging.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatsEntry } from './entry.ts';
import { PER_SECOND_SLOTS } from './rate.ts';

const T0 = 1_700_000_000; // epoch seconds

describe('StatsEntry', () => {
  it('keeps count, exact min, max, mean and content length', () => {
    const e = new StatsEntry('GET', '/a');
    const times = [12.345, 0.25, 999.999, 40, 7.5];
    times.forEach((t, i) => e.log(t, 100 + i, T0 + i * 0.3));
    const s = e.toSnapshot();
    assert.equal(s.numRequests, 5);
    assert.equal(s.minResponseTime, 0.25);
    assert.equal(s.maxResponseTime, 999.999);
    assert.equal(s.totalResponseTime / s.numRequests, 1060.094 / 5);
    assert.equal(s.totalContentLength, 510);
    assert.equal(s.startTime, T0);
    assert.equal(s.lastRequestTimestamp, T0 + 4 * 0.3);
  });

  it('counts failures separately from requests, per second', () => {
    const e = new StatsEntry('POST', '/b');
    e.log(10, 0, T0 + 0.5);
    e.logError(T0 + 0.5);
    e.log(10, 0, T0 + 1.2);
    const s = e.toSnapshot();
    assert.equal(s.numRequests, 2);
    assert.equal(s.numFailures, 1);
    assert.deepEqual(s.numReqsPerSec, { [T0]: 1, [T0 + 1]: 1 });
    assert.deepEqual(s.numFailPerSec, { [T0]: 1 });
  });

  it('reports zero extremes and no per-second counts when empty', () => {
    const s = new StatsEntry('GET', '/none').toSnapshot();
    assert.equal(s.minResponseTime, 0);
    assert.equal(s.maxResponseTime, 0);
    assert.deepEqual(s.numReqsPerSec, {});
    assert.deepEqual(s.histogram, { indices: [], counts: [] });
  });

  it('keeps per-second counts for the last seconds only, however long the run', () => {
    const e = new StatsEntry('GET', '/long');
    for (let s = 0; s < 3600; s++) e.log(5, 0, T0 + s);
    const perSec = e.toSnapshot().numReqsPerSec;
    const keys = Object.keys(perSec).map(Number).sort((a, b) => a - b);
    assert.equal(keys.length, PER_SECOND_SLOTS);
    assert.equal(keys[0], T0 + 3600 - PER_SECOND_SLOTS);
    assert.equal(e.requestsAt(T0 + 3599), 1);
    assert.equal(e.requestsAt(T0 + 10), 0);
  });

  it('treats negative or NaN response times as zero', () => {
    const e = new StatsEntry('GET', '/odd');
    e.log(-3, 0, T0);
    e.log(Number.NaN, 0, T0);
    const s = e.toSnapshot();
    assert.equal(s.minResponseTime, 0);
    assert.equal(s.totalResponseTime, 0);
  });

  it('round-trips through a snapshot', () => {
    const e = new StatsEntry('GET', '/rt');
    for (let i = 0; i < 100; i++) {
      e.log(i * 1.75, i, T0 + i / 10);
      if (i % 7 === 0) e.logError(T0 + i / 10);
    }
    const s = e.toSnapshot();
    assert.deepEqual(StatsEntry.fromSnapshot(s).toSnapshot(), s);
  });

  it('merges snapshots exactly and in any order, like one entry fed every request', () => {
    const all = new StatsEntry('GET', '/m');
    const parts = [new StatsEntry('GET', '/m'), new StatsEntry('GET', '/m'), new StatsEntry('GET', '/m')];
    for (let i = 0; i < 3000; i++) {
      const t = 0.1 + ((i * 7919) % 5000) / 3.3;
      const now = T0 + i / 100;
      all.log(t, i % 50, now);
      parts[i % 3]!.log(t, i % 50, now);
      if (i % 11 === 0) {
        all.logError(now);
        parts[i % 3]!.logError(now);
      }
    }
    const [a, b, c] = parts.map((p) => p.toSnapshot()) as [ReturnType<StatsEntry['toSnapshot']>, ReturnType<StatsEntry['toSnapshot']>, ReturnType<StatsEntry['toSnapshot']>];
    const abc = new StatsEntry('GET', '/m');
    for (const s of [a, b, c]) abc.mergeSnapshot(s);
    const cab = new StatsEntry('GET', '/m');
    for (const s of [c, a, b]) cab.mergeSnapshot(s);
    assert.deepEqual(abc.toSnapshot(), all.toSnapshot());
    assert.deepEqual(cab.toSnapshot(), all.toSnapshot());
  });

  it('refuses a snapshot with a malformed histogram without changing anything', () => {
    const e = new StatsEntry('GET', '/bad');
    e.log(1, 0, T0);
    const good = e.toSnapshot();
    assert.throws(() => e.mergeSnapshot({ ...good, histogram: { indices: [-1], counts: [1] } }), { code: 'CICADA_ERR_STATS_BAD_HISTOGRAM' });
    assert.deepEqual(e.toSnapshot(), good);
  });

  it('clears everything on reset', () => {
    const e = new StatsEntry('GET', '/r');
    e.log(3, 10, T0);
    e.logError(T0);
    e.reset();
    assert.deepEqual(e.toSnapshot(), new StatsEntry('GET', '/r').toSnapshot());
  });
});
