// `--otel` end to end: real runs export to OTLP receivers on 127.0.0.1 (grpc, http/protobuf, http/json, TLS, refused).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { describeExportError, otlpSettings } from '../src/cli/export-otel.ts';
import { makeTlsFixtures, type TlsFixtures } from '../src/transport/tls-fixtures.test-helper.ts';
import { fixture, freePort, runCli, startCountingTarget, type CliResult, type CountingTarget } from './helpers.ts';

// The official opentelemetry-proto files (v1.4.0), as @elastic/mockotlpserver ships them.
const PROTO_ROOT = path.dirname(createRequire(import.meta.url).resolve('@elastic/mockotlpserver/package.json'));
const SERVICE_PROTO = 'opentelemetry/proto/collector/metrics/v1/metrics_service.proto';
const CUMULATIVE = 2; // AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
const RUN = ['-f', fixture('otel.ts'), '-u', '2', '-r', '10', '-t', '3s', '--headless', '--only-summary', '--otel'];

/** One decoded export, whatever the protocol: resource attributes, and per metric its points. */
interface Point { attributes: Record<string, string>; value: number; count: number }
interface Metric { name: string; unit: string; temporality: number | undefined; points: Point[] }
interface Received { authorization: string | undefined; resource: Record<string, string>; metrics: Metric[] }

interface Receiver { endpoint: string; received: Received[]; close(): Promise<void> }

/** Decoded OTLP messages (proto-loader, protobufjs and JSON all give this shape, camelCase, with longs as numbers or strings). */
type Json = { [key: string]: unknown };
const list = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);
const attributes = (v: unknown): Record<string, string> =>
  Object.fromEntries(list(v).map((kv) => [String(kv.key), String(Object.values((kv.value ?? {}) as Json)[0])]));

function decoded(request: Json, authorization: string | undefined): Received {
  const resourceMetrics = list(request.resourceMetrics);
  const metrics = resourceMetrics.flatMap((rm) => list(rm.scopeMetrics)).flatMap((sm) => list(sm.metrics)).map((m): Metric => {
    const data = (m.sum ?? m.gauge ?? m.histogram ?? {}) as Json;
    const points = list(data.dataPoints).map((p) => ({ attributes: attributes(p.attributes), value: Number(p.asInt ?? p.asDouble ?? NaN), count: Number(p.count ?? NaN) }));
    return { name: String(m.name), unit: typeof m.unit === 'string' ? m.unit : '', temporality: data.aggregationTemporality === undefined ? undefined : Number(data.aggregationTemporality), points };
  });
  return { authorization, resource: attributes((resourceMetrics[0]?.resource as Json | undefined)?.attributes), metrics };
}

