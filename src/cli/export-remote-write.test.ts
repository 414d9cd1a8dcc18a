// The remote-write output: usage errors before the load, pushes on tick and at stop, refused batches dropped and counted.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import protobuf from 'protobufjs';
import { uncompress } from 'snappyjs';
import { linesLogger } from '../core/test-environment.test-helper.ts';
import { gatedReportData } from '../exporters/fixtures.test-helper.ts';
import type { LiveProgress } from '../exporters/report-data.ts';
import { remoteWriteOutput } from './export-remote-write.ts';
import { defaultOptions, type CicadaOptions } from './options.ts';

const Req = protobuf.parse(`syntax = "proto3"; package p;
message WriteRequest { repeated TimeSeries timeseries = 1; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }`).root.lookupType('p.WriteRequest');

/** The one timestamp of a pushed body's samples. */
function timestampOf(body: Buffer): number {
  const decoded = Req.toObject(Req.decode(uncompress(new Uint8Array(body))), { longs: Number }) as { timeseries: { samples: { timestamp: number }[] }[] };
  const all = new Set(decoded.timeseries.flatMap((s) => s.samples.map((x) => x.timestamp)));
  assert.equal(all.size, 1);
  return [...all][0]!;
}

interface Receiver { url: string; bodies: Buffer[]; auth: (string | undefined)[]; status: number; close(): Promise<void> }

async function receiver(): Promise<Receiver> {
  const state = { bodies: [] as Buffer[], auth: [] as (string | undefined)[], status: 204 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.bodies.push(Buffer.concat(chunks));
      state.auth.push(req.headers.authorization);
      res.statusCode = state.status;
      res.end(state.status >= 300 ? 'label name "bad-name" is invalid' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  });
}

const progress: LiveProgress = { elapsedMs: 0, userCount: 1, targetUserCount: 1, spawning: false, state: 'running' };

function output(overrides: Partial<CicadaOptions>) {
  const logger = linesLogger();
  const out = remoteWriteOutput({ options: { ...defaultOptions(), ...overrides }, logger, workers: () => 0 });
  return { out, logger };
}

describe('remoteWriteOutput', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cicada-rw-'));
  const file = (name: string, text: string): string => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses what cannot work before the load, as usage errors with a hint', async () => {
    const cases: [Partial<CicadaOptions>, RegExp][] = [
      [{ prometheusRemoteWrite: 'ftp://127.0.0.1/x' }, /ftp: is not http\(s\)/],
      [{ prometheusRemoteWrite: 'not a url' }, /not a URL/],
      [{ prometheusRemoteWrite: 'https://u:p@prom.test/api/v1/write' }, /holds credentials/],
      [{ prometheusRemoteWrite: 'https://prom.test/w', prometheusRemoteWriteTokenFile: path.join(dir, 'missing') }, /token-file .*missing: cannot read it \(ENOENT\)/],
      [{ prometheusRemoteWrite: 'https://prom.test/w', prometheusRemoteWriteTokenFile: file('empty', ' \n') }, /the file is empty/],
      [{ prometheusRemoteWrite: 'http://prom.test/w', prometheusRemoteWriteTokenFile: file('t', 'tok\n') }, /refusing to send the bearer token over plain http/],
      [{ prometheusRemoteWrite: 'https://prom.test/w', exportCaFile: file('ca.pem', 'not a certificate') }, /no PEM certificate/],
      [{ prometheusRemoteWrite: 'https://prom.test/w', exportCaFile: path.join(dir, 'nope.pem') }, /--export-ca-file .*nope.pem: cannot read it/],
    ];
    for (const [options, message] of cases) {
      await assert.rejects(async () => output(options).out.start?.(), (error: Error & { exitCode?: number; hint?: string }) => {
        assert.match(error.message, message);
        assert.equal(error.exitCode, 2);
        assert.ok((error.hint ?? '') !== '', `a hint for: ${error.message}`);
        return true;
      });
    }
  });

  it('sends a token over plain http to loopback, and beyond it only with --insecure (warning that it goes in clear)', async () => {
    const token = file('tok', '  s3cret \n');
    for (const loopback of ['127.0.0.5:9', 'localhost:9', '[::1]:9']) await output({ prometheusRemoteWrite: `http://${loopback}/w`, prometheusRemoteWriteTokenFile: token }).out.start?.();
    const { out, logger } = output({ prometheusRemoteWrite: 'http://prom.test/w', prometheusRemoteWriteTokenFile: token, insecure: true });
    await out.start?.();
    assert.ok(logger.lines.some((l) => /^warning .*IN CLEAR/.test(l)), logger.lines.join('\n'));
  });

  it('pushes on every tick and once at the end, with strictly increasing timestamps and the trimmed token', async () => {
    const rx = await receiver();
    try {
      const { out, logger } = output({ prometheusRemoteWrite: rx.url, prometheusRemoteWriteTokenFile: file('tok2', 's3cret\n'), metricsInterval: 2 });
      assert.equal(out.intervalMs, 2000);
      await out.start?.();
      const data = gatedReportData();
      const now = Date.now() + 60_000;
      await out.tick?.({ data, progress, now });
      await out.tick?.({ data, progress, now }); // the same ms twice: the second must still be later
      await out.stop?.(data, { exitCode: 0 });
      assert.equal(rx.bodies.length, 3);
      const ts = rx.bodies.map(timestampOf);
      assert.deepEqual(ts.slice(0, 2), [now, now + 1]);
      assert.ok(ts[2]! > ts[1]!);
      assert.deepEqual(rx.auth, ['Bearer s3cret', 'Bearer s3cret', 'Bearer s3cret']);
      assert.ok(logger.lines.some((l) => /^info Prometheus remote write to .*: \d+ points sent$/.test(l)), logger.lines.join('\n'));
    } finally {
      await rx.close();
    }
  });

  it('drops a batch the receiver refuses with a 4xx, says so once, and counts it as not sent', async () => {
    const rx = await receiver();
    rx.status = 400;
    try {
      const { out, logger } = output({ prometheusRemoteWrite: rx.url });
      await out.start?.();
      const data = gatedReportData();
      await out.tick?.({ data, progress, now: Date.now() });
      await out.stop?.(data, { exitCode: 0 });
      assert.equal(rx.bodies.length, 2, 'each batch tried once, not retried');
      const refusals = logger.lines.filter((l) => /refused a batch of \d+ samples \(the receiver answered HTTP 400: label name "bad-name" is invalid\); dropping it without retrying/.test(l));
      assert.equal(refusals.length, 1, logger.lines.join('\n'));
      assert.ok(logger.lines.some((l) => /^warning .*: 0 points sent, \d+ NOT sent \(2 failed attempts\)$/.test(l)), logger.lines.join('\n'));
    } finally {
      await rx.close();
    }
  });

  it('ends within its grace period when the receiver is down, counting every point as not sent', async () => {
    const rx = await receiver();
    await rx.close(); // a port nothing listens on any more
    const { out, logger } = output({ prometheusRemoteWrite: rx.url });
    await out.start?.();
    const started = Date.now();
    await out.stop?.(gatedReportData(), { exitCode: 0 });
    assert.ok(Date.now() - started < 6000);
    assert.ok(logger.lines.some((l) => /^error Prometheus remote write to .* failed: .*ECONNREFUSED/.test(l)), logger.lines.join('\n'));
    assert.ok(logger.lines.some((l) => /: 0 points sent, \d+ NOT sent/.test(l)), logger.lines.join('\n'));
  });
});
