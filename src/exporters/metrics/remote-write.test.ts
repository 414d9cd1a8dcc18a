// Remote write encoding: decoded back with protobufjs (prompb's schema), the same series as the text format, snappy, headers and answers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';
import { uncompress } from 'snappyjs';
import { gatedReportData } from '../fixtures.test-helper.ts';
import { metricFamilies, type MetricFamily } from './model.ts';
import { prometheusText } from './prometheus-text.ts';
import { RemoteWriteRejected, encodeWriteRequest, remoteWriteBatch, remoteWriteHeaders, remoteWriteSender } from './remote-write.ts';

// prompb's remote write 1.0 messages (types.proto, remote.proto), written out from the spec's field numbers.
const PROMPB = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
`;
const WriteRequest = protobuf.parse(PROMPB).root.lookupType('prometheus.WriteRequest');

interface Decoded {
  timeseries: { labels: { name: string; value: string }[]; samples: { value: number; timestamp: number }[] }[];
}

function decode(bytes: Uint8Array): Decoded {
  return WriteRequest.toObject(WriteRequest.decode(bytes), { longs: Number, defaults: true, arrays: true }) as Decoded;
}

/** `name{a="1",b="2"}` → value, from the text format's sample lines (escapes undone, labels sorted by key()). */
function textSeries(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const labels: [string, string][] = [];
    let i = line.search(/[{ ]/);
    labels.push(['__name__', line.slice(0, i)]);
    if (line[i] === '{') {
      i++;
      while (i < line.length && line[i] !== '}') {
        const eq = line.indexOf('=', i);
        const name = line.slice(i, eq);
        let value = '';
        for (i = eq + 2; i < line.length && line[i] !== '"'; i++) value += line[i] === '\\' ? ({ n: '\n' }[line[++i]!] ?? line[i]) : line[i];
        labels.push([name, value]);
        i += line[i + 1] === ',' ? 2 : 1;
      }
      i++;
    }
    out.set(key(labels), Number(line.slice(i + 1)));
  }
  return out;
}

function key(labels: readonly (readonly [string, string])[]): string {
  return JSON.stringify([...labels].sort(([a], [b]) => (a < b ? -1 : 1)));
}

const family = (labels: Record<string, string>, value: number): MetricFamily => ({ name: 'cicada_requests_total', help: 'h', type: 'counter', unit: '', samples: [{ labels, value }] });

describe('remote write encoding', () => {
  it('encodes every series of a run as prompb decodes it: sorted labels with __name__, one sample at the timestamp', () => {
    const families = metricFamilies(gatedReportData(), { workers: 2 });
    const ts = 1_714_564_860_123;
    const decoded = decode(encodeWriteRequest(families, ts).bytes);
    const fromText = textSeries(prometheusText(families));
    assert.equal(decoded.timeseries.length, fromText.size, 'as many series as the text format has lines');
    for (const series of decoded.timeseries) {
      const names = series.labels.map((l) => l.name);
      assert.deepEqual(names, [...names].sort(), 'labels sorted by name');
      assert.equal(names[0], '__name__');
      assert.ok(series.labels.every((l) => l.value !== ''), 'no empty label values');
      assert.deepEqual(series.samples.map((s) => s.timestamp), [ts]);
      const k = key(series.labels.map((l) => [l.name, l.value]));
      assert.equal(series.samples[0]!.value, fromText.get(k), `the text format's value for ${k}`);
    }
  });

  it('sends a histogram as the classic _bucket{le}, _sum and _count series, +Inf equal to the count', () => {
    const families = metricFamilies(gatedReportData(), { workers: 0 });
    const decoded = decode(encodeWriteRequest(families, 1).bytes);
    const of = (name: string): Decoded['timeseries'] => decoded.timeseries.filter((s) => s.labels.some((l) => l.name === '__name__' && l.value === name) && s.labels.some((l) => l.name === 'name' && l.value === '/'));
    const buckets = of('cicada_response_time_seconds_bucket');
    const le = buckets.map((s) => s.labels.find((l) => l.name === 'le')!.value);
    assert.equal(le.at(-1), '+Inf');
    assert.equal(le[0], '0.0001');
    const counts = buckets.map((s) => s.samples[0]!.value);
    assert.deepEqual(counts, [...counts].sort((a, b) => a - b), 'cumulative');
    assert.equal(counts.at(-1), 3);
    assert.equal(of('cicada_response_time_seconds_count')[0]!.samples[0]!.value, 3);
    assert.equal(of('cicada_response_time_seconds_sum')[0]!.samples[0]!.value, 0.0365);
  });

  it('leaves out empty label values (Prometheus reads them as absent)', () => {
    const decoded = decode(encodeWriteRequest([family({ scenario: '', name: '/a', method: 'GET' }, 1)], 1).bytes);
    assert.deepEqual(decoded.timeseries[0]!.labels, [{ name: '__name__', value: 'cicada_requests_total' }, { name: 'method', value: 'GET' }, { name: 'name', value: '/a' }]);
  });

  it('places __name__ and le among any labels in byte order', () => {
    const histogram: MetricFamily = { name: 'h', help: 'h', type: 'histogram', unit: 'seconds', bounds: [0.5], samples: [{ labels: { zed: 'z', Big: 'B', alpha: 'a', method: 'GET' }, cumulative: [1], sum: 0.2, count: 2 }] };
    const names = decode(encodeWriteRequest([histogram], 1).bytes).timeseries.map((s) => s.labels.map((l) => l.name).join(','));
    assert.deepEqual(names, ['Big,__name__,alpha,le,method,zed', 'Big,__name__,alpha,le,method,zed', 'Big,__name__,alpha,method,zed', 'Big,__name__,alpha,method,zed']);
  });

  it('writes multi-byte varints, exact doubles and UTF-8 label values', () => {
    const values = [0, 0.1, 2 ** 53 - 1, 1e300, -2.5];
    const families = values.map((v, i) => family({ name: `/é/${'x'.repeat(200)}/${i}`, run_id: '1714564800000' }, v));
    const ts = 2 ** 41 + 12_345;
    const decoded = decode(encodeWriteRequest(families, ts).bytes);
    assert.deepEqual(decoded.timeseries.map((s) => s.samples[0]), values.map((value) => ({ value, timestamp: ts })));
    assert.equal(decoded.timeseries[1]!.labels.find((l) => l.name === 'name')!.value, `/é/${'x'.repeat(200)}/1`);
  });

  it('refuses a timestamp that is not a non-negative integer of ms', () => {
    assert.throws(() => encodeWriteRequest([], 1.5), RangeError);
    assert.throws(() => encodeWriteRequest([], -1), RangeError);
    assert.deepEqual(encodeWriteRequest([], 0), { bytes: new Uint8Array(0), samples: 0 });
  });

  it('compresses with snappy block format: uncompressing gives the WriteRequest back, and points count the samples', () => {
    const families = metricFamilies(gatedReportData(), { workers: 0 });
    const batch = remoteWriteBatch(families, 1_714_564_860_000);
    const raw = encodeWriteRequest(families, 1_714_564_860_000).bytes;
    assert.deepEqual(uncompress(batch.body), raw);
    assert.equal(batch.points, decode(raw).timeseries.length);
    assert.ok(batch.body.length < raw.length / 3, `repetitive labels compress well (${batch.body.length} of ${raw.length} bytes)`);
  });
});

