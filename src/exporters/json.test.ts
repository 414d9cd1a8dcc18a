// Tests of Locust's `--json` entry list (the summary document's tests are in summary-json.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jsonReport, toJsonText } from './json.ts';
import { entrySnapshot, reportData, START_S } from './fixtures.test-helper.ts';

/** A stand-in for the histogram's index → ms function: bucket i is worth i + 0.1 ms (with float noise). */
const bucketValue = (index: number): number => index + 0.1 + 1e-12;

const LOCUST_FIELDS = [
  'name', 'method', 'last_request_timestamp', 'start_time', 'num_requests', 'num_none_requests', 'num_failures',
  'total_response_time', 'max_response_time', 'min_response_time', 'total_content_length', 'response_times',
  'num_reqs_per_sec', 'num_fail_per_sec',
];

describe('jsonReport', () => {
  it('serialises each entry with exactly Locust\'s StatsEntry fields, in order', () => {
    const list = jsonReport(reportData(), bucketValue);
    for (const entry of list) assert.deepEqual(Object.keys(entry), LOCUST_FIELDS);
  });

  it('leaves out entries without requests or failures and the Aggregated row', () => {
    const names = jsonReport(reportData(), bucketValue).map((e) => `${e.method} ${e.name}`);
    assert.deepEqual(names, ['GET /', 'GET /items/[id]', 'POST /login']);
  });

  it('converts histogram buckets to a ms → count map and keeps raw counters', () => {
    const first = jsonReport(reportData(), bucketValue)[0];
    assert.deepEqual(first, {
      name: '/',
      method: 'GET',
      last_request_timestamp: START_S + 2.5,
      start_time: START_S,
      num_requests: 3,
      num_none_requests: 0,
      num_failures: 1,
      total_response_time: 36.5,
      max_response_time: 14,
      min_response_time: 10.5,
      total_content_length: 300,
      response_times: { '10.1': 1, '12.1': 2 },
      num_reqs_per_sec: { [String(START_S)]: 1, [String(START_S + 2)]: 2 },
      num_fail_per_sec: { [String(START_S + 2)]: 1 },
    });
  });

  it('merges buckets that convert to the same value and skips empty buckets', () => {
    const data = reportData();
    data.snapshot.entries = [entrySnapshot('GET', '/', { histogram: { indices: [1, 2, 3], counts: [2, 0, 5] } })];
    const same = (index: number): number => (index === 3 ? 1 : index);
    assert.deepEqual(jsonReport(data, same)[0]?.response_times, { '1': 7 });
  });

  it('round-trips through JSON text with Locust\'s 4-space indent', () => {
    const text = toJsonText(jsonReport(reportData(), bucketValue));
    assert.ok(text.startsWith('[\n    {\n        "name": "/"'));
    assert.ok(text.endsWith('\n'));
    assert.equal((JSON.parse(text) as unknown[]).length, 3);
  });
});
