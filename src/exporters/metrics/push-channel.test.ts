// The push channel: in-order sends, backoff with one log line per outage, a bounded queue, and an end that never hangs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, flushMicrotasks } from '../../core/fake-clock.test-helper.ts';
import { linesLogger } from '../../core/test-environment.test-helper.ts';
import { PushChannel, pushSummary } from './push-channel.ts';

describe('PushChannel', () => {
  it('sends batches in order, one at a time', async () => {
    const clock = new FakeClock();
    const sent: number[] = [];
    let inFlight = 0;
    let most = 0;
    const channel = new PushChannel<number>({
      name: 'test', logger: linesLogger(), timers: clock,
      send: async (n) => { inFlight++; most = Math.max(most, inFlight); await flushMicrotasks(); sent.push(n); inFlight--; },
    });
    for (let i = 1; i <= 5; i++) channel.push({ payload: i, points: 2 });
    const stats = await channel.close();
    assert.deepEqual(sent, [1, 2, 3, 4, 5]);
    assert.equal(most, 1);
    assert.deepEqual(stats, { sentPoints: 10, failedPoints: 0, failures: 0 });
  });

  it('retries a refused endpoint with doubling backoff, logging the outage once and the recovery once', async () => {
    const clock = new FakeClock();
    const logger = linesLogger();
    const attempts: number[] = [];
    let up = false;
    const channel = new PushChannel<string>({
      name: 'Graphite at 127.0.0.1:1', logger, timers: clock, backoff: { initialMs: 100, maxMs: 400 },
      send: () => { attempts.push(clock.now()); return up ? Promise.resolve() : Promise.reject(new Error('connect ECONNREFUSED')); },
    });
    channel.push({ payload: 'a', points: 1 });
    await clock.advance(1500);
    // Attempts at 0, then after 100, 200, 400, 400, 400 ms.
    assert.deepEqual(attempts.slice(0, 6).map((t) => t - attempts[0]!), [0, 100, 300, 700, 1100, 1500]);
    assert.equal(logger.lines.filter((l) => /failed: connect ECONNREFUSED; retrying/.test(l)).length, 1, logger.lines.join('\n'));
    up = true;
    await clock.advance(400);
    assert.equal(logger.lines.filter((l) => /sending again/.test(l)).length, 1);
    assert.equal(channel.stats.sentPoints, 1);
  });

  it('keeps at most maxQueuedPoints, dropping the oldest and counting them', async () => {
    const clock = new FakeClock();
    const channel = new PushChannel<number>({ name: 'test', logger: linesLogger(), timers: clock, maxQueuedPoints: 10, send: () => Promise.reject(new Error('down')) });
    for (let i = 0; i < 8; i++) channel.push({ payload: i, points: 3 });
    const closing = channel.close(1000);
    await clock.advance(1000);
    const stats = await closing;
    assert.equal(stats.sentPoints, 0);
    assert.equal(stats.failedPoints, 24, 'every point is counted: dropped or left at the end');
    assert.match(pushSummary('Graphite', stats), /0 points sent, 24 NOT sent/);
  });

  it('abandons a send that hangs, and close() ends within its grace period', async () => {
    const clock = new FakeClock();
    const channel = new PushChannel<number>({ name: 'test', logger: linesLogger(), timers: clock, sendTimeoutMs: 1000, send: (_n, signal) => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))) });
    channel.push({ payload: 1, points: 5 });
    let done = false;
    const closing = channel.close(2000).then((s) => { done = true; return s; });
    await clock.advance(2000);
    await flushMicrotasks(10);
    assert.ok(done, 'close() returned at the end of its grace period');
    assert.deepEqual(await closing, { sentPoints: 0, failedPoints: 5, failures: 1 });
  });
});
