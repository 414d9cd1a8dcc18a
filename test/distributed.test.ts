// Distributed runs with real processes on 127.0.0.1: a master, workers, exact counts, refusals.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fixture, freePort, parseCsv, runCli, startCli, startCountingTarget, type CountingTarget } from './helpers.ts';

const SECRET = 'test-secret-0123456789abcdef';

describe('distributed runs', { concurrency: 1 }, () => {
  let target: CountingTarget;
  let dir: string;
  before(async () => {
    target = await startCountingTarget();
    dir = await mkdtemp(path.join(tmpdir(), 'cicada-dist-'));
  });
  after(async () => {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts a worker whose copy of the same cicadafile sits in another folder (another machine or pod)', async () => {
    const { copyFile, mkdir } = await import('node:fs/promises');
    const a = path.join(dir, 'machine-a');
    const b = path.join(dir, 'elsewhere', 'machine-b');
    await mkdir(a, { recursive: true });
    await mkdir(b, { recursive: true });
    await copyFile(fixture('counting.ts'), path.join(a, 'cicadafile.ts'));
    await copyFile(fixture('counting.ts'), path.join(b, 'cicadafile.ts'));
    const port = await freePort();
    const env = { CICADA_SECRET: SECRET };
    const master = startCli(['-f', path.join(a, 'cicadafile.ts'), '--master', '--master-bind-port', String(port), '--headless', '-u', '2', '-r', '20', '-t', '1s', '--only-summary'], { env });
    await master.waitFor('master listening');
    const worker = startCli(['-f', path.join(b, 'cicadafile.ts'), '--worker', '--master-port', String(port), '-H', target.url], { env, cwd: b });
    const result = await master.done;
    assert.doesNotMatch(result.stderr, /cicadafile differs/);
    assert.match(result.stderr, /ramp complete: 2 users over 1 workers/);
    assert.equal((await worker.done).code, 0);
  });

  it('a master and three worker processes count exactly what the target received, per name', async () => {
    target.counts.clear();
    const port = await freePort();
    const env = { CICADA_SECRET: SECRET };
    const prefix = path.join(dir, 'three');
    const master = startCli(['-f', fixture('counting.ts'), '--master', '--master-bind-port', String(port), '--expect-workers', '3', '--headless',
      '-u', '9', '-r', '30', '-t', '3s', '--only-summary', '--csv', prefix, '--heartbeat-interval', '0.2'], { env });
    await master.waitFor('master listening');
    const workers = [0, 1, 2].map(() => startCli(['-f', fixture('counting.ts'), '--worker', '--master-port', String(port), '-H', target.url, '--heartbeat-interval', '0.2'], { env }));
    const result = await master.done;
    const workerResults = await Promise.all(workers.map((w) => w.done));
    assert.equal(result.code, 1, `404s are failures\n${result.stderr}`);
    for (const w of workerResults) assert.equal(w.code, 0, w.stderr);
    assert.match(result.stderr, /ramp complete: 9 users over 3 workers/);
    const rows = parseCsv(await readFile(`${prefix}_stats.csv`, 'utf8'));
    const byName = new Map(rows.slice(1).map((r) => [`${r[0]} ${r[1]}`, Number(r[2])]));
    assert.equal(byName.get('GET /fast'), target.counts.get('GET /fast'));
    assert.equal(byName.get('POST /delay/50'), target.counts.get('POST /delay/50'));
    const items = [...target.counts].filter(([k]) => k.startsWith('GET /items/')).reduce((s, [, n]) => s + n, 0);
    assert.equal(byName.get('GET /items/[id]'), items);
    assert.equal(byName.get(' Aggregated'), target.total());
  });

  it('--processes 2 runs a master and two local workers with a generated secret', async () => {
    target.counts.clear();
    const port = await freePort();
    const result = await runCli(['-f', fixture('counting.ts'), '-H', target.url, '--processes', '2', '--master-bind-port', String(port), '--headless',
      '-u', '4', '-r', '20', '-t', '2s', '--json', '--only-summary']);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /started 2 worker processes/);
    const entries = JSON.parse(result.stdout) as { name: string; num_requests: number }[];
    assert.equal(entries.find((e) => e.name === '/fast')?.num_requests, target.counts.get('GET /fast'));
  });

  it('a master that no worker reaches within --expect-workers-max-wait fails (exit 2) instead of passing with no load', async () => {
    const port = await freePort();
    const result = await runCli(['-f', fixture('counting.ts'), '--master', '--master-bind-port', String(port), '--headless', '-u', '1', '-t', '5s', '--expect-workers-max-wait', '1'], { env: { CICADA_SECRET: SECRET } });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /no worker connected within 1 s/);
  });

  it('a worker with a wrong secret is refused and exits with code 2, without the secret in any output', async () => {
    const port = await freePort();
    const master = startCli(['-f', fixture('counting.ts'), '--master', '--master-bind-port', String(port), '--headless', '-u', '1', '-t', '5s', '--expect-workers-max-wait', '30'], { env: { CICADA_SECRET: SECRET } });
    await master.waitFor('master listening');
    const worker = await runCli(['-f', fixture('counting.ts'), '--worker', '--master-port', String(port), '-H', target.url], { env: { CICADA_SECRET: 'wrong-secret-0123456789abcdef' } });
    master.kill('SIGINT');
    const masterResult = await master.done;
    assert.equal(worker.code, 2, worker.stderr);
    // Regression: "the master refused this worker: the master ... failed to prove" (wrong side named, doubled prefix).
    assert.match(worker.stderr, /this worker refused the master at 127\.0\.0\.1:\d+: the master's proof of the shared secret failed/);
    assert.match(worker.stderr, /hint: give the master and every worker the same secret \(CICADA_SECRET or --secret-file\)/);
    assert.doesNotMatch(worker.stderr, /the master refused this worker/);
    for (const output of [worker.stdout, worker.stderr, masterResult.stdout, masterResult.stderr]) {
      assert.ok(!output.includes(SECRET) && !output.includes('wrong-secret-0123456789abcdef'), 'no secret printed');
    }
  });

  it('a worker with a different cicadafile is refused with a message that says so, once (regression: a doubled "the master refused this worker:" prefix)', async () => {
    const port = await freePort();
    const master = startCli(['-f', fixture('counting.ts'), '--master', '--master-bind-port', String(port), '--headless', '-u', '1', '-t', '5s', '--expect-workers-max-wait', '30'], { env: { CICADA_SECRET: SECRET } });
    await master.waitFor('master listening');
    const worker = await runCli(['-f', fixture('tagged.ts'), '--worker', '--master-port', String(port), '-H', target.url], { env: { CICADA_SECRET: SECRET } });
    master.kill('SIGINT');
    await master.done;
    assert.equal(worker.code, 2, worker.stderr);
    assert.match(worker.stderr, /cicadafile differs from the master's/);
    assert.equal(worker.stderr.split('the master refused this worker').length - 1, 1, worker.stderr);
  });

  it('custom messages cross the link from workers to the master, and stay local in one process', async () => {
    const port = await freePort();
    const env = { CICADA_SECRET: SECRET };
    const master = startCli(['-f', fixture('messages.ts'), '--master', '--master-bind-port', String(port), '--headless', '-u', '2', '-r', '10', '-t', '2s', '--only-summary', '--heartbeat-interval', '0.2'], { env });
    await master.waitFor('master listening');
    const worker = startCli(['-f', fixture('messages.ts'), '--worker', '--master-port', String(port), '-H', target.url, '--heartbeat-interval', '0.2'], { env });
    const result = await master.done;
    await worker.done;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr.match(/GOT hello \{"user":\d+\} from a worker/g)?.length, 2, result.stderr);
    const local = await runCli(['-f', fixture('messages.ts'), '-H', target.url, '--headless', '-u', '1', '-r', '10', '-t', '1s', '--only-summary']);
    assert.match(local.stderr, /GOT hello \{"user":1\} from local/);
  });

  it('SIGTERM to the master stops every worker, collects their final reports, writes reports and exits 0', async () => {
    target.counts.clear();
    const port = await freePort();
    const env = { CICADA_SECRET: SECRET };
    const prefix = path.join(dir, 'sigterm');
    const master = startCli(['-f', fixture('tagged.ts'), '--master', '--master-bind-port', String(port), '--expect-workers', '2', '--headless',
      '-u', '4', '-r', '50', '--csv', prefix, '--only-summary', '--heartbeat-interval', '0.2'], { env });
    await master.waitFor('master listening');
    const workers = [0, 1].map(() => startCli(['-f', fixture('tagged.ts'), '--worker', '--master-port', String(port), '-H', target.url, '--heartbeat-interval', '0.2'], { env }));
    await master.waitFor('ramp complete: 4 users over 2 workers');
    await new Promise((r) => setTimeout(r, 700));
    master.kill('SIGTERM');
    const result = await master.done;
    const workerResults = await Promise.all(workers.map((w) => w.done));
    assert.equal(result.code, 0, result.stderr);
    for (const w of workerResults) assert.equal(w.code, 0, w.stderr);
    const rows = parseCsv(await readFile(`${prefix}_stats.csv`, 'utf8'));
    assert.equal(Number(rows.find((r) => r[1] === 'Aggregated')![2]), target.total(), 'final reports collected: exact totals');
  });

  it('--worker --processes 2 starts two worker processes for one master', async () => {
    target.counts.clear();
    const port = await freePort();
    const env = { CICADA_SECRET: SECRET };
    const master = startCli(['-f', fixture('tagged.ts'), '--master', '--master-bind-port', String(port), '--expect-workers', '2', '--headless',
      '-u', '4', '-r', '50', '-t', '2s', '--json', '--only-summary', '--heartbeat-interval', '0.2'], { env });
    await master.waitFor('master listening');
    const workers = startCli(['-f', fixture('tagged.ts'), '--worker', '--processes', '2', '--master-port', String(port), '-H', target.url, '--heartbeat-interval', '0.2'], { env });
    const result = await master.done;
    const workersResult = await workers.done;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(workersResult.code, 0, workersResult.stderr);
    assert.match(result.stderr, /ramp complete: 4 users over 2 workers/);
    const entries = JSON.parse(result.stdout) as { num_requests: number }[];
    assert.equal(entries.reduce((a, e) => a + e.num_requests, 0), target.total());
  });

  it('a master whose port is taken says so and exits 2', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const result = await runCli(['-f', fixture('tagged.ts'), '--master', '--master-bind-port', String(port), '--headless', '-t', '2s'], { env: { CICADA_SECRET: SECRET } });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use`));
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
