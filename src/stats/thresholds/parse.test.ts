// Threshold syntax: every bad input is a usage error naming what is wrong and how to fix it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../core/errors.ts';
import { parseThreshold, parseThresholdFlag, readThresholds } from './parse.ts';

const rules = { scenarios: ['browse', 'checkout'] };
const none = { scenarios: [] };

function refused(fn: () => unknown, message: RegExp, hint?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof UsageError, `a UsageError, got ${String(error)}`);
    assert.match(error.message, message);
    if (hint !== undefined) assert.match(error.hint ?? '', hint);
    return true;
  });
}

describe('threshold keys and expressions', () => {
  it('reads a metric, its tags and an expression', () => {
    const t = parseThreshold("response_time{name:/items/[id], method:GET, scenario:'browse'}", ' p(99.9) <= 250.5 ', { source: 'test' }, rules);
    assert.equal(t.base, 'response_time');
    assert.deepEqual(t.tags, { name: '/items/[id]', method: 'GET', scenario: 'browse' });
    assert.equal(t.aggregation, 'p');
    assert.equal(t.percentile, 99.9);
    assert.equal(t.operator, '<=');
    assert.equal(t.value, 250.5);
    assert.equal(t.expression, 'p(99.9) <= 250.5');
    assert.equal(t.metric, "response_time{name:/items/[id], method:GET, scenario:'browse'}");
  });

  it('reads every operator and aggregation a metric has', () => {
    for (const op of ['<', '<=', '>', '>=', '==', '!=']) assert.equal(parseThreshold('requests', `count${op}3`, { source: 't' }, none).operator, op);
    for (const agg of ['avg', 'min', 'max', 'med']) assert.equal(parseThreshold('response_time', `${agg}<3`, { source: 't' }, none).aggregation, agg);
    assert.equal(parseThreshold('fail_ratio', 'value<0.01', { source: 't' }, none).value, 0.01);
    assert.equal(parseThreshold('checks{check:status is 200}', 'rate>=0.99', { source: 't' }, none).tags.check, 'status is 200');
    assert.equal(parseThreshold('dropped_iterations{scenario:browse}', 'count==0', { source: 't' }, rules).value, 0);
    assert.equal(parseThreshold('rps', 'value>1e3', { source: 't' }, none).value, 1000);
    assert.equal(parseThreshold("response_time{name:'/a,b'}", 'p(50)<1', { source: 't' }, none).tags.name, '/a,b');
  });

  it('refuses an unknown metric with a guess, and points k6 names at Cicada\'s', () => {
    refused(() => parseThreshold('respone_time', 'p(95)<1', { source: 't' }, none), /unknown metric 'respone_time'/, /did you mean response_time\?/);
    refused(() => parseThreshold('http_req_duration', 'p(95)<1', { source: 't' }, none), /unknown metric/, /k6's name; Cicada's is response_time/);
    refused(() => parseThreshold('response_time{name:/x', 'p(95)<1', { source: 't' }, none), /not closed with \}/);
  });

  it('refuses an unknown aggregation, and one the metric does not have', () => {
    refused(() => parseThreshold('response_time', 'p95<300', { source: 't' }, none), /unknown aggregation 'p95'/);
    refused(() => parseThreshold('response_time', 'avgg<300', { source: 't' }, none), /unknown aggregation 'avgg'/, /did you mean avg\?/);
    refused(() => parseThreshold('fail_ratio', 'p(95)<0.1', { source: 't' }, none), /fail_ratio has no percentiles/, /has value/);
    refused(() => parseThreshold('requests', 'avg<3', { source: 't' }, none), /requests has no 'avg'/, /count, rate/);
    refused(() => parseThreshold('checks', 'count>1', { source: 't' }, none), /checks has no 'count'/, /rate/);
  });

  it('refuses malformed numbers, out-of-range percentiles and missing operators', () => {
    refused(() => parseThreshold('response_time', 'p(95)<3OO', { source: 't' }, none), /'3OO' is not a number/);
    refused(() => parseThreshold('response_time', 'p(95)<300ms', { source: 't' }, none), /'300ms' is not a number/, /without a unit/);
    refused(() => parseThreshold('response_time', 'p(101)<300', { source: 't' }, none), /p\(101\) is out of range/);
    refused(() => parseThreshold('response_time', 'p(0)<300', { source: 't' }, none), /p\(0\) is out of range/);
    refused(() => parseThreshold('response_time', 'p(abc)<300', { source: 't' }, none), /'abc' is not a percentile/);
    refused(() => parseThreshold('response_time', 'p<300', { source: 't' }, none), /p needs a percentile/);
    refused(() => parseThreshold('response_time', 'avg 300', { source: 't' }, none), /has no comparison/);
    refused(() => parseThreshold('response_time', 'avg=300', { source: 't' }, none), /has no comparison/, /==/);
    refused(() => parseThreshold('response_time', 'avg<', { source: 't' }, none), /'' is not a number/);
    refused(() => parseThreshold('response_time', '', { source: 't' }, none), /is not a threshold expression/);
  });

  it('refuses unknown tags, tags the metric lacks, empty and repeated tags', () => {
    refused(() => parseThreshold('response_time{nmae:/x}', 'avg<1', { source: 't' }, none), /unknown tag 'nmae'/, /did you mean name\?/);
    refused(() => parseThreshold('iteration_duration{name:/x}', 'avg<1', { source: 't' }, rules), /iteration_duration has no tag 'name'/, /scenario/);
    refused(() => parseThreshold('response_time{name:}', 'avg<1', { source: 't' }, none), /tag 'name' .* has no value/);
    refused(() => parseThreshold('response_time{}', 'avg<1', { source: 't' }, none), /empty tag filter/);
    refused(() => parseThreshold('response_time{name}', 'avg<1', { source: 't' }, none), /is not tag:value/);
    refused(() => parseThreshold('response_time{name:/a,name:/b}', 'avg<1', { source: 't' }, none), /appears twice/);
  });

  it('refuses a filter that can never match: an unknown scenario, a lower-case method', () => {
    refused(() => parseThreshold('response_time{scenario:brwse}', 'avg<1', { source: 't' }, rules), /can never match: no scenario is named 'brwse'/, /did you mean browse\?.*browse, checkout/);
    refused(() => parseThreshold('response_time{scenario:browse}', 'avg<1', { source: 't' }, none), /this run has no scenarios/);
    refused(() => parseThreshold('response_time{method:get}', 'avg<1', { source: 't' }, none), /upper case/, /method:GET/);
    assert.equal(parseThreshold('response_time{method:WS-SEND}', 'avg<1', { source: 't' }, none).tags.method, 'WS-SEND');
  });
});

