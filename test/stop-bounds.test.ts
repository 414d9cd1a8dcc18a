// Stops that never hang: a target that never answers, and what -t, -s, --drain-timeout and a second Ctrl+C do about it.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixture, freePort, parseCsv, runCli, startCli, until } from './helpers.ts';

interface HangingTarget {
  url: string;
  count(path: string): number;
  close(): Promise<void>;
}

/** `/hang` never answers (until the server closes); anything else answers 200 at once. Counts requests per path. */
async function startHangingTarget(): Promise<HangingTarget> {
  const counts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    counts.set(pathname, (counts.get(pathname) ?? 0) + 1);
    req.resume();
    if (pathname !== '/hang') res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: (p) => counts.get(p) ?? 0,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

interface Entry { name: string; num_requests: number; num_failures: number }

/** The failures CSV rows as `name → { error → occurrences }`. */
async function failures(prefix: string): Promise<Map<string, Map<string, number>>> {
  const rows = parseCsv(await readFile(`${prefix}_failures.csv`, 'utf8'));
  const header = rows[0]!;
  const out = new Map<string, Map<string, number>>();
  for (const row of rows.slice(1)) {
    const name = row[header.indexOf('Name')]!;
    const byError = out.get(name) ?? new Map<string, number>();
    byError.set(row[header.indexOf('Error')]!, Number(row[header.indexOf('Occurrences')]));
    out.set(name, byError);
  }
  return out;
}

describe('stops that never hang', () => {
  let target: HangingTarget;
  let dir: string;
  before(async () => {
    target = await startHangingTarget();
    dir = await mkdtemp(path.join(tmpdir(), 'cicada-stops-'));
  });
  after(async () => {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a time limit against an endpoint that never answers ends after the drain time, requests cut and counted (regression: a 3 s test ran 61 s)', async () => {
    const prefix = path.join(dir, 'limit');
    const before = target.count('/hang');
    const result = await runCli(['-f', fixture('stops/hanging.ts'), '-H', target.url, '-u', '3', '-r', '100', '-t', '1s', '--drain-timeout', '1',
      '--headless', '--only-summary', '--json', '--csv', prefix], { timeoutMs: 30_000 });
    assert.equal(result.signal, null, result.stderr);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /stopping: waiting up to 1 s for 3 requests in flight \(Ctrl\+C to cut them now\)/);
    const hang = (JSON.parse(result.stdout) as Entry[]).find((e) => e.name === '/hang')!;
    const received = target.count('/hang') - before;
    assert.ok(received >= 3);
    assert.equal(hang.num_requests, received, 'every request the target received is counted');
    assert.equal(hang.num_failures, received);
    assert.equal((await failures(prefix)).get('/hang')?.get('cancelled at stop'), received);
  });

  it('-s lets running tasks go on, then the drain bounds the wait: -s 1 --drain-timeout 1 against a hanging endpoint', async () => {
    const prefix = path.join(dir, 'stop-timeout');
    const before = target.count('/hang');
    const result = await runCli(['-f', fixture('stops/hanging.ts'), '-H', target.url, '-u', '2', '-r', '100', '-t', '1s', '-s', '1', '--drain-timeout', '1',
      '--headless', '--only-summary', '--json', '--csv', prefix, ], { timeoutMs: 30_000 });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /stopping: running tasks may go on for up to 1 s/);
    assert.match(result.stderr, /stopping: waiting up to 1 s for 2 requests in flight/);
    const hang = (JSON.parse(result.stdout) as Entry[]).find((e) => e.name === '/hang')!;
    assert.equal(hang.num_requests, target.count('/hang') - before);
    assert.equal((await failures(prefix)).get('/hang')?.get('cancelled at stop'), hang.num_requests);
  });

  it('a master stop with a worker is bounded the same way: the worker cuts its requests after the drain and the master counts them', async () => {
    const prefix = path.join(dir, 'distributed');
    const before = target.count('/hang');
    const result = await runCli(['-f', fixture('stops/hanging.ts'), '-H', target.url, '--processes', '1', '--master-bind-port', String(await freePort()),
      '-u', '2', '-r', '100', '-t', '2s', '--drain-timeout', '1', '--headless', '--only-summary', '--json', '--csv', prefix], { timeoutMs: 40_000 });
    assert.equal(result.code, 1, result.stderr);
    assert.doesNotMatch(result.stderr, /did not confirm the stop in time/);
    const hang = (JSON.parse(result.stdout) as Entry[]).find((e) => e.name === '/hang')!;
    assert.ok(hang.num_requests >= 2);
    assert.equal(hang.num_requests, target.count('/hang') - before);
    assert.equal((await failures(prefix)).get('/hang')?.get('cancelled at stop'), hang.num_requests);
  });

  it('a second Ctrl+C cuts the requests in flight at once and still writes every report', async () => {
    const prefix = path.join(dir, 'second-interrupt');
    const before = target.count('/hang');
    const run = startCli(['-f', fixture('stops/hanging.ts'), '-H', target.url, '-u', '2', '-r', '100', '--drain-timeout', '10m',
      '--headless', '--only-summary', '--json', '--csv', prefix, '--html', path.join(dir, 'second.html')], { timeoutMs: 30_000 });
    await run.waitFor('ramp complete');
    await until(() => target.count('/hang') - before >= 2, 'two requests on the wire');
    run.kill('SIGINT');
    await run.waitFor('stopping: waiting up to 600 s for 2 requests in flight');
    run.kill('SIGINT');
    const result = await run.done;
    assert.equal(result.signal, null, 'ended by itself, not killed by the test timeout');
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /cutting the requests still in flight now/);
    const hang = (JSON.parse(result.stdout) as Entry[]).find((e) => e.name === '/hang')!;
    assert.equal(hang.num_requests, target.count('/hang') - before);
    assert.equal((await failures(prefix)).get('/hang')?.get('cancelled at stop'), hang.num_requests);
    assert.match(await readFile(path.join(dir, 'second.html'), 'utf8'), /cancelled at stop/);
  });
});
