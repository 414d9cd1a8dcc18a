// Faults in distributed runs with real processes: a killed worker, a cut link, a vanished master.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fixture, freePort, parseCsv, startCli, startCountingTarget, type CountingTarget } from './helpers.ts';

const env = { CICADA_SECRET: 'fault-test-secret-0123456789' };
const fast = ['--heartbeat-interval', '0.2'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP proxy to the master whose link can be cut (every socket destroyed, new ones refused) and restored. */
async function startProxy(targetPort: number) {
  const sockets = new Set<net.Socket>();
  let open = true;
  const server = net.createServer((client) => {
    if (!open) return client.destroy();
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut: () => {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore: () => {
      open = true;
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

async function statsTotal(prefix: string): Promise<number> {
  const rows = parseCsv(await readFile(`${prefix}_stats.csv`, 'utf8'));
  return Number(rows.find((r) => r[1] === 'Aggregated')![2]);
}

describe('faults in distributed runs', { concurrency: 1 }, () => {
  let target: CountingTarget;
  let dir: string;
  before(async () => {
    target = await startCountingTarget();
    dir = await mkdtemp(path.join(tmpdir(), 'cicada-faults-'));
  });
  after(async () => {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a worker killed with SIGKILL is marked missing within three heartbeats and its users move to the survivors', async () => {
    target.counts.clear();
    const port = await freePort();
    const prefix = path.join(dir, 'kill');
    const master = startCli(['-f', fixture('counting.ts'), '--master', '--master-bind-port', String(port), '--expect-workers', '3', '--headless',
      '-u', '9', '-r', '100', '-t', '5s', '--csv', prefix, ...fast], { env });
    await master.waitFor('master listening');
    const workers = [0, 1, 2].map(() => startCli(['-f', fixture('counting.ts'), '--worker', '--master-port', String(port), '-H', target.url, ...fast], { env }));
    await master.waitFor('ramp complete: 9 users over 3 workers');
    await sleep(1000);
    const killedAt = Date.now();
    workers[0]!.kill('SIGKILL');
    await master.waitFor(/is missing \(no heartbeat for [\d.]+ s\)/, 5000);
    const detectedIn = Date.now() - killedAt;
    assert.ok(detectedIn < 2000, `missing after ${detectedIn} ms (3 × 0.2 s heartbeats + one check)`);
    await master.waitFor('re-dispatched 9 users over 2 workers', 2000);
    const result = await master.done;
    await Promise.all(workers.slice(1).map((w) => w.done));
    assert.match(result.stdout, /Aggregated/);
    const reported = await statsTotal(prefix);
    const shortfall = target.total() - reported;
    assert.ok(shortfall >= 0, 'never more than the target saw');
    // The killed worker's requests after its last report (≤ 0.2 s of 3 users, plus in-flight ones) are lost, no more.
    assert.ok(shortfall < 400, `shortfall ${shortfall} requests`);
  });

  it('a worker whose link is cut reconnects under the same id without double counting', async () => {
    target.counts.clear();
    const port = await freePort();
    const proxy = await startProxy(port);
    try {
      const prefix = path.join(dir, 'cut');
      const master = startCli(['-f', fixture('counting.ts'), '--master', '--master-bind-port', String(port), '--expect-workers', '1', '--headless',
        '-u', '3', '-r', '100', '-t', '5s', '--csv', prefix, '--heartbeat-liveness', '10', ...fast], { env });
      await master.waitFor('master listening');
      const worker = startCli(['-f', fixture('counting.ts'), '--worker', '--master-port', String(proxy.port), '-H', target.url, ...fast], { env });
      await master.waitFor('ramp complete');
      await sleep(800);
      proxy.cut();
      await sleep(800);
      proxy.restore();
      await master.waitFor(/worker \S+ reconnected/, 5000);
      const result = await master.done;
      const workerResult = await worker.done;
      assert.equal(workerResult.code, 0, workerResult.stderr);
      assert.match(workerResult.stderr, /lost the master/);
      assert.equal(await statsTotal(prefix), target.total(), `exact after a reconnect\n${result.stderr}`);
    } finally {
      await proxy.close();
    }
  });

  it('workers stop generating load when the master has been gone longer than the master timeout', async () => {
    target.counts.clear();
    const port = await freePort();
    const master = startCli(['-f', fixture('counting.ts'), '--master', '--master-bind-port', String(port), '--headless', '-u', '2', '-r', '100', ...fast], { env });
    await master.waitFor('master listening');
    const worker = startCli(['-f', fixture('counting.ts'), '--worker', '--master-port', String(port), '-H', target.url, '--master-timeout', '1', ...fast], { env });
    try {
      await master.waitFor('ramp complete');
      await sleep(300);
      master.kill('SIGKILL');
      await worker.waitFor(/no word from the master for \d+ s: stopping this worker's users/, 5000);
      await sleep(500);
      const settled = target.total();
      await sleep(1000);
      assert.equal(target.total(), settled, 'no requests after the worker stopped its users');
    } finally {
      worker.kill('SIGKILL');
      await worker.done;
      await master.done;
    }
  });
});