describe('remote write requests', () => {
  it('has the headers remote write 1.0 prescribes, and the bearer token only when there is one', () => {
    const base = { 'content-encoding': 'snappy', 'content-type': 'application/x-protobuf', 'x-prometheus-remote-write-version': '0.1.0', 'user-agent': 'cicada/9.9.9' };
    assert.deepEqual(remoteWriteHeaders({ userAgent: 'cicada/9.9.9' }), base);
    assert.deepEqual(remoteWriteHeaders({ userAgent: 'cicada/9.9.9', token: 's3cret' }), { ...base, authorization: 'Bearer s3cret' });
  });

  it('POSTs the body with those headers, and turns a non-2xx answer into a rejection with its status and the first 200 characters', async () => {
    const received: { method: string; headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
    let answer = { status: 204, body: '' };
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        res.statusCode = answer.status;
        res.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`);
    const sender = remoteWriteSender({ url, userAgent: 'cicada/0.0.1', token: 'tok' });
    try {
      const batch = remoteWriteBatch(metricFamilies(gatedReportData(), { workers: 0 }), 5000);
      await sender.send(batch.body, AbortSignal.timeout(5000));
      assert.equal(received[0]!.method, 'POST');
      assert.equal(received[0]!.headers['content-encoding'], 'snappy');
      assert.equal(received[0]!.headers['content-type'], 'application/x-protobuf');
      assert.equal(received[0]!.headers['x-prometheus-remote-write-version'], '0.1.0');
      assert.equal(received[0]!.headers['user-agent'], 'cicada/0.0.1');
      assert.equal(received[0]!.headers.authorization, 'Bearer tok');
      assert.equal(decode(uncompress(new Uint8Array(received[0]!.body))).timeseries.length, batch.points);

      for (const [status, retryable] of [[400, false], [401, false], [429, true], [500, true], [503, true]] as const) {
        answer = { status, body: `out of order sample ${'y'.repeat(300)}` };
        const error = await sender.send(batch.body, AbortSignal.timeout(5000)).then(() => undefined, (e: unknown) => e);
        assert.ok(error instanceof RemoteWriteRejected, String(error));
        assert.equal(error.status, status);
        assert.equal(error.retryable, retryable, `HTTP ${status}`);
        assert.equal(error.message, `the receiver answered HTTP ${status}: out of order sample ${'y'.repeat(200 - 'out of order sample '.length)}`);
      }
    } finally {
      await sender.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