async function listening(server: http.Server | https.Server | grpc.Server, scheme: string): Promise<string> {
  if (server instanceof grpc.Server) {
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    return `${scheme}://127.0.0.1:${port}`;
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An OTLP/gRPC MetricsService from the official .proto files. */
async function grpcReceiver(): Promise<Receiver> {
  const definition = loadSync(SERVICE_PROTO, { includeDirs: [PROTO_ROOT], longs: Number, enums: Number, defaults: false });
  const received: Received[] = [];
  const server = new grpc.Server();
  server.addService(definition['opentelemetry.proto.collector.metrics.v1.MetricsService'] as grpc.ServiceDefinition, {
    Export: (call: grpc.ServerUnaryCall<Json, Json>, callback: grpc.sendUnaryData<Json>) => {
      received.push(decoded(call.request, call.metadata.get('authorization').map(String)[0]));
      callback(null, {});
    },
  });
  const endpoint = await listening(server, 'http');
  return { endpoint, received, close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
}

/** OTLP/HTTP on POST /v1/metrics: protobuf bodies decoded with protobufjs from the official .proto files, JSON parsed. */
async function httpReceiver(tls?: TlsFixtures): Promise<Receiver> {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(PROTO_ROOT, target);
  root.loadSync(SERVICE_PROTO);
  const Request = root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
  const received: Received[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const json = req.headers['content-type'] === 'application/json';
      if (req.method !== 'POST' || req.url !== '/v1/metrics') return void res.writeHead(404).end();
      const request = json ? (JSON.parse(body.toString('utf8')) as Json) : Request.toObject(Request.decode(body), { longs: Number, enums: Number });
      received.push(decoded(request, req.headers.authorization));
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
    });
  };
  const server = tls ? https.createServer({ key: tls.serverKey, cert: tls.serverCert }, handler) : http.createServer(handler);
  const endpoint = await listening(server, tls ? 'https' : 'http');
  return { endpoint, received, close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

function otelEnv(protocol: string, endpoint: string, extra: Record<string, string> = {}): Record<string, string> {
  return { OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer x', OTEL_METRIC_EXPORT_INTERVAL: '1000', ...extra };
}

/** `METHOD url.template` → value (or histogram count) in one metric of one export. */
function perTemplate(received: Received, name: string, pick: (p: Point) => number): Record<string, number> {
  const metric = received.metrics.find((m) => m.name === name);
  assert.ok(metric, `no ${name} in the export: ${received.metrics.map((m) => m.name).join(', ')}`);
  return Object.fromEntries(metric.points.map((p) => [`${p.attributes['http.request.method']} ${p.attributes['url.template']}`, pick(p)]));
}

/** The last export holds exactly what the target received, cumulatively, on every request name. */
function assertExported(receiver: Receiver, target: CountingTarget, result: CliResult, serviceName = 'cicada'): void {
  const context = `\n${result.stderr}`;
  assert.equal(result.code, 1, `the fixture's /status/500 failures give exit code 1${context}`);
  assert.ok(receiver.received.length >= 2, `one export a second and one at the end, got ${receiver.received.length}${context}`);
  const last = receiver.received.at(-1)!;
  const counted = Object.fromEntries(target.counts);
  assert.ok(target.total() > 0, 'the run sent requests');
  assert.deepEqual(perTemplate(last, 'cicada.requests', (p) => p.value), counted);
  assert.deepEqual(perTemplate(last, 'http.client.request.duration', (p) => p.count), counted);
  assert.equal(perTemplate(last, 'cicada.request.failures', (p) => p.value)['GET /status/500'], counted['GET /status/500']);
  for (const name of ['cicada.requests', 'http.client.request.duration']) assert.equal(last.metrics.find((m) => m.name === name)!.temporality, CUMULATIVE, name);
  assert.equal(last.metrics.find((m) => m.name === 'http.client.request.duration')!.unit, 's');
  assert.equal(last.resource['service.name'], serviceName);
  assert.ok(receiver.received.every((r) => r.authorization === 'Bearer x'), `OTEL_EXPORTER_OTLP_HEADERS on every export: ${receiver.received.map((r) => r.authorization).join(', ')}`);
  // Cumulative: no export's total is below the one before it.
  const totals = receiver.received.map((r) => (r.metrics.find((m) => m.name === 'cicada.requests')?.points ?? []).reduce((n, p) => n + p.value, 0));
  assert.deepEqual(totals, [...totals].sort((a, b) => a - b));
  assert.match(result.stderr, /INFO OTLP \S+ export to \S+: \d+ points sent\n/);
  assert.doesNotMatch(result.stderr, /ERROR/);
}

describe('--otel against OTLP receivers on 127.0.0.1', () => {
  let target: CountingTarget;
  before(async () => { target = await startCountingTarget(); });
  after(() => target.close());
  const fresh = (): void => target.counts.clear();

  for (const [protocol, start] of [['grpc', grpcReceiver], ['http/protobuf', () => httpReceiver()], ['http/json', () => httpReceiver()]] as const) {
    it(`exports cumulative counts equal to what the target received, with the headers, over ${protocol}`, async () => {
      fresh();
      const receiver = await start();
      try {
        const result = await runCli([...RUN, '-H', target.url], { env: otelEnv(protocol, receiver.endpoint), timeoutMs: 30_000 });
        assertExported(receiver, target, result);
      } finally {
        await receiver.close();
      }
    });
  }

  it('trusts the collector through OTEL_EXPORTER_OTLP_CERTIFICATE (https with a private CA), and names the service by OTEL_SERVICE_NAME', async () => {
    fresh();
    const tls = makeTlsFixtures();
    const dir = mkdtempSync(path.join(tmpdir(), 'cicada-otel-'));
    const receiver = await httpReceiver(tls);
    try {
      writeFileSync(path.join(dir, 'ca.pem'), tls.ca);
      const env = otelEnv('http/protobuf', receiver.endpoint, { OTEL_EXPORTER_OTLP_CERTIFICATE: path.join(dir, 'ca.pem'), OTEL_SERVICE_NAME: 'checkout-load', OTEL_RESOURCE_ATTRIBUTES: 'cicada.loadtest=nightly' });
      const result = await runCli([...RUN, '-H', target.url], { env, timeoutMs: 30_000 });
      assert.ok(receiver.endpoint.startsWith('https://'));
      assertExported(receiver, target, result, 'checkout-load');
      assert.equal(receiver.received.at(-1)!.resource['cicada.loadtest'], 'nightly');
    } finally {
      await receiver.close();
      tls.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends on time with its normal exit code when the collector refuses connections: one error line, and the points not sent counted', async () => {
    fresh();
    const port = await freePort(); // nothing listens there
    const startedAt = Date.now();
    const result = await runCli([...RUN, '-H', target.url], { env: otelEnv('http/protobuf', `http://127.0.0.1:${port}`, { OTEL_EXPORTER_OTLP_TIMEOUT: '1000' }), timeoutMs: 30_000 });
    const elapsed = Date.now() - startedAt;
    assert.equal(result.code, 1, `the same exit code as with a working collector\n${result.stderr}`);
    const errors = result.stderr.split('\n').filter((l) => l.includes(' ERROR '));
    assert.equal(errors.length, 1, `one error line per outage:\n${result.stderr}`);
    assert.match(errors[0]!, /OTLP http\/protobuf export to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics failed: .*ECONNREFUSED/);
    assert.match(result.stderr, /WARNING OTLP http\/protobuf export to \S+: 0 points sent, [1-9]\d* NOT sent \(\d+ failed attempts\)/);
    // 3 s of load, at most 5 s for the last export, and start-up: never the exporter's retries on top.
    assert.ok(elapsed < 14_000, `the run took ${elapsed} ms`);
    assert.ok(target.total() > 0);
  });
});

describe('the OTEL_* settings', () => {
  it('defaults to http/protobuf on localhost:4318 and --metrics-interval, and prefers the METRICS_ variables', () => {
    assert.deepEqual(otlpSettings({}, 5), { protocol: 'http/protobuf', endpoint: 'http://localhost:4318/v1/metrics', intervalMs: 5000, timeoutMs: 10_000 });
    assert.equal(otlpSettings({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 5).endpoint, 'http://localhost:4317');
    const env = { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/base/', OTEL_METRIC_EXPORT_INTERVAL: '2500', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '3000' };
    assert.deepEqual(otlpSettings(env, 5), { protocol: 'http/json', endpoint: 'http://c:4318/base/v1/metrics', intervalMs: 3000, timeoutMs: 3000 });
    assert.equal(otlpSettings({ ...env, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://u:p@c/custom' }, 5).endpoint, 'https://***:***@c/custom', 'used as it is, credentials masked');
    assert.equal(otlpSettings({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' }, 5).endpoint, 'collector:4317');
  });

  it('refuses what the exporters would silently replace: an unknown protocol, a URL without a scheme, a bad interval', () => {
    assert.throws(() => otlpSettings({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/proto' }, 5), /OTEL_EXPORTER_OTLP_PROTOCOL=http\/proto: not an OTLP protocol/);
    assert.throws(() => otlpSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 5), /OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318: not an http\(s\) URL/);
    assert.throws(() => otlpSettings({ OTEL_METRIC_EXPORT_INTERVAL: '5s' }, 5), /OTEL_METRIC_EXPORT_INTERVAL=5s: not a number of milliseconds/);
  });

  it('describes a failed export in one line, with the usual fix for a token, a certificate or the wrong port', () => {
    const rejected = Object.assign(new Error('Unauthorized'), { code: 401, data: 'bad token' });
    assert.equal(describeExportError(rejected, 'http/protobuf'), 'HTTP 401 Unauthorized: bad token (check the token in OTEL_EXPORTER_OTLP_HEADERS)');
    assert.match(describeExportError(new Error('self-signed certificate'), 'http/json'), /set OTEL_EXPORTER_OTLP_CERTIFICATE/);
    const grpcError = new Error('14 UNAVAILABLE: No connection established. Last error: Protocol error. Resolution note: ');
    assert.equal(describeExportError(grpcError, 'grpc'), '14 UNAVAILABLE: No connection established. Last error: Protocol error (not a gRPC endpoint? OTLP/gRPC is usually port 4317, OTLP/HTTP 4318: set OTEL_EXPORTER_OTLP_PROTOCOL to match)');
  });
});
