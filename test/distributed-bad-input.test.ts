// Bad input on the worker protocol against a real master process: an authenticated client sends malformed messages,
// the master logs and ignores each one, and a real worker afterwards still runs to exact counts. Also: bind checks.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadCicadafiles } from '../src/cli/load-cicadafile.ts';
import { PROTOCOL_VERSION } from '../src/runners/messages.ts';
import { connect, type PeerConnection } from '../src/transport/index.ts';
import { fixture, parseCsv, repoRoot, runCli, startCli, startCountingTarget, type CountingTarget, freePort } from './helpers.ts';

const SECRET = 'bad-input-secret-0123456789abcdef';
const fast = ['--heartbeat-interval', '0.2'];
const { version } = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };

const count = (text: string, pattern: RegExp): number => text.match(new RegExp(pattern.source, 'g'))?.length ?? 0;

/** A valid heartbeat, to mutate. */
const heartbeat = { type: 'heartbeat', state: 'ready', userCount: 0, cpu: 0, memory: 0 };

/** An entry shaped like a real one, with `indices` of the given length. */
function entry(indices: number[]) {
  return {
    method: 'GET', name: '/x', numRequests: 1, numFailures: 0, totalResponseTime: 1, minResponseTime: 1, maxResponseTime: 1,
    totalContentLength: 0, startTime: 1, lastRequestTimestamp: 1, histogram: { indices, counts: [1] }, numReqsPerSec: {}, numFailPerSec: {},
  };
}