describe('threshold sources', () => {
  it('reads k6\'s object form: strings, lists and { threshold, abortOnFail, delayAbortEval }', () => {
    const specs = readThresholds({
      response_time: ['p(95)<300', { threshold: 'p(99)<1000', abortOnFail: true, delayAbortEval: '10s' }],
      fail_ratio: 'value<0.01',
    }, 'the cicadafile', none);
    assert.deepEqual(specs.map((s) => [s.metric, s.expression, s.abortOnFail, s.delayAbortEvalMs, s.source]), [
      ['response_time', 'p(95)<300', false, 0, 'the cicadafile'],
      ['response_time', 'p(99)<1000', true, 10_000, 'the cicadafile'],
      ['fail_ratio', 'value<0.01', false, 0, 'the cicadafile'],
    ]);
  });

  it('refuses bad shapes and fields, naming the source', () => {
    refused(() => readThresholds(['p(95)<300'], 'cicada.toml', none), /cicada.toml: thresholds must be an object/);
    refused(() => readThresholds({ response_time: [42] }, 'x', none), /expected an expression string/);
    refused(() => readThresholds({ response_time: [] }, 'x', none), /no expression/);
    refused(() => readThresholds({ response_time: [{ threshold: 'p(95)<3', abortOnFial: true }] }, 'x', none), /unknown field 'abortOnFial'/, /did you mean abortOnFail\?/);
    refused(() => readThresholds({ response_time: [{ threshold: 'p(95)<3', abortOnFail: 'yes' }] }, 'x', none), /abortOnFail must be true or false/);
    refused(() => readThresholds({ response_time: [{ threshold: 'p(95)<3', delayAbortEval: 'soon' }] }, 'x', none), /delayAbortEval.*not a time span/);
    refused(() => readThresholds({ response_time: [{ abortOnFail: true }] }, 'x', none), /'threshold' must be the expression string/);
  });

  it('reads --threshold text: metric, tags with spaces, expression, abort settings', () => {
    const t = parseThresholdFlag('response_time{name:/a b} p(95)<300 abortOnFail delayAbortEval=5s', '--threshold', none);
    assert.deepEqual([t.metric, t.tags.name, t.expression, t.abortOnFail, t.delayAbortEvalMs], ['response_time{name:/a b}', '/a b', 'p(95)<300', true, 5000]);
    const bare = parseThresholdFlag('fail_ratio value<0.05', 'CICADA_THRESHOLD', none);
    assert.deepEqual([bare.metric, bare.expression, bare.abortOnFail, bare.source], ['fail_ratio', 'value<0.05', false, 'CICADA_THRESHOLD']);
    assert.equal(parseThresholdFlag('requests{name:/x}count>3', '--threshold', none).expression, 'count>3');
    refused(() => parseThresholdFlag('response_time', '--threshold', none), /no expression after the metric/);
    refused(() => parseThresholdFlag('response_time{name:/x p(95)<3', '--threshold', none), /not closed/);
  });
});
