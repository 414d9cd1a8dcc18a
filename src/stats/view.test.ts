// Tests of the derived entry views: Locust's fields, clamped percentiles, current rates, ordering.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatsEntry } from './entry.ts';
import { entryView, percentileOf, percentilesOf, sortEntries } from './view.ts';
import { PERCENTILES_TO_REPORT } from './types.ts';

const T0 = 1_700_000_000;

describe('entry views', () => {
  it('gives the exact max as p100 even when the last bucket sits below it (regression: the CSV said 98 for a max of 98.5)', () => {
    const e = new StatsEntry('GET', '/a');
    e.log(50, 0, T0);
    e.log(90.07, 0, T0); // its bucket's value is 90.0475
    assert.equal(entryView(e.toSnapshot(), T0 * 1000).percentiles.at(-1), 90.07);
  });

  it('derives Locust fields from a snapshot', () => {
    const e = new StatsEntry('GET', '/a');
    for (let i = 0; i < 20; i++) e.log(10 + i, 100, T0 + i * 0.5); // 10..29 ms over 9.5 s
    for (let i = 0; i < 5; i++) e.logError(T0 + i);
    const v = entryView(e.toSnapshot(), (T0 + 9.5) * 1000);
    assert.equal(v.numRequests, 20);
    assert.equal(v.numFailures, 5);
    assert.equal(v.avgResponseTime, 19.5);
    assert.equal(v.minResponseTime, 10);
    assert.equal(v.maxResponseTime, 29);
    assert.equal(v.avgContentLength, 100);
    assert.equal(v.totalRps, 20 / 9.5);
    assert.equal(v.totalFailPerSec, 5 / 9.5);
    assert.equal(v.failRatio, 0.25);
    assert.ok(Math.abs(v.medianResponseTime! - 19) / 19 <= 0.001, `median ${v.medianResponseTime}`);
    assert.equal(v.percentiles.length, PERCENTILES_TO_REPORT.length);
    assert.equal(v.percentiles.at(-1), 29, 'p100 is the exact max');
    // Window [T0, T0+7): 14 requests over 7 s; 5 failures over 7 s.
    assert.equal(v.currentRps, 2);
    assert.equal(v.currentFailPerSec, 5 / 7);
  });

  it('divides total rps by at least one second', () => {
    const e = new StatsEntry('GET', '/burst');
    for (let i = 0; i < 50; i++) e.log(1, 0, T0 + i / 1000);
    assert.equal(entryView(e.toSnapshot(), T0 * 1000).totalRps, 50);
  });

  it('shows nulls and zeros for an entry without requests', () => {
    const v = entryView(new StatsEntry('GET', '/none').toSnapshot(), T0 * 1000);
    assert.equal(v.medianResponseTime, null);
    assert.equal(v.minResponseTime, null);
    assert.equal(v.avgResponseTime, 0);
    assert.equal(v.failRatio, 0);
    assert.ok(v.percentiles.every((p) => p === null));
    const failedOnly = new StatsEntry('GET', '/f');
    failedOnly.logError(T0);
    assert.equal(entryView(failedOnly.toSnapshot(), T0 * 1000).failRatio, 1);
  });

  it('never reports a percentile outside the exact min and max', () => {
    const e = new StatsEntry('GET', '/c');
    e.log(100.0004, 0, T0); // the bucket's midpoint lies above this value
    e.log(100.0001, 0, T0);
    const s = e.toSnapshot();
    for (const p of percentilesOf(s)) assert.ok(p !== null && p >= s.minResponseTime && p <= s.maxResponseTime, String(p));
    assert.equal(percentileOf(s, 1), 100.0004, 'p100 is the exact max');
    assert.equal(percentileOf(s, 0), 100.0004, 'the shared bucket\'s midpoint, clamped to max');
  });

  it('sorts entries by name, then method, by code unit', () => {
    const rows = [
      { method: 'POST', name: '/b' }, { method: 'GET', name: '/b' }, { method: 'GET', name: '/a' },
      { method: 'GET', name: '/B' }, { method: 'DELETE', name: '/b' },
    ];
    assert.deepEqual(sortEntries(rows).map((r) => `${r.method} ${r.name}`), ['GET /B', 'GET /a', 'DELETE /b', 'GET /b', 'POST /b']);
    assert.equal(rows[0]?.method, 'POST', 'the input is not reordered');
  });
});
