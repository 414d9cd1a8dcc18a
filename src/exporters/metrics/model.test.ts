// The metrics model and its Prometheus text: exact counts per name and scenario, real cumulative histograms, run_id per reset.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { buildReportData } from '../build-report.ts';
import { gatedReportData } from '../fixtures.test-helper.ts';
import { RequestStats } from '../../stats/request-stats.ts';
import type { RunnerControl } from '../../core/contracts.ts';
import type { StatsSnapshot } from '../../stats/types.ts';
import type { ReportData } from '../report-data.ts';
import { metricFamilies, RESPONSE_TIME_BOUNDS, runIdOf, type MetricFamily } from './model.ts';
import { prometheusText } from './prometheus-text.ts';

const T0 = 1_700_000_000_000;

/** A report of real recorded requests, as a runner would give it. */
function report(stats: RequestStats, scenarios?: string[]): ReportData {
  const runner = { snapshot: () => stats.snapshot(3), state: 'running', userCount: 3, userClassCounts: () => ({ U: 3 }) } as unknown as RunnerControl<StatsSnapshot>;
  return buildReportData(runner, { host: '', cicadafiles: [], startTime: T0, cicadaVersion: 't', ...(scenarios ? { scenarios: scenarios.map((name) => ({ name, executor: 'users', description: '' })) } : {}) });
}

function family(families: MetricFamily[], name: string): MetricFamily {
  const f = families.find((x) => x.name === name);
  assert.ok(f, name);
  return f;
}

describe('the metrics model', () => {
  it('counts requests, failures and bytes per method and name, and bins response times cumulatively in seconds', () => {
    let clock = T0;
    const stats = new RequestStats({ now: () => clock });
    for (const ms of [0.3, 0.9, 4, 40, 400, 4000]) stats.log('GET', '/a', ms, 100, T0);
    stats.log('POST', '/b', 2, 10, T0);
    stats.logError('POST', '/b', 'HTTP 500', T0);
    clock += 1000;
    const families = metricFamilies(report(stats), { workers: 2 });
    const requests = family(families, 'cicada_requests_total');
    assert.equal(requests.type, 'counter');
    const byName = Object.fromEntries(requests.type === 'counter' ? requests.samples.map((s) => [`${s.labels.method} ${s.labels.name}`, s.value]) : []);
    assert.deepEqual(byName, { 'GET /a': 6, 'POST /b': 1 });
    const failures = family(families, 'cicada_request_failures_total');
    assert.deepEqual(failures.type === 'counter' ? failures.samples.map((s) => s.value).sort() : [], [0, 1]);
    const histogram = family(families, 'cicada_response_time_seconds');
    assert.equal(histogram.type, 'histogram');
    if (histogram.type !== 'histogram') return;
    const a = histogram.samples.find((s) => s.labels.name === '/a')!;
    const at = (le: number): number => a.cumulative[histogram.bounds.indexOf(le)]!;
    const le = (seconds: number): number => histogram.bounds.find((b) => b >= seconds)!;
    assert.deepEqual([at(0.0005), at(0.001), at(le(0.004)), at(le(0.04)), at(le(0.4)), at(le(4))], [1, 2, 3, 4, 5, 6]);
    assert.equal(at(le(4)) - at(histogram.bounds[histogram.bounds.indexOf(le(4)) - 1]!), 1, 'the 4 s request is in its own bucket');
    assert.equal(a.count, 6);
    assert.ok(Math.abs(a.sum - 4.4452) < 1e-9, String(a.sum));
    for (let i = 1; i < a.cumulative.length; i++) assert.ok(a.cumulative[i]! >= a.cumulative[i - 1]!, 'cumulative');
    assert.deepEqual(family(families, 'cicada_workers').type === 'gauge' ? (family(families, 'cicada_workers') as { samples: { value: number }[] }).samples.map((s) => s.value) : [], [2]);
  });

  it('has bounds from 0.1 ms to 60 s no more than 20 % apart above 1 ms (a quantile within 10 %)', () => {
    assert.equal(RESPONSE_TIME_BOUNDS[0], 0.0001);
    assert.equal(RESPONSE_TIME_BOUNDS.at(-1), 60);
    for (let i = 1; i < RESPONSE_TIME_BOUNDS.length; i++) {
      const [lo, hi] = [RESPONSE_TIME_BOUNDS[i - 1]!, RESPONSE_TIME_BOUNDS[i]!];
      assert.ok(hi > lo);
      if (lo >= 0.001) assert.ok(hi / lo <= 1.201, `${lo} → ${hi}`);
    }
  });

  it('splits `name [scenario]` rows into name and scenario labels, and changes run_id on a reset', () => {
    let clock = T0;
    const stats = new RequestStats({ now: () => clock });
    stats.log('GET', '/a [browse]', 1, 0, T0);
    stats.log('GET', '/a [buy]', 1, 0, T0);
    clock += 1000;
    const first = report(stats, ['browse', 'buy']);
    const requests = family(metricFamilies(first, { workers: 0 }), 'cicada_requests_total');
    assert.deepEqual(requests.type === 'counter' ? requests.samples.map((s) => [s.labels.name, s.labels.scenario]) : [], [['/a', 'browse'], ['/a', 'buy']]);
    clock += 5000;
    stats.reset();
    assert.notEqual(runIdOf(report(stats)), runIdOf(first));
  });

  it('gives checks by result and thresholds as 1 or 0', () => {
    const families = metricFamilies(gatedReportData(), { workers: 0 });
    const checks = family(families, 'cicada_checks_total');
    assert.deepEqual(checks.type === 'counter' ? checks.samples.map((s) => [s.labels.check, s.labels.result, s.value]) : [], [
      ['status is 200', 'pass', 970], ['status is 200', 'fail', 10], ['has an id', 'pass', 379], ['has an id', 'fail', 1],
    ]);
    const thresholds = family(families, 'cicada_threshold_passed');
    assert.deepEqual(thresholds.type === 'gauge' ? thresholds.samples.map((s) => s.value) : [], [1, 0, 1, 1]);
  });
});

