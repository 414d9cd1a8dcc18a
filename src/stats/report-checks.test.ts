// The rules a worker's report must keep (issue 13): every honest snapshot keeps them all, each forged number breaks one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Events } from '../core/events.ts';
import { bucketIndex } from './histogram.ts';
import { prng } from './prng.test-helper.ts';
import { checkHeartbeat, checkSnapshot, checkUsers, largestCounter, MAX_CLOCK_AHEAD_S, type ReportRule } from './report-checks.ts';
import { RequestStats } from './request-stats.ts';
import type { StatsSnapshot } from './types.ts';

const T0 = 1_700_000_000_000;

/** A worker's recorder fed through the request event as in a run: names past a small cap, failures, paced users, iterations, checks, exceptions. */
function honestWorker(seed: number, clock: { ms: number }, every250?: (stats: RequestStats) => void): RequestStats {
  const random = prng(seed);
  const events = new Events();
  const stats = new RequestStats({ now: () => clock.ms, maxNames: 8 });
  stats.attach(events);
  for (let i = 0; i < 2000; i++) {
    clock.ms += random() * 40;
    const responseTime = random() < 0.01 ? 0 : random() * random() * 3000;
    events.request.fire({
      requestType: random() < 0.8 ? 'GET' : 'POST',
      name: `/n${Math.floor(random() * 12)}`,
      responseTime,
      responseLength: Math.floor(random() * 5000),
      error: random() < 0.1 ? new Error(`HTTP ${500 + Math.floor(random() * 4)}`) : null,
      // Ends a little out of the order they are logged in, as concurrent requests do.
      startTime: clock.ms - responseTime - random() * 5,
      ...(random() < 0.2 ? { expectedIntervalMs: 100 } : {}),
    });
    if (random() < 0.05) events.iteration.fire({ scenario: 'browse', dropped: random() < 0.2, ok: random() < 0.9, interrupted: random() < 0.05, lateMs: random() * 10, durationMs: random() * 900 });
    if (random() < 0.05) events.check.fire({ name: 'status is 200', request: '/n1', ok: random() < 0.8 });
    if (random() < 0.01) events.userError.fire({ user: {}, task: 't', error: new Error('boom') });
    if (i % 250 === 0) every250?.(stats);
  }
  return stats;
}

function copy(s: StatsSnapshot): StatsSnapshot {
  return structuredClone(s);
}

function ruleOf(s: StatsSnapshot, nowMs = T0 + 3_600_000): ReportRule | undefined {
  return checkSnapshot(s, nowMs)?.rule;
}

