// Tests of the summary JSON: valid against docs/summary.schema.json, and holding the run's real numbers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { Histogram } from '../stats/histogram.ts';
import { gatedReportData, HOSTILE, hostileGatedReportData, reportData, START_S } from './fixtures.test-helper.ts';
import type { ReportData } from './report-data.ts';
import { summaryJson } from './summary-json.ts';

const schemaPath = path.resolve(import.meta.dirname, '../../docs/summary.schema.json');

let compiled: Promise<ValidateFunction> | undefined;

/** The published schema compiled once; strict, so a schema keyword Ajv does not know fails instead of being ignored. */
function validator(): Promise<ValidateFunction> {
  compiled ??= readFile(schemaPath, 'utf8').then((text) => new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true }).compile(JSON.parse(text) as Record<string, unknown>));
  return compiled;
}

/** Validates a document (as the file holds it: through JSON text) against the published schema; the errors, [] when valid. */
async function schemaErrors(document: unknown): Promise<string[]> {
  const validate = await validator();
  if (validate(JSON.parse(JSON.stringify(document)))) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

/** A run with two scenarios: one as configured, one the statistics name but the configuration does not list. */
function scenarioData(): ReportData {
  const data = gatedReportData();
  const duration = new Histogram();
  for (let ms = 1; ms <= 100; ms++) duration.record(ms);
  data.meta.scenarios = [{ name: 'checkout', executor: 'constant-arrival-rate', description: '10 iterations per 1 s for 30 s', tags: { team: 'shop' } }];
  data.snapshot.scenarios = [
    { name: 'stray', iterations: 0, failedIterations: 0, dropped: 0, interrupted: 0, duration: { indices: [], counts: [] }, lateness: { indices: [], counts: [] } },
    { name: 'checkout', iterations: 100, failedIterations: 3, dropped: 7, interrupted: 1, notRun: 2, duration: duration.toData(), lateness: { indices: [], counts: [] } },
  ];
  return data;
}

describe('summaryJson', () => {
  it('is valid against docs/summary.schema.json for a run with thresholds and checks', async () => {
    assert.deepEqual(await schemaErrors(summaryJson(gatedReportData(), { exitCode: 99 })), []);
  });

  it('holds the exit code and every threshold as evaluated, metric as written', () => {
    const summary = summaryJson(gatedReportData(), { exitCode: 99 });
    assert.equal(summary.schema, 'cicada.summary/v2');
    assert.equal(summary.exit_code, 99);
    assert.deepEqual(summary.thresholds[1], {
      metric: 'response_time{name:/items/[id]}', expression: 'p(99)<200', ok: false, observed: 260, unit: 'ms', tags: { name: '/items/[id]' }, abort_on_fail: true,
    });
    assert.equal(summary.thresholds[3]?.observed, null);
    assert.equal(summary.thresholds[3]?.ok, true);
    assert.deepEqual(summary.thresholds.map((t) => t.ok), [true, false, true, true]);
  });

  it('holds the checks per request name, with the last error only where one was thrown', () => {
    const { checks } = summaryJson(gatedReportData(), { exitCode: 99 });
    assert.equal(checks.length, 3);
    assert.deepEqual([checks.reduce((n, c) => n + c.passes, 0), checks.reduce((n, c) => n + c.fails, 0)], [1349, 11]);
    assert.deepEqual(checks[0], { name: 'status is 200', request: '/items/[id]', passes: 370, fails: 10 });
    assert.equal(checks[2]?.last_error, "TypeError: Cannot read properties of null (reading 'id')");
    assert.ok(!('last_error' in checks[0]));
  });

  it('holds meta, every entry with all percentiles, the total, errors and exceptions', () => {
    const summary = summaryJson(reportData(), { exitCode: 0 });
    assert.equal(summary.meta.duration_s, 60);
    assert.equal(summary.meta.start_time, '2024-05-01T12:00:00.000Z');
    assert.deepEqual(summary.meta.user_class_counts, { Shopper: 75, Browser: 25 });
    assert.equal(summary.stats.length, 4);
    assert.equal(summary.total.name, 'Aggregated');
    assert.deepEqual(Object.keys(summary.total.response_time_percentiles), ['0.5', '0.66', '0.75', '0.8', '0.9', '0.95', '0.98', '0.99', '0.999', '0.9999', '1.0']);
    assert.equal(summary.total['response_time_percentile_0.95'], 120);
    assert.equal(summary.stats[2]?.response_time_percentiles['0.5'], null);
    assert.deepEqual(summary.errors[0], { method: 'GET', name: '/items/[id]', error: 'HTTP 503', occurrences: 7, first_seen: START_S + 3, last_seen: START_S + 55 });
    assert.equal(summary.exceptions[0]?.count, 2);
  });

  it('writes every list, empty, for a run without thresholds, checks or scenarios', async () => {
    const summary = summaryJson(reportData(), { exitCode: 0 });
    assert.deepEqual(await schemaErrors(summary), []);
    assert.deepEqual([summary.thresholds, summary.checks, summary.scenarios, summary.meta.scenarios], [[], [], [], []]);
    assert.equal(summary.exit_code, 0);
  });

  it('reports each scenario with its configured executor and its iteration_duration percentiles', async () => {
    const summary = summaryJson(scenarioData(), { exitCode: 0 });
    assert.deepEqual(await schemaErrors(summary), []);
    assert.deepEqual(summary.meta.scenarios, [{ name: 'checkout', executor: 'constant-arrival-rate', description: '10 iterations per 1 s for 30 s', tags: { team: 'shop' } }]);
    assert.deepEqual(summary.scenarios.map((s) => s.name), ['checkout', 'stray']);
    const { iteration_duration: duration, ...checkout } = summary.scenarios[0]!;
    assert.deepEqual(checkout, {
      name: 'checkout', executor: 'constant-arrival-rate', description: '10 iterations per 1 s for 30 s',
      iterations: 100, failed_iterations: 3, dropped_iterations: 7, interrupted: 1, not_run: 2,
    });
    // 1..100 ms recorded once each: the median is about 50 ms, within the histogram's bucket precision.
    assert.ok(Math.abs((duration['0.5'] ?? 0) - 50) <= 1, `p50 ${duration['0.5']}`);
    assert.ok(Math.abs((duration['1.0'] ?? 0) - 100) <= 1, `p100 ${duration['1.0']}`);
    const stray = summary.scenarios[1]!;
    assert.deepEqual([stray.executor, stray.description, stray.not_run, stray.iteration_duration['0.5']], [null, null, 0, null]);
  });

  it('keeps hostile threshold and check strings exactly, and stays valid', async () => {
    const summary = summaryJson(hostileGatedReportData(), { exitCode: 99 });
    assert.deepEqual(await schemaErrors(summary), []);
    assert.equal(summary.thresholds[0]?.metric, `response_time{name:${HOSTILE}}`);
    assert.deepEqual(summary.thresholds[0]?.tags, { name: HOSTILE });
    assert.deepEqual([summary.checks[2]?.name, summary.checks[2]?.request, summary.checks[2]?.last_error], [HOSTILE, HOSTILE, HOSTILE]);
  });

  it('survives JSON serialisation unchanged (no undefined, NaN or functions)', () => {
    const summary = summaryJson(scenarioData(), { exitCode: 99 });
    assert.deepEqual(JSON.parse(JSON.stringify(summary)), summary);
  });

  it('is checked by a live validator: missing keys, extra keys and wrong values are refused', async () => {
    const valid = summaryJson(gatedReportData(), { exitCode: 99 });
    const { exit_code: _dropped, ...missing } = valid;
    assert.match((await schemaErrors(missing)).join('\n'), /must have required property 'exit_code'/);
    assert.match((await schemaErrors({ ...valid, extra: 1 })).join('\n'), /must NOT have additional properties/);
    const badUnit = { ...valid, thresholds: valid.thresholds.map((t) => ({ ...t, unit: 'seconds' })) };
    assert.match((await schemaErrors(badUnit)).join('\n'), /^\/thresholds\/0\/unit must be equal to one of the allowed values/m);
    const lostPercentile = structuredClone(valid);
    delete lostPercentile.total.response_time_percentiles['0.99'];
    assert.match((await schemaErrors(lostPercentile)).join('\n'), /^\/total\/response_time_percentiles must have required property '0.99'/m);
  });
});