describe('the Prometheus text format', () => {
  it('writes HELP, TYPE, escaped labels, buckets ending in +Inf = count, _sum and _count', () => {
    let clock = T0;
    const stats = new RequestStats({ now: () => clock });
    stats.log('GET', '/q"uo\\te\nx', 12, 0, T0);
    clock += 1000;
    const text = prometheusText(metricFamilies(report(stats), { workers: 0 }));
    assert.match(text, /^# HELP cicada_requests_total /m);
    assert.match(text, /^# TYPE cicada_response_time_seconds histogram$/m);
    assert.match(text, /^cicada_requests_total\{method="GET",name="\/q\\"uo\\\\te\\nx",run_id="\d+"\} 1$/m);
    assert.match(text, /^cicada_response_time_seconds_bucket\{[^}]*le="0\.0114"\} 0$/m);
    assert.match(text, /^cicada_response_time_seconds_bucket\{[^}]*le="0\.0136"\} 1$/m);
    assert.match(text, /^cicada_response_time_seconds_bucket\{[^}]*le="\+Inf"\} 1$/m);
    assert.match(text, /^cicada_response_time_seconds_sum\{[^}]*\} 0\.012$/m);
    assert.match(text, /^cicada_response_time_seconds_count\{[^}]*\} 1$/m);
    assert.doesNotMatch(text, /scenario=""/, 'empty labels are left out');
  });

  it('passes promtool check metrics', { skip: existsSync('/usr/bin/promtool') ? false : 'promtool (Debian package prometheus) is not installed' }, () => {
    const text = prometheusText(metricFamilies(gatedReportData(), { workers: 1 }));
    // promtool prints its findings and exits non-zero on a format error.
    const out = execFileSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(out.trim(), '');
  });
});
