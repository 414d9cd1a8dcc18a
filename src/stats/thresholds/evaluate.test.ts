// Threshold evaluation against hand-computed values, and on a cluster's exactly merged statistics.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Events } from '../../core/events.ts';
import { checkOn } from '../../core/check.ts';
import { ClusterStats } from '../cluster-stats.ts';
import { RequestStats } from '../request-stats.ts';
import type { StatsSnapshot } from '../types.ts';
import { evaluateThresholds, observe, splitScenarioName, type ThresholdScope } from './evaluate.ts';
import { parseThreshold, type ThresholdSpec } from './parse.ts';

const T0 = 1_700_000_000_000;
const single: ThresholdScope = { scenarios: [], scenarioTagged: false };

function spec(key: string, expression: string, scenarios: readonly string[] = []): ThresholdSpec {
  return parseThreshold(key, expression, { source: 'test' }, { scenarios });
}

/** 100 requests to /a taking 1..100 ms (every 10th failed), 10 to /b taking 1000 ms, over 10 s. */
function recorded(): StatsSnapshot {
  let clock = T0;
  const stats = new RequestStats({ now: () => clock });
  for (let i = 1; i <= 100; i++) {
    stats.log('GET', '/a', i, 10, T0 + i * 90);
    if (i % 10 === 0) stats.logError('GET', '/a', 'HTTP 500', T0 + i * 90);
  }
  for (let i = 0; i < 10; i++) stats.log('POST', '/b', 1000, 10, T0 + 9000);
  clock = T0 + 10_000;
  return stats.snapshot(1);
}

function value(key: string, expression: string, snapshot: StatsSnapshot, scope: ThresholdScope = single): number | null {
  return observe(spec(key, expression, scope.scenarios), snapshot, scope);
}

function near(actual: number | null, expected: number, relative = 0.001): void {
  assert.ok(actual !== null && Math.abs(actual - expected) <= expected * relative, `${actual} ≈ ${expected}`);
}