describe('report checks', () => {
  it('pass every snapshot an honest worker sends, at any moment of its run', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const clock = { ms: T0 };
      const stats = honestWorker(seed, clock, (during) => assert.equal(checkSnapshot(during.snapshot(3, { history: false }), clock.ms)?.detail, undefined, `seed ${seed}, mid-run`));
      const snapshot = stats.snapshot(3, { history: false });
      assert.ok(snapshot.overflowedNames > 0, 'the name cap was reached, so (other) entries are in the report');
      assert.equal(checkSnapshot(snapshot, clock.ms)?.detail, undefined, `seed ${seed}`);
    }
    const fresh = new RequestStats({ now: () => T0 }).snapshot(0, { history: false });
    assert.equal(checkSnapshot(fresh, T0), undefined, 'a worker that made no request yet');
  });

  it('refuse more failures than requests, in an entry or in the total', () => {
    const good = honestWorker(1, { ms: T0 }).snapshot(0);
    const entry = copy(good);
    entry.entries[0]!.numFailures = entry.entries[0]!.numRequests + 1;
    assert.equal(ruleOf(entry), 'failures');
    const total = copy(good);
    total.total.numFailures = total.total.numRequests + 1;
    assert.equal(ruleOf(total), 'failures');
  });

  it('refuse a histogram that does not hold one sample per request, or reaches past min and max', () => {
    const good = honestWorker(2, { ms: T0 }).snapshot(0);
    const more = copy(good);
    more.entries[0]!.histogram.counts[0]! += 1;
    assert.equal(ruleOf(more), 'histogram');
    const wide = copy(good);
    const e = wide.entries[0]!;
    e.histogram = { indices: [bucketIndex(e.maxResponseTime * 10 + 1)], counts: [e.numRequests] };
    assert.equal(ruleOf(wide), 'histogram');
    const badIndex = copy(good);
    badIndex.entries[0]!.histogram.indices[0] = 1e9;
    assert.equal(ruleOf(badIndex), 'histogram');
  });

  it('refuse min above max, and a mean outside them', () => {
    const good = honestWorker(3, { ms: T0 }).snapshot(0);
    const swapped = copy(good);
    const e = swapped.entries[0]!;
    [e.minResponseTime, e.maxResponseTime] = [e.maxResponseTime + 1, e.minResponseTime];
    assert.equal(ruleOf(swapped), 'extremes');
    const mean = copy(good);
    mean.entries[0]!.totalResponseTime = mean.entries[0]!.maxResponseTime * mean.entries[0]!.numRequests * 2;
    assert.equal(ruleOf(mean), 'extremes');
  });

  it('refuse negative or non-finite times and counts, and counts past 2^53', () => {
    const good = honestWorker(4, { ms: T0 }).snapshot(0);
    for (const forge of [
      (s: StatsSnapshot) => (s.entries[0]!.totalResponseTime = -1),
      (s: StatsSnapshot) => (s.entries[0]!.maxResponseTime = Infinity),
      (s: StatsSnapshot) => (s.entries[0]!.minResponseTime = NaN),
      (s: StatsSnapshot) => (s.total.numRequests = 2 ** 53),
      (s: StatsSnapshot) => (s.total.totalContentLength = -5),
      (s: StatsSnapshot) => (s.entries[0]!.numRequests = 1.5),
    ]) {
      const bad = copy(good);
      forge(bad);
      assert.equal(ruleOf(bad), 'numbers', forge.toString());
    }
  });

  it('refuse a total that is not the sum of its entries, bucket by bucket', () => {
    const good = honestWorker(5, { ms: T0 }).snapshot(0);
    const inflated = copy(good);
    // Consistent on its own (one more request of the total's max), but its entries do not have it.
    const t = inflated.total;
    t.numRequests += 1;
    t.totalResponseTime += t.maxResponseTime;
    const top = t.histogram.indices.indexOf(bucketIndex(t.maxResponseTime));
    t.histogram.counts[top]! += 1;
    assert.equal(checkSnapshot({ ...inflated, entries: [] }, T0 + 3_600_000)?.rule, 'total');
    assert.equal(ruleOf(inflated), 'total');
    const moved = copy(good);
    // Same counts, one sample moved to another bucket of the total: only the bucket-wise sum tells.
    const mt = moved.total;
    const i = mt.histogram.counts.findIndex((c, k) => c > 1 && k > 0 && k < mt.histogram.counts.length - 1);
    mt.histogram.counts[i]! -= 1;
    mt.histogram.counts[i + 1]! += 1;
    assert.equal(ruleOf(moved), 'total');
  });

  it('refuse per-second maps with absurd keys or counts', () => {
    const good = honestWorker(6, { ms: T0 }).snapshot(0);
    const last = Math.floor(good.entries[0]!.lastRequestTimestamp);
    for (const record of [{ [2 ** 32 - 1]: 1 }, { 0: 1 }, { [last + 1]: 1 }, { [last - 25]: 1 }, { [last]: good.entries[0]!.numRequests + 1 }]) {
      const bad = copy(good);
      bad.entries[0]!.numReqsPerSec = record;
      assert.equal(ruleOf(bad), 'per-second', JSON.stringify(record));
    }
    const future = copy(good);
    for (const e of [...future.entries, future.total]) e.lastRequestTimestamp += 2 * MAX_CLOCK_AHEAD_S;
    assert.equal(ruleOf(future), 'clock');
  });

  it('refuse error rows that do not add up to the failures, overflow counts past the requests, scenario histograms that do not match', () => {
    const good = honestWorker(7, { ms: T0 }).snapshot(0);
    const errors = copy(good);
    errors.errors[0]!.occurrences += 1;
    assert.equal(ruleOf(errors), 'errors');
    const overflow = copy(good);
    overflow.overflowedNames = overflow.total.numRequests + 1;
    assert.equal(ruleOf(overflow), 'overflow');
    const scenario = copy(good);
    scenario.scenarios![0]!.duration = { indices: [99_999], counts: [scenario.scenarios![0]!.iterations] };
    assert.equal(ruleOf(scenario), 'scenarios');
    const iterations = copy(good);
    iterations.scenarios![0]!.failedIterations = iterations.scenarios![0]!.iterations + 1;
    assert.equal(ruleOf(iterations), 'scenarios');
    assert.ok(largestCounter(good) > 0);
  });

  it('refuse users, CPU and memory out of range', () => {
    assert.equal(checkUsers(3, { A: 2, B: 1 }), undefined);
    assert.equal(checkUsers(2 ** 40, {})?.rule, 'users');
    assert.equal(checkUsers(1, { A: 2 ** 40 })?.rule, 'users');
    assert.equal(checkUsers(1, Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`C${i}`, 0])))?.rule, 'users');
    assert.equal(checkHeartbeat({ userCount: 10, cpu: 1234.5, memory: 80e6 }), undefined);
    assert.equal(checkHeartbeat({ userCount: 10, cpu: 1e300, memory: 80e6 })?.rule, 'heartbeat');
    assert.equal(checkHeartbeat({ userCount: 10, cpu: 1, memory: 2 ** 52 })?.rule, 'heartbeat');
    assert.equal(checkHeartbeat({ userCount: 2 ** 50, cpu: 1, memory: 1 })?.rule, 'users');
  });

  it('say where, printably: a forged name cannot break the line the master logs', () => {
    const bad = honestWorker(8, { ms: T0 }).snapshot(0);
    bad.entries[0]!.name = '/x\n[2024-01-01 00:00:00] INFO forged \u001b[31mred';
    bad.entries[0]!.numFailures = bad.entries[0]!.numRequests + 1;
    const detail = checkSnapshot(bad, T0 + 3_600_000)!.detail;
    assert.doesNotMatch(detail, /[\n\u001b]/);
    assert.match(detail, /\/x \[2024-01-01 00:00:00\] INFO forged/);
  });
});
