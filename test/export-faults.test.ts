// An export endpoint that hangs or presents a certificate from another CA never slows or stops the run:
// the run ends on time with its usual exit code, one error line per exporter, and the unsent points counted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeTlsFixtures, type TlsFixtures } from '../src/transport/tls-fixtures.test-helper.ts';
import { fixture, runCli, startCountingTarget, type CountingTarget } from './helpers.ts';

describe('export endpoints that fail', { concurrency: 2 }, () => {
  let target: CountingTarget;
  let dir: string;
  let tls: TlsFixtures;
  let hanging: net.Server;
  let foreign: https.Server;
  const sockets = new Set<net.Socket>();
  const portOf = (server: net.Server): number => (server.address() as AddressInfo).port;
  before(async () => {
    target = await startCountingTarget();
    dir = await mkdtemp(path.join(tmpdir(), 'cicada-export-faults-'));
    tls = makeTlsFixtures();
    await writeFile(path.join(dir, 'ca.pem'), tls.ca);
    // Accepts connections and never answers a byte.
    hanging = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    // A TLS endpoint whose certificate comes from a CA the run does not trust.
    foreign = https.createServer({ cert: tls.foreignClientCert, key: tls.foreignClientKey }, (_req, res) => res.end());
    await Promise.all([new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r)), new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r))]);
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all([new Promise((r) => hanging.close(r)), new Promise((r) => foreign.close(r))]);
    await target.close();
    await rm(dir, { recursive: true, force: true });
    tls.cleanup();
  });

  const run = async (args: string[], env: Record<string, string> = {}) => {
    const started = Date.now();
    const result = await runCli(['-f', fixture('metrics.ts'), '-H', target.url, '--headless', '-u', '2', '-r', '10', '-t', '2s', '--only-summary', '--metrics-interval', '1', ...args], { env, timeoutMs: 40_000 });
    return { ...result, seconds: (Date.now() - started) / 1000 };
  };

  it('remote write to an endpoint that hangs: on time, one error, the points counted as not sent', async () => {
    const { code, stderr, seconds } = await run(['--prometheus-remote-write', `http://127.0.0.1:${portOf(hanging)}/api/v1/write`]);
    assert.equal(code, 0, stderr);
    assert.ok(seconds < 25, `ended after ${seconds} s`);
    assert.equal(stderr.match(/ ERROR Prometheus remote write.* failed/g)?.length, 1, stderr);
    assert.match(stderr, /no answer (within|before the end of the run)/);
    assert.match(stderr, /\d+ NOT sent/);
  });

  it('remote write to a certificate from another CA: refused by TLS, on time, counted', async () => {
    const { code, stderr, seconds } = await run(['--prometheus-remote-write', `https://127.0.0.1:${portOf(foreign)}/api/v1/write`, '--export-ca-file', path.join(dir, 'ca.pem')]);
    assert.equal(code, 0, stderr);
    assert.ok(seconds < 25, `ended after ${seconds} s`);
    assert.equal(stderr.match(/ ERROR Prometheus remote write.* failed/g)?.length, 1, stderr);
    assert.match(stderr, /certificate|UNABLE_TO_VERIFY|self.signed/i);
    assert.match(stderr, /\d+ NOT sent/);
    assert.ok(target.total() > 0);
  });

  it('OTLP to an endpoint that hangs: on time, one error, counted', async () => {
    const { code, stderr, seconds } = await run(['--otel'], { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${portOf(hanging)}`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TIMEOUT: '1000' });
    assert.equal(code, 0, stderr);
    assert.ok(seconds < 25, `ended after ${seconds} s`);
    assert.equal(stderr.match(/ ERROR OTLP.* failed/g)?.length, 1, stderr);
    assert.match(stderr, /\d+ NOT sent/);
  });

  it('Graphite to an endpoint that takes lines and never reads them is not waited for', async () => {
    const { code, stderr, seconds } = await run(['--graphite', `127.0.0.1:${portOf(hanging)}`]);
    assert.equal(code, 0, stderr);
    assert.ok(seconds < 25, `ended after ${seconds} s`);
  });
});
