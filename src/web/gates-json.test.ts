// The snake_case JSON of thresholds and checks that /stats/thresholds, /stats/checks and /stream send.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gatedReportData, HOSTILE, hostileGatedReportData, reportData } from '../exporters/fixtures.test-helper.ts';
import { checkJson, checksJson, streamGatesJson, thresholdJson, thresholdsJson } from './gates-json.ts';

describe('thresholdsJson', () => {
  it('lists every threshold in snake_case and counts the failed ones', () => {
    const json = thresholdsJson(gatedReportData());
    assert.equal(json.failed, 1);
    assert.equal(json.thresholds.length, 4);
    assert.deepEqual(json.thresholds[1], {
      metric: 'response_time{name:/items/[id]}',
      expression: 'p(99)<200',
      ok: false,
      observed: 260,
      unit: 'ms',
      tags: { name: '/items/[id]' },
      abort_on_fail: true,
    });
  });

  it('keeps null for a threshold without data, which passes', () => {
    const noData = thresholdsJson(gatedReportData()).thresholds[3];
    assert.deepEqual([noData?.observed, noData?.ok, noData?.unit], [null, true, 'count']);
  });

  it('is empty, with nothing failed, for a run without thresholds', () => {
    assert.deepEqual(thresholdsJson(reportData()), { thresholds: [], failed: 0 });
  });

  it('sends a value JSON cannot carry (Infinity, NaN) as null', () => {
    const base = { metric: 'rps', expression: 'value>0', ok: false, unit: '/s' as const, tags: {}, abortOnFail: false };
    assert.equal(thresholdJson({ ...base, observed: Number.POSITIVE_INFINITY }).observed, null);
    assert.equal(thresholdJson({ ...base, observed: Number.NaN }).observed, null);
  });

  it('copies the tags, so that a caller changing the JSON leaves the report alone', () => {
    const data = gatedReportData();
    const json = thresholdsJson(data);
    json.thresholds[1]!.tags.name = 'changed';
    assert.equal(data.thresholds?.[1]?.tags.name, '/items/[id]');
  });
});

describe('checksJson', () => {
  it('lists each (check, request) with its pass ratio, and the last error only where one was thrown', () => {
    const { checks } = checksJson(gatedReportData());
    assert.deepEqual(checks[0], { name: 'status is 200', request: '/items/[id]', passes: 370, fails: 10, pass_ratio: 370 / 380 });
    assert.equal(checks[1]?.pass_ratio, 1);
    assert.ok(checks[1] && !('last_error' in checks[1]));
    assert.equal(checks[2]?.last_error, "TypeError: Cannot read properties of null (reading 'id')");
  });

  it('has no pass ratio for a check that never ran', () => {
    assert.equal(checkJson({ name: 'n', request: '', passes: 0, fails: 0 }).pass_ratio, null);
  });

  it('is empty for a run without checks', () => {
    assert.deepEqual(checksJson(reportData()), { checks: [] });
  });

  it('passes hostile strings through unchanged (the UI renders them as text)', () => {
    const { checks } = checksJson(hostileGatedReportData());
    assert.ok(checks.every((c) => c.name === HOSTILE && c.request === HOSTILE));
    assert.equal(thresholdsJson(hostileGatedReportData()).thresholds[0]?.tags.name, HOSTILE);
  });
});

describe('streamGatesJson', () => {
  it('flattens both documents into the fields a /stream event adds', () => {
    const data = gatedReportData();
    const gates = streamGatesJson(data);
    assert.deepEqual(Object.keys(gates), ['thresholds', 'thresholds_failed', 'checks']);
    assert.deepEqual(gates.thresholds, thresholdsJson(data).thresholds);
    assert.equal(gates.thresholds_failed, 1);
    assert.deepEqual(gates.checks, checksJson(data).checks);
  });
});