describe('threshold evaluation', () => {
  it('aggregates response times exactly (avg, min, max) and from the histogram (med, p(N)) within 0.1 %', () => {
    const s = recorded();
    assert.equal(value('response_time{name:/a}', 'avg<1', s), 50.5);
    assert.equal(value('response_time{name:/a}', 'min<1', s), 1);
    assert.equal(value('response_time{name:/a}', 'max<1', s), 100);
    near(value('response_time{name:/a}', 'med<1', s), 50);
    near(value('response_time{name:/a}', 'p(95)<1', s), 95);
    assert.equal(value('response_time{name:/a}', 'p(100)<1', s), 100);
    // Over both names: 110 requests, the slowest 10 take 1000 ms.
    near(value('response_time', 'avg<1', s), (5050 + 10_000) / 110);
    near(value('response_time', 'p(90)<1', s), 99);
    near(value('response_time', 'p(95)<1', s), 1000);
    assert.equal(value('response_time{method:POST}', 'min<1', s), 1000);
  });

  it('counts requests and failures, per second over the statistics\' time, and the fail ratio', () => {
    const s = recorded();
    assert.equal(value('requests', 'count>1', s), 110);
    assert.equal(value('requests{name:/b}', 'count>1', s), 10);
    assert.equal(value('failures', 'count>1', s), 10);
    assert.equal(value('requests', 'rate>1', s), 11);
    assert.equal(value('failures{name:/a}', 'rate>1', s), 1);
    assert.equal(value('fail_ratio', 'value<1', s), 10 / 110);
    assert.equal(value('fail_ratio{name:/a}', 'value<1', s), 0.1);
    assert.equal(value('fail_ratio{name:/b}', 'value<1', s), 0);
  });

  it('has no data for times and ratios nothing matched, but a count of 0', () => {
    const s = recorded();
    assert.equal(value('response_time{name:/none}', 'p(95)<1', s), null);
    assert.equal(value('fail_ratio{name:/none}', 'value<1', s), null);
    assert.equal(value('checks', 'rate>0.9', s), null);
    assert.equal(value('requests{name:/none}', 'count>0', s), 0);
    assert.equal(value('dropped_iterations', 'count==0', s), 0);
    const [noData, noCount] = evaluateThresholds([spec('response_time{name:/none}', 'p(95)<1'), spec('requests{name:/none}', 'count>0')], s, single);
    assert.deepEqual([noData!.ok, noData!.observed, noCount!.ok, noCount!.observed], [true, null, false, 0]);
  });

  it('compares with every operator and says the unit', () => {
    const s = recorded();
    const results = evaluateThresholds([
      spec('requests', 'count==110'), spec('requests', 'count!=110'), spec('requests', 'count>=110'), spec('requests', 'count>110'),
      spec('requests', 'count<=110'), spec('requests', 'count<110'), spec('response_time', 'p(95)<300'), spec('fail_ratio', 'value<0.05'),
      spec('requests', 'rate>10'),
    ], s, single);
    assert.deepEqual(results.map((r) => r.ok), [true, false, true, false, true, false, false, false, true]);
    assert.deepEqual(results.slice(6).map((r) => r.unit), ['ms', 'ratio', '/s']);
    near(results[6]!.observed, 1000);
    assert.deepEqual({ ...results[6], observed: 1000 }, { metric: 'response_time', expression: 'p(95)<300', ok: false, observed: 1000, unit: 'ms', tags: {}, abortOnFail: false });
  });

  it('counts checks per check name and request name, a throwing check as failed', () => {
    const events = new Events();
    let clock = T0;
    const stats = new RequestStats({ now: () => clock });
    stats.attach(events);
    const check = checkOn(events);
    for (let i = 0; i < 10; i++) {
      const res = { name: i < 4 ? '/login' : '/items', status: i === 0 ? 500 : 200, body: i === 9 ? null : { id: 1 } };
      const all = check(res, { 'status is 200': (r) => r.status === 200, 'has an id': (r) => r.body!.id === 1 });
      assert.equal(all, i !== 0 && i !== 9);
    }
    clock += 1000;
    const s = stats.snapshot(0);
    assert.deepEqual(s.checks?.map((c) => [c.name, c.request, c.passes, c.fails]), [
      ['status is 200', '/login', 3, 1], ['has an id', '/login', 4, 0], ['status is 200', '/items', 6, 0], ['has an id', '/items', 5, 1],
    ]);
    assert.match(s.checks?.[3]?.lastError ?? '', /TypeError: Cannot read properties of null/);
    assert.equal(value('checks', 'rate>0.9', s), 18 / 20);
    assert.equal(value("checks{check:'status is 200'}", 'rate>0.9', s), 9 / 10);
    assert.equal(value('checks{check:has an id,name:/login}', 'rate>0.9', s), 1);
  });

  it('reads the scenario of `name [scenario]` rows only when the run tags them', () => {
    const scope = { scenarios: ['browse', 'buy'], scenarioTagged: true };
    assert.deepEqual(splitScenarioName('/a [browse]', scope), { name: '/a', scenario: 'browse' });
    assert.deepEqual(splitScenarioName('/a [other]', scope), { name: '/a [other]', scenario: undefined });
    assert.deepEqual(splitScenarioName('/a [browse]', { scenarios: ['browse'], scenarioTagged: false }), { name: '/a [browse]', scenario: 'browse' });
    let clock = T0;
    const stats = new RequestStats({ now: () => clock });
    stats.log('GET', '/a [browse]', 10, 0, T0);
    stats.log('GET', '/a [buy]', 30, 0, T0);
    stats.log('GET', '/a [buy]', 50, 0, T0);
    clock += 1000;
    const s = stats.snapshot(0);
    assert.equal(value('requests{scenario:buy}', 'count>1', s, scope), 2);
    assert.equal(value('response_time{name:/a,scenario:buy}', 'avg<1', s, scope), 40);
    assert.equal(value('response_time{name:/a}', 'avg<1', s, scope), 30);
  });

  it('judges iteration durations and dropped iterations per scenario', () => {
    let clock = T0;
    const events = new Events();
    const stats = new RequestStats({ now: () => clock });
    stats.attach(events);
    for (let i = 1; i <= 10; i++) events.iteration.fire({ scenario: 'browse', dropped: false, ok: true, interrupted: false, lateMs: 0, durationMs: i * 100 });
    for (let i = 0; i < 4; i++) events.iteration.fire({ scenario: 'buy', dropped: true, ok: true, interrupted: false, lateMs: 0, durationMs: 0 });
    clock += 2000;
    const s = stats.snapshot(0);
    const scope = { scenarios: ['browse', 'buy'], scenarioTagged: true };
    near(value('iteration_duration{scenario:browse}', 'avg<1', s, scope), 550);
    near(value('iteration_duration{scenario:browse}', 'p(90)<1', s, scope), 900);
    near(value('iteration_duration', 'max<1', s, scope), 1000);
    assert.equal(value('iteration_duration{scenario:buy}', 'avg<1', s, scope), null);
    assert.equal(value('dropped_iterations', 'count<1', s, scope), 4);
    assert.equal(value('dropped_iterations{scenario:buy}', 'rate<1', s, scope), 2);
    assert.equal(value('dropped_iterations{scenario:browse}', 'count<1', s, scope), 0);
  });
});

describe('thresholds on a cluster', () => {
  it('judge the exact merged statistics: a count between one worker\'s and the total, a p99 no worker has', () => {
    const clock = T0;
    const now = () => clock;
    const fast = new RequestStats({ now });
    const slow = new RequestStats({ now });
    // Worker 1: 990 requests at 10 ms. Worker 2: 10 requests at 10 ms and 10 at 500 ms.
    for (let i = 0; i < 990; i++) fast.log('GET', '/a', 10, 0, T0);
    for (let i = 0; i < 10; i++) slow.log('GET', '/a', 10, 0, T0);
    for (let i = 0; i < 10; i++) slow.log('GET', '/a', 500, 0, T0);
    const cluster = new ClusterStats({ now });
    cluster.update('w1', 0, 1, fast.snapshot(0, { history: false }));
    cluster.update('w2', 0, 1, slow.snapshot(0, { history: false }));
    const merged = cluster.snapshot(0);
    const specs = [spec('requests', 'count>995'), spec('response_time', 'p(99)<100')];
    const verdicts = (s: StatsSnapshot) => evaluateThresholds(specs, s, single).map((r) => [r.ok, r.observed]);
    // Each worker alone: 990 or 20 requests (both fail count>995); p99 10 ms on one, 500 ms on the other.
    assert.deepEqual(verdicts(fast.snapshot(0)), [[false, 990], [true, 10]]);
    assert.deepEqual(verdicts(slow.snapshot(0)).map(([ok]) => ok), [false, false]);
    // Merged: 1010 requests pass; the cluster's p99 (rank 1000 of 1010) is 10 ms. The workers' p99s
    // averaged would be 255 ms and fail: only the merged histogram gives the true value.
    const [count, p99] = verdicts(merged);
    assert.deepEqual(count, [true, 1010]);
    assert.equal(p99![0], true);
    near(p99![1] as number, 10);
  });
});
