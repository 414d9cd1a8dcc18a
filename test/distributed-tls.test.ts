// Distributed runs over mutual TLS with real processes: good certificates count exactly, bad ones are refused for good.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeTlsFixtures } from '../src/transport/tls-fixtures.test-helper.ts';
import { fixture, parseCsv, runCli, startCli, startCountingTarget, type CliRun, type CountingTarget, freePort } from './helpers.ts';

const fast = ['--heartbeat-interval', '0.2'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** No shared secret anywhere: these runs rely on certificates alone. */
const noSecret = { CICADA_SECRET: '' };

async function aggregated(prefix: string): Promise<number> {
  const rows = parseCsv(await readFile(`${prefix}_stats.csv`, 'utf8'));
  return Number(rows.find((r) => r[1] === 'Aggregated')![2]);
}

describe('distributed runs over mutual TLS', { concurrency: 1 }, () => {
  let target: CountingTarget;
  let dir: string;
  let files: Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey' | 'foreignCert' | 'foreignKey' | 'expiredCert' | 'expiredKey', string>;

  before(async () => {
    target = await startCountingTarget();
    dir = await mkdtemp(path.join(tmpdir(), 'cicada-dist-tls-'));
    const certs = makeTlsFixtures();
    try {
      const material = {
        ca: certs.ca, serverCert: certs.serverCert, serverKey: certs.serverKey, clientCert: certs.clientCert, clientKey: certs.clientKey,
        foreignCert: certs.foreignClientCert, foreignKey: certs.foreignClientKey, expiredCert: certs.expiredClientCert, expiredKey: certs.expiredClientKey,
      };
      files = Object.fromEntries(Object.keys(material).map((k) => [k, path.join(dir, `${k}.pem`)])) as typeof files;
      for (const [k, pem] of Object.entries(material)) await writeFile(files[k as keyof typeof files], pem, { mode: 0o600 });
    } finally {
      certs.cleanup();
    }
  });
  after(async () => {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  });

  const masterArgs = (port: number, extra: string[]): string[] => ['-f', fixture('counting.ts'), '--master', '--master-bind-port', String(port), '--headless',
    '--cluster-tls-cert', files.serverCert, '--cluster-tls-key', files.serverKey, '--cluster-tls-ca', files.ca, ...fast, ...extra];
  const workerArgs = (port: number, cert: string | undefined, key: string | undefined): string[] => ['-f', fixture('counting.ts'), '--worker',
    '--master-port', String(port), '-H', target.url, ...(cert && key ? ['--cluster-tls-cert', cert, '--cluster-tls-key', key, '--cluster-tls-ca', files.ca] : []), ...fast];

  it('a master and a worker with certificates from the same CA, and no secret, count exactly', async () => {
    target.counts.clear();
    const port = await freePort();
    const prefix = path.join(dir, 'mtls');
    const master = startCli(masterArgs(port, ['--expect-workers', '2', '-u', '4', '-r', '100', '-t', '1.5s', '--csv', prefix, '--only-summary']), { env: noSecret });
    await master.waitFor('master listening');
    const workers = [0, 1].map(() => startCli(workerArgs(port, files.clientCert, files.clientKey), { env: noSecret }));
    const result = await master.done;
    const workerResults = await Promise.all(workers.map((w) => w.done));
    assert.match(result.stderr, /master listening on 127\.0\.0\.1:\d+ \(mutual TLS\)/);
    assert.doesNotMatch(result.stderr, /shared-secret/);
    assert.equal(result.code, 1, `404s are failures\n${result.stderr}`);
    for (const w of workerResults) assert.equal(w.code, 0, w.stderr);
    assert.match(result.stderr, /ramp complete: 4 users over 2 workers/);
    assert.ok(target.total() > 0);
    assert.equal(await aggregated(prefix), target.total(), 'every request the target saw is counted, no more');
  });

  describe('with one master refusing bad workers', { concurrency: 1 }, () => {
    let port: number;
    let master: CliRun;
    const prefix = (): string => path.join(dir, 'after-refusals');
    before(async () => {
      port = await freePort();
      master = startCli(masterArgs(port, ['--expect-workers', '1', '--expect-workers-max-wait', '60', '-u', '2', '-r', '100', '-t', '1.5s', '--csv', prefix()]),
        { env: noSecret, timeoutMs: 50_000 });
      await master.waitFor('master listening');
    });
    after(async () => {
      master.kill('SIGKILL');
      await master.done;
    });

    it('refuses a worker whose certificate comes from another CA, and the worker exits with code 2', async () => {
      const worker = await runCli(workerArgs(port, files.foreignCert, files.foreignKey), { env: noSecret, timeoutMs: 20_000 });
      assert.equal(worker.code, 2, worker.stderr);
      assert.match(worker.stderr, /refused this worker: .*client certificate rejected: UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
      await master.waitFor(/rejected 127\.0\.0\.1:\d+: client certificate rejected \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/, 5000);
    });

    it('refuses a worker whose certificate has expired, and the worker exits with code 2', async () => {
      const worker = await runCli(workerArgs(port, files.expiredCert, files.expiredKey), { env: noSecret, timeoutMs: 20_000 });
      assert.equal(worker.code, 2, worker.stderr);
      assert.match(worker.stderr, /client certificate rejected: CERT_HAS_EXPIRED/);
      await master.waitFor(/client certificate rejected \(CERT_HAS_EXPIRED\)/, 5000);
    });

    it('a plaintext worker cannot join a TLS master: it keeps retrying with backoff, and stops cleanly on SIGINT', async () => {
      const worker = startCli(workerArgs(port, undefined, undefined), { env: noSecret, timeoutMs: 20_000 });
      // The TLS server cannot tell a plaintext peer why; the worker sees a connection closed mid-handshake, a network failure.
      await worker.waitFor(/not reachable \(the master at 127\.0\.0\.1:\d+ closed the connection during the handshake\); retry 2/, 10_000);
      await master.waitFor(/rejected 127\.0\.0\.1:\d+: TLS handshake failed/, 5000);
      worker.kill('SIGINT');
      const result = await worker.done;
      assert.equal(result.signal, null, 'it exits by itself, not by the test timeout');
      assert.ok(result.code === 0 || result.code === 130, `exit code ${result.code}\n${result.stderr}`);
      assert.doesNotMatch(result.stderr, /connected to the master/);
    });

    it('after those refusals the master still runs a good worker and counts exactly', async () => {
      target.counts.clear();
      await sleep(100);
      const worker = startCli(workerArgs(port, files.clientCert, files.clientKey), { env: noSecret });
      const result = await master.done;
      const workerResult = await worker.done;
      assert.equal(workerResult.code, 0, workerResult.stderr);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /ramp complete: 2 users over 1 workers/);
      assert.equal(await aggregated(prefix()), target.total());
    });
  });
});
