// Tests of RequestStats: keying, the name cap, errors and exceptions, events, rates, history and reset.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Events } from '../core/events.ts';
import { bucketIndex, bucketValue } from './histogram.ts';
import { OTHER_NAME, RequestStats } from './request-stats.ts';
import { OTHER_ERRORS } from './failures.ts';
import { PERCENTILES_TO_REPORT } from './types.ts';

const T0 = 1_700_000_000_000; // epoch ms

/** A settable clock for the recorder. */
function clock(start = T0): { now: () => number; set: (ms: number) => void; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, set: (ms) => { t = ms; }, advance: (ms) => { t += ms; } };
}

describe('RequestStats', () => {
  it('keeps one entry per (method, name) and updates the Aggregated total', () => {
    const stats = new RequestStats({ now: clock().now });
    stats.log('GET', '/a', 10, 100);
    stats.log('GET', '/a', 30, 100);
    stats.log('POST', '/a', 20, 5);
    stats.log('GET', '/b', 40, 0);
    const s = stats.snapshot(3);
    assert.deepEqual(s.entries.map((e) => [e.method, e.name, e.numRequests]), [['GET', '/a', 2], ['GET', '/b', 1], ['POST', '/a', 1]]);
    assert.equal(s.total.method, '');
    assert.equal(s.total.name, 'Aggregated');
    assert.equal(s.total.numRequests, 4);
    assert.equal(s.total.totalContentLength, 205);
    assert.equal(s.total.maxResponseTime, 40);
    assert.equal(s.userCount, 3);
    assert.equal(s.time, T0);
    assert.equal(s.startTime, T0 / 1000);
  });

  it('groups names beyond the cap into (other) and calls back once', () => {
    const calls: string[] = [];
    const stats = new RequestStats({ now: clock().now, maxNames: 3, onNameCapReached: (n) => calls.push(n) });
    for (let i = 0; i < 10; i++) stats.log('GET', `/item/${i}`, 5, 0);
    stats.log('POST', '/item/99', 5, 0);
    stats.log('GET', '/item/0', 5, 0); // an existing name keeps its own entry
    stats.logError('GET', '/item/7', 'HTTP 500');
    const s = stats.snapshot(0);
    assert.deepEqual(calls, ['/item/3']);
    assert.deepEqual(s.entries.map((e) => `${e.method} ${e.name} ${e.numRequests}`),
      ['GET /item/0 2', 'GET /item/1 1', 'GET /item/2 1', `GET ${OTHER_NAME} 7`, `POST ${OTHER_NAME} 1`]);
    assert.equal(s.overflowedNames, 8);
    assert.equal(s.total.numRequests, 12);
    assert.deepEqual(s.errors.map((e) => [e.method, e.name, e.error]), [['GET', OTHER_NAME, 'HTTP 500']]);
  });

  it('keys errors by method, name and normalised message, with first and last seen', () => {
    const c = clock();
    const stats = new RequestStats({ now: c.now });
    stats.logError('GET', '/a', 'HTTP 503');
    c.advance(2500);
    stats.logError('GET', '/a', 'HTTP 503');
    stats.logError('GET', '/a', 'ECONNRESET');
    stats.logError('POST', '/a', 'HTTP 503');
    stats.logError('GET', '/a', 'object at 0x7f3a9c then 0xdeadBEEF');
    stats.logError('GET', '/a', 'object at 0x1 then 0x2');
    const s = stats.snapshot(0);
    assert.deepEqual(s.errors, [
      { method: 'GET', name: '/a', error: 'HTTP 503', occurrences: 2, firstSeen: T0 / 1000, lastSeen: (T0 + 2500) / 1000 },
      { method: 'GET', name: '/a', error: 'ECONNRESET', occurrences: 1, firstSeen: (T0 + 2500) / 1000, lastSeen: (T0 + 2500) / 1000 },
      { method: 'GET', name: '/a', error: 'object at 0x.... then 0x....', occurrences: 2, firstSeen: (T0 + 2500) / 1000, lastSeen: (T0 + 2500) / 1000 },
      { method: 'POST', name: '/a', error: 'HTTP 503', occurrences: 1, firstSeen: (T0 + 2500) / 1000, lastSeen: (T0 + 2500) / 1000 },
    ]);
    assert.equal(s.total.numFailures, 6);
    assert.equal(s.entries.find((e) => e.method === 'GET')?.numFailures, 5);
  });

  it('groups distinct errors beyond the cap under one message', () => {
    const stats = new RequestStats({ now: clock().now, maxErrors: 2 });
    for (let i = 0; i < 5; i++) stats.logError('GET', '/a', `HTTP 50${i}`);
    stats.logError('GET', '/a', 'HTTP 500');
    const rows = stats.snapshot(0).errors.map((e) => [e.error, e.occurrences]);
    assert.deepEqual(rows, [['HTTP 500', 2], ['HTTP 501', 1], [OTHER_ERRORS, 3]]);
  });

  it('keys exceptions by traceback and collects the nodes that saw them', () => {
    const stats = new RequestStats({ now: clock().now });
    stats.logException('boom', 'Error: boom\n    at task (a.ts:1)');
    stats.logException('boom', 'Error: boom\n    at task (a.ts:1)', 'worker-2');
    stats.logException('bang', 'Error: bang\n    at other (b.ts:9)');
    assert.deepEqual(stats.snapshot(0).exceptions, [
      { count: 2, msg: 'boom', traceback: 'Error: boom\n    at task (a.ts:1)', nodes: ['local', 'worker-2'] },
      { count: 1, msg: 'bang', traceback: 'Error: bang\n    at other (b.ts:9)', nodes: ['local'] },
    ]);
  });

  it('records from the request and userError events until detached', () => {
    const events = new Events();
    const stats = new RequestStats({ now: clock().now });
    const detach = stats.attach(events);
    const base = { startTime: T0, responseLength: 10 };
    events.request.fire({ ...base, requestType: 'GET', name: '/ok', responseTime: 12, error: null });
    events.request.fire({ ...base, requestType: 'GET', name: '/bad', responseTime: 3, error: new Error('HTTP 503') });
    const thrown = new Error('task broke');
    events.userError.fire({ user: {}, error: thrown, task: 'browse' });
    detach();
    events.request.fire({ ...base, requestType: 'GET', name: '/ok', responseTime: 12, error: null });
    assert.equal(events.request.listenerCount, 0);
    assert.equal(events.userError.listenerCount, 0);
    const s = stats.snapshot(0);
    assert.equal(s.total.numRequests, 2);
    assert.equal(s.total.numFailures, 1);
    assert.deepEqual(s.errors.map((e) => [e.name, e.error]), [['/bad', 'HTTP 503']]);
    assert.equal(s.exceptions[0]?.msg, 'task broke');
    assert.equal(s.exceptions[0]?.traceback, thrown.stack);
    assert.equal(s.total.lastRequestTimestamp, (T0 + 12) / 1000, 'logged at the request\'s end: start + duration');
  });

  it('computes current rps and fail/s over the sliding window with an injected clock', () => {
    const c = clock(T0);
    const stats = new RequestStats({ now: c.now });
    // 30 seconds: 10 requests per second, one failing every second; then 20 per second for 5 seconds.
    for (let s = 0; s < 35; s++) {
      const perSecond = s < 30 ? 10 : 20;
      for (let i = 0; i < perSecond; i++) {
        c.set(T0 + s * 1000 + i * 10);
        stats.log('GET', '/x', 5, 0);
        if (i === 0) stats.logError('GET', '/x', 'HTTP 500');
      }
    }
    c.set(T0 + 35_500);
    const p = stats.recordHistory(4);
    // Window [T0+23 s, T0+33 s): seconds 23..29 at 10, 30..32 at 20.
    assert.equal(p.currentRps, (7 * 10 + 3 * 20) / 10);
    assert.equal(p.currentFailPerSec, 1);
    assert.equal(p.totalRequests, 400);
    assert.equal(p.userCount, 4);
    assert.equal(p.time, (T0 + 35_000) / 1000);
  });

  it('reports a young run its actual rate', () => {
    const c = clock(T0);
    const stats = new RequestStats({ now: c.now });
    for (let i = 0; i < 30; i++) {
      c.set(T0 + i * 50); // 30 requests in 1.5 s
      stats.log('GET', '/x', 5, 0);
    }
    c.set(T0 + 1500);
    assert.equal(stats.recordHistory(1).currentRps, 20);
  });

  it('gives current-window percentiles of roughly the last 10 history ticks', () => {
    const c = clock(T0);
    const stats = new RequestStats({ now: c.now, entryWindows: true });
    for (let s = 0; s < 25; s++) {
      c.set(T0 + s * 1000);
      const ms = s < 10 ? 900 : 20; // slow at first, then fast
      for (let i = 0; i < 10; i++) stats.log('GET', '/x', ms, 0);
      stats.recordHistory(1);
    }
    const current = stats.currentPercentiles();
    assert.equal(current.length, PERCENTILES_TO_REPORT.length);
    assert.ok(current.every((v) => v === bucketValue(bucketIndex(20)) || v === 20), `current ${current.join(',')}`);
    const history = stats.snapshot(1).history;
    assert.equal(history.length, 25);
    assert.equal(history[5]?.currentPercentiles[0], 900, 'slow period; clamped into the exact [min, max]');
    assert.deepEqual(stats.currentEntryPercentiles().map((e) => [e.method, e.name, e.percentiles[0]]), [['GET', '/x', current[0]]]);
    assert.deepEqual(stats.snapshot(1, { history: false }).history, []);
  });

  it('resets everything and restarts the start time', () => {
    const c = clock(T0);
    const stats = new RequestStats({ now: c.now, maxNames: 1 });
    stats.log('GET', '/a', 1, 1);
    stats.log('GET', '/b', 1, 1);
    stats.logError('GET', '/a', 'x');
    stats.logException('m', 't');
    stats.recordHistory(1);
    c.advance(60_000);
    stats.reset();
    const s = stats.snapshot(0);
    assert.deepEqual([s.entries, s.errors, s.exceptions, s.history, s.overflowedNames], [[], [], [], [], 0]);
    assert.equal(s.total.numRequests, 0);
    assert.equal(s.startTime, (T0 + 60_000) / 1000);
    stats.log('GET', '/b', 1, 1);
    assert.deepEqual(stats.snapshot(0).entries.map((e) => e.name), ['/b'], 'the name cap counts afresh');
  });
});
