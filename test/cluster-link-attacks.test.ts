// Attacks on the master/worker link with real `cicada --master` / `--worker` processes: a tampering proxy, a wire
// capture, --master-allow, and peers of the old protocol version.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadCicadafiles } from '../src/cli/load-cicadafile.ts';
import { PROTOCOL_VERSION } from '../src/runners/messages.ts';
import { connect, TransportServer } from '../src/transport/index.ts';
import { flipBit, passThrough, startTamperProxy, type FrameRule } from '../src/transport/tamper-proxy.test-helper.ts';
import { recordingLogger } from '../src/transport/test-support.test-helper.ts';
import { fixture, freePort, parseCsv, repoRoot, runCli, startCli, startCountingTarget, type CountingTarget } from './helpers.ts';

const SECRET = 'link-attack-secret-0123456789abcdef';
const env = { CICADA_SECRET: SECRET };
const fast = ['--heartbeat-interval', '0.2'];
const { version } = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };

describe('attacks on the master/worker link, end to end', { concurrency: 1 }, () => {
  let target: CountingTarget;
  let attacker: CountingTarget;
  let dir: string;
  before(async () => {
    target = await startCountingTarget();
    attacker = await startCountingTarget();
    dir = await mkdtemp(path.join(tmpdir(), 'cicada-link-attacks-'));
  });
  after(async () => {
    await target.close();
    await attacker.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a proxy that rewrites spawn.host (or flips a bit where it cannot read) gets no load: the worker drops the link and says why', async () => {
    assert.equal(target.url.length, attacker.url.length, 'same-length URLs, so a rewrite keeps every frame length');
    // Where the traffic is readable the attacker redirects the load; where it is not, it flips a bit in each frame.
    const rule: FrameRule = (frame, { direction, index }) => {
      if (direction !== 'down' || index < 2) return [frame];
      const at = frame.indexOf(target.url);
      if (at >= 0) {
        const copy = Buffer.from(frame);
        copy.write(attacker.url, at);
        return [copy];
      }
      return frame.includes('type') ? [frame] : [flipBit(frame, -20)];
    };
    const port = await freePort();
    const master = startCli(['-f', fixture('counting.ts'), '--master', '--master-bind-port', String(port), '--headless', '--expect-workers', '1',
      '--expect-workers-max-wait', '20', '-u', '2', '-r', '100', '-t', '2s', '-H', target.url, ...fast], { env, timeoutMs: 40_000 });
    await master.waitFor('master listening');
    const proxy = await startTamperProxy(port, rule);
    const worker = startCli(['-f', fixture('counting.ts'), '--worker', '--master-port', String(proxy.port), ...fast], { env, timeoutMs: 40_000 });
    try {
      // Either the worker notices (sealed link) or it runs the whole test against whatever host it was sent (clear link).
      await Promise.race([worker.waitFor(/lost the master \(frame 0 from the master failed authentication/, 15_000).catch(() => undefined), worker.done]);
      await master.done;
      worker.kill('SIGINT');
      const out = (await worker.done).stderr;
      assert.equal(attacker.total(), 0, `${attacker.total()} requests reached the attacker's host`);
      assert.ok(proxy.tampered >= 1);
      assert.match(out, /lost the master \(frame 0 from the master failed authentication \(altered in transit, or sealed with another key\) \[CICADA_ERR_TRANSPORT_FRAME_AUTH\]\); reconnecting/);
      assert.doesNotMatch(out, /attack|127\.0\.0\.1:\d+ is not/);
    } finally {
      master.kill('SIGKILL');
      worker.kill('SIGKILL');
      await proxy.close();
    }
  });

  it('with --master-allow 127.0.0.1, refuses 127.0.0.3 at accept and an old-protocol worker with a clear reason; a run through a recording proxy shows nothing in clear and counts exactly', async () => {
    target.counts.clear();
    const port = await freePort();
    const prefix = path.join(dir, 'captured');
    const master = startCli(['-f', fixture('counting.ts'), '--master', '--master-bind-port', String(port), '--master-allow', '127.0.0.1', '--headless',
      '--expect-workers', '1', '--expect-workers-max-wait', '20', '-u', '2', '-r', '100', '-t', '1.5s', '-H', target.url, '--csv', prefix, ...fast], { env, timeoutMs: 40_000 });
    const proxy = await startTamperProxy(port, passThrough);
    try {
      await master.waitFor(/master listening on 127\.0\.0\.1:\d+ \(shared-secret handshake, sealed link\) \(only from 127\.0\.0\.1\)/);

      const intruder = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.3' });
      const answer: Buffer[] = [];
      intruder.on('error', () => {});
      intruder.on('data', (chunk: Buffer) => answer.push(chunk));
      await new Promise((resolve) => intruder.once('close', resolve));
      assert.equal(Buffer.concat(answer).length, 0);
      await master.waitFor('refused a connection from 127.0.0.3: not in the allow list (--master-allow)', 5000);

      const cicadafileHash = (await loadCicadafiles([fixture('counting.ts')], repoRoot)).contentHash;
      const old = await connect({ host: '127.0.0.1', port, workerId: 'old-worker', secret: Buffer.from(SECRET), meta: { version, cicadafileHash }, protocolVersion: PROTOCOL_VERSION - 1 })
        .catch((e: unknown) => e);
      assert.match(String(old), new RegExp(`protocol version mismatch: the worker speaks version ${PROTOCOL_VERSION - 1}, the master speaks version ${PROTOCOL_VERSION}`));
      await master.waitFor(`protocol version mismatch (worker ${PROTOCOL_VERSION - 1}, master ${PROTOCOL_VERSION})`, 5000);

      const worker = startCli(['-f', fixture('counting.ts'), '--worker', '--master-port', String(proxy.port), ...fast], { env, timeoutMs: 40_000 });
      const result = await master.done;
      assert.equal((await worker.done).code, 0);
      assert.equal(result.code, 1, `404s are failures\n${result.stderr}`);
      const rows = parseCsv(await readFile(`${prefix}_stats.csv`, 'utf8'));
      assert.ok(target.total() > 0);
      assert.equal(Number(rows.find((r) => r[1] === 'Aggregated')![2]), target.total(), 'exact counts through the proxy');

      const wire = Buffer.concat(proxy.captured.flatMap((c) => [...c.up, ...c.down]));
      assert.ok(wire.length > 1000, `${wire.length} bytes captured`);
      for (const clear of ['spawn', 'host', target.url, target.url.slice(7), '/fast', '/delay/50', 'numRequests', 'heartbeat', 'Shopper', 'Fast']) {
        assert.equal(wire.includes(clear), false, `"${clear}" crossed the wire in clear`);
      }
    } finally {
      master.kill('SIGKILL');
      await proxy.close();
    }
  });

  it('refuses a bad --master-allow entry as a usage error (exit 2) with a hint', async () => {
    const result = await runCli(['-f', fixture('counting.ts'), '--master', '--master-bind-port', String(await freePort()), '--master-allow', '10.0.0.1/8', '--headless', '-u', '1'],
      { env, timeoutMs: 20_000 });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--master-allow 10\.0\.0\.1\/8: 10\.0\.0\.1 has bits set past the \/8 prefix/);
    assert.match(result.stderr, /hint: write the network address \(e\.g\. 10\.0\.0\.0\/8\), or \/32 for one address/);
    assert.doesNotMatch(result.stderr, /master listening/);
  });

  it('a worker whose master speaks the old protocol version exits with code 2 and says so', async () => {
    const logger = recordingLogger();
    const old = new TransportServer({
      host: '127.0.0.1', port: 0, secret: Buffer.from(SECRET), protocolVersion: PROTOCOL_VERSION - 1, logger,
      onHandshake: () => ({ accept: true }), onConnection: (conn) => conn.close(),
    });
    const { port } = await old.listen();
    try {
      const worker = await runCli(['-f', fixture('counting.ts'), '--worker', '--master-port', String(port), ...fast], { env, timeoutMs: 20_000 });
      assert.equal(worker.code, 2, worker.stderr);
      assert.match(worker.stderr, new RegExp(`protocol version mismatch: the worker speaks version ${PROTOCOL_VERSION}, the master speaks version ${PROTOCOL_VERSION - 1}`));
      assert.doesNotMatch(worker.stderr, /not reachable|retry \d/, 'no retries: a version mismatch is final');
    } finally {
      await old.close();
    }
  });
});