describe('bad input on the worker protocol', { concurrency: 1 }, () => {
  let target: CountingTarget;
  let dir: string;
  let cicadafileHash: string;
  before(async () => {
    target = await startCountingTarget();
    dir = await mkdtemp(path.join(tmpdir(), 'cicada-bad-input-'));
    cicadafileHash = (await loadCicadafiles([fixture('counting.ts')], repoRoot)).contentHash;
  });
  after(async () => {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the master logs and ignores each malformed message, and real workers afterwards count exactly', async () => {
    target.counts.clear();
    const port = await freePort();
    const prefix = path.join(dir, 'after-bad');
    const env = { CICADA_SECRET: SECRET };
    const master = startCli(['-f', fixture('counting.ts'), '--master', '--master-bind-port', String(port), '--headless', '--expect-workers', '2',
      '--expect-workers-max-wait', '30', '-u', '4', '-r', '100', '-t', '1.5s', '--csv', prefix, ...fast], { env, timeoutMs: 45_000 });
    const fakes: PeerConnection[] = [];
    try {
      await master.waitFor('master listening');
      const rogue = (workerId: string): Promise<PeerConnection> =>
        connect({ host: '127.0.0.1', port, workerId, secret: Buffer.from(SECRET), meta: { version, cicadafileHash }, protocolVersion: PROTOCOL_VERSION });

      const fake = await rogue('rogue-1');
      fakes.push(fake);
      await master.waitFor('worker rogue-1 connected');
      const bad: [string, unknown][] = [
        ['an unknown type', { type: 'takeover', userCount: 1 }],
        ['an extra key', { ...heartbeat, extra: true }],
        ['a `constructor` key', { ...heartbeat, constructor: { prototype: { polluted: 1 } } }],
        ['wrong types', { ...heartbeat, userCount: 'many', cpu: -1 }],
        ['no type at all', { state: 'ready' }],
        ['a stats snapshot with a 1e6-element array', {
          type: 'stats', seq: 1, epoch: 0, final: false, userCount: 0, classes: {},
          snapshot: { time: 1, startTime: 1, entries: [], total: entry(new Array<number>(1_000_000).fill(0)), errors: [], exceptions: [], history: [], userCount: 0, overflowedNames: 0 },
        }],
      ];
      const started = Date.now();
      for (const [, message] of bad) assert.equal(fake.send(message), true);
      const ignored = /ignored an invalid message from worker rogue-1: /;
      // Messages are handled in order: once the last one is logged, all are.
      await master.waitFor(/ignored an invalid message from worker rogue-1: snapshot\./, 10_000);
      const took = Date.now() - started;
      assert.ok(took < 3000, `all ${bad.length} rejected in ${took} ms`);
      // The link survives schema rejections: a valid message afterwards is still taken.
      assert.equal(fake.send(heartbeat), true);
      assert.equal(fake.closed, false);

      // One rogue at a time, so the master never sees the two workers it waits for before the real ones come.
      fake.close('done');
      await master.waitFor('worker rogue-1 disconnected');
      // msgpack refuses `__proto__` keys at the framing layer: that link is closed (not the master), with one line.
      const polluter = await rogue('rogue-2');
      fakes.push(polluter);
      await master.waitFor('worker rogue-2 connected');
      const closed = new Promise<string>((resolve) => polluter.onClose(resolve));
      polluter.send(JSON.parse('{"type":"heartbeat","state":"ready","userCount":0,"cpu":0,"memory":0,"__proto__":{"polluted":true}}'));
      await master.waitFor(/closing link to rogue-2 \(127\.0\.0\.1\): bad frame/, 5000);
      await closed;
      assert.equal(({} as Record<string, unknown>).polluted, undefined);

      // Let both rogues go missing (3 × 0.2 s) so the run is dispatched over the real workers only.
      await master.waitFor(/worker rogue-1 is missing/, 5000);
      await master.waitFor(/worker rogue-2 is missing/, 5000);
      const workers = [0, 1].map(() => startCli(['-f', fixture('counting.ts'), '--worker', '--master-port', String(port), '-H', target.url, ...fast], { env, timeoutMs: 20_000 }));
      const result = await master.done;
      const workerResults = await Promise.all(workers.map((w) => w.done));
      assert.equal(result.code, 1, `404s are failures\n${result.stderr}`);
      for (const w of workerResults) assert.equal(w.code, 0, w.stderr);
      const out = result.stderr;
      assert.equal(count(out, ignored), bad.length, `one line per bad message:\n${out}`);
      for (const line of out.split('\n').filter((l) => ignored.test(l))) assert.ok(line.length < 1000, `a short line: ${line.slice(0, 200)}…`);
      assert.equal(count(out, /closing link to rogue-2/), 1);
      assert.match(out, /ramp complete: 4 users over 2 workers/);
      const rows = parseCsv(await readFile(`${prefix}_stats.csv`, 'utf8'));
      assert.ok(target.total() > 0);
      assert.equal(Number(rows.find((r) => r[1] === 'Aggregated')![2]), target.total(), 'exact counts after the bad input');
    } finally {
      for (const f of fakes) f.close();
      master.kill('SIGKILL');
      await master.done;
    }
  });

  it('refuses a worker of another Cicada version, naming both versions and the fix', async () => {
    const port = await freePort();
    const master = startCli(['-f', fixture('counting.ts'), '--master', '--master-bind-port', String(port), '--headless', '-u', '1', '-t', '30s', ...fast], { env: { CICADA_SECRET: SECRET } });
    try {
      await master.waitFor('master listening');
      await assert.rejects(
        connect({ host: '127.0.0.1', port, workerId: 'old-worker', secret: Buffer.from(SECRET), meta: { version: '0.0.1', cicadafileHash }, protocolVersion: PROTOCOL_VERSION }),
        (error: Error) => new RegExp(`Cicada 0\\.0\\.1 but the master runs ${version.replaceAll('.', '\\.')}: install the same version on both`).test(error.message),
      );
    } finally {
      master.kill('SIGINT');
      await master.done;
    }
  });

  it('refuses to bind the master to 0.0.0.0 without a secret or TLS (exit code 2)', async () => {
    const result = await runCli(['-f', fixture('counting.ts'), '--master', '--master-bind-host', '0.0.0.0', '--master-bind-port', String(await freePort()), '--headless', '-u', '1'],
      { env: { CICADA_SECRET: '' }, timeoutMs: 20_000 });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /refusing to bind the master to 0\.0\.0\.0 without authentication/);
    assert.match(result.stderr, /CICADA_SECRET|--insecure/);
    assert.doesNotMatch(result.stderr, /master listening/);
  });

  it('with --insecure binds 0.0.0.0 with a warning, and stops on SIGINT', async () => {
    const master = startCli(['-f', fixture('counting.ts'), '--master', '--master-bind-host', '0.0.0.0', '--master-bind-port', String(await freePort()), '--insecure',
      '--headless', '-u', '1', ...fast], { env: { CICADA_SECRET: '' }, timeoutMs: 20_000 });
    await master.waitFor(/master listening on 0\.0\.0\.0:\d+/);
    await master.waitFor('waiting for 1 workers'); // the SIGINT handler is in place from here on
    master.kill('SIGINT');
    const result = await master.done;
    assert.match(result.stderr, /WITHOUT authentication \(--insecure\)/);
    assert.equal(result.signal, null, `it exits by itself on SIGINT\n${result.stderr}`);
    assert.notEqual(result.code, 3, result.stderr);
  });
});
