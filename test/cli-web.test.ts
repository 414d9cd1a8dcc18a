// The web UI from the command line: --autostart/--autoquit with exact counts and reports, auth refusals, hash-password, --processes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fixture, freePort, parseCsv, repoRoot, runCli, startCli, startCountingTarget, type CountingTarget } from './helpers.ts';
import { parsePasswordHash } from '../src/web/password.ts';

let target: CountingTarget;
before(async () => {
  target = await startCountingTarget();
});
after(() => target.close());

/** Polls `check` until it holds (a loaded CI machine may be slow; no fixed sleeps). */
async function until(check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function session(url: string): Promise<{ cookie: string; token: string }> {
  const res = await fetch(`${url}/session`);
  assert.equal(res.status, 200);
  return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!, token: ((await res.json()) as { csrfToken: string }).csrfToken };
}

describe('cicada with the web UI', () => {
  it('--autostart runs the test with the UI up, --autoquit quits after it; reports count exactly what the target saw', async () => {
    const port = await freePort();
    const dir = await mkdtemp(path.join(tmpdir(), 'cicada-web-'));
    const before = target.total();
    const run = startCli(['-f', fixture('counting.ts'), '-H', target.url, '-u', '4', '-r', '20', '-t', '3', '--autostart', '--autoquit', '1',
      '--web-port', String(port), '--csv', path.join(dir, 'run'), '--html', path.join(dir, 'report.html')], { timeoutMs: 40_000 });
    await run.waitFor(`web UI: http://127.0.0.1:${port}/`);
    const url = `http://127.0.0.1:${port}`;
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<script type="module"[^>]*src="\/assets\/[\w-]+\.js"/, 'the built UI is served');
    assert.doesNotMatch(html, /<script>(?!<\/script>)/, 'no inline script in the page');
    const live = (await (await fetch(`${url}/stats/requests`)).json()) as { state: string; user_count: number };
    assert.ok(['spawning', 'running'].includes(live.state), `the UI is up while the run goes (${live.state})`);
    const result = await run.done;
    assert.equal(result.code, 1, `the fixture's /status/404 requests are failures: exit code 1\n${result.stderr}`);
    assert.match(result.stderr, /--autoquit/);
    const rows = parseCsv(await readFile(path.join(dir, 'run_stats.csv'), 'utf8'));
    const aggregated = rows.find((r) => r[1] === 'Aggregated')!;
    assert.equal(Number(aggregated[2]), target.total() - before, 'every request the target received is counted');
    assert.match(await readFile(path.join(dir, 'report.html'), 'utf8'), /<html/);
  });

  it('is driven over the API: start, change the count, stop, start again, then quits on SIGTERM with exit code 0 when nothing failed', async () => {
    const port = await freePort();
    const run = startCli(['-f', fixture('tagged.ts'), '-H', target.url, '--web-port', String(port)], { timeoutMs: 40_000 });
    await run.waitFor('web UI:');
    const url = `http://127.0.0.1:${port}`;
    const { cookie, token } = await session(url);
    const post = (p: string, body?: unknown): Promise<Response> => fetch(`${url}${p}`, { method: 'POST', headers: { cookie, 'x-csrf-token': token, 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
    const stats = async (): Promise<{ state: string; user_count: number; target_user_count: number }> => (await fetch(`${url}/stats/requests`)).json() as never;
    assert.equal((await stats()).state, 'ready');
    assert.equal((await post('/swarm', { user_count: 2, spawn_rate: 50 })).status, 200);
    await until(async () => (await stats()).user_count === 2, '2 users');
    assert.equal((await post('/swarm', { user_count: 5, spawn_rate: 50 })).status, 200);
    await until(async () => (await stats()).user_count === 5, '5 users');
    assert.equal((await post('/stop')).status, 200);
    assert.equal((await stats()).state, 'stopped');
    assert.equal((await post('/swarm', { user_count: 1, spawn_rate: 50 })).status, 200);
    await until(async () => (await stats()).user_count === 1, '1 user in the new run');
    await new Promise((r) => setTimeout(r, 2500));
    const history = await (await fetch(`${url}/stats/requests_full_history/csv`, { headers: { cookie } })).text();
    const rows = history.trim().split('\n');
    assert.match(rows[0]!, /^Timestamp,User Count,Type,Name/);
    assert.ok(rows.length >= 3, `a row per second of the new run (${rows.length - 1} rows)`);
    run.kill('SIGTERM');
    const result = await run.done;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Aggregated/, 'the final summary is printed');
  });

  it('starts a cicadafile\'s LoadShape from /swarm without a user count, and the shape ends the run', async () => {
    const port = await freePort();
    const run = startCli(['-f', fixture('shape.ts'), '-H', target.url, '--web-port', String(port)], { timeoutMs: 40_000 });
    await run.waitFor('web UI:');
    const url = `http://127.0.0.1:${port}`;
    const { cookie, token } = await session(url);
    const config = (await (await fetch(`${url}/config`)).json()) as { shape_class: string | null };
    assert.equal(config.shape_class, 'TwoSteps');
    const res = await fetch(`${url}/swarm`, { method: 'POST', headers: { cookie, 'x-csrf-token': token, 'content-type': 'application/json' }, body: '{}' });
    assert.deepEqual(await res.json(), { success: true, message: "Swarming started using shape class 'TwoSteps'" });
    const stats = async (): Promise<{ state: string; user_count: number }> => (await fetch(`${url}/stats/requests`)).json() as never;
    await until(async () => (await stats()).user_count === 3, 'the shape\'s 3 users');
    await until(async () => (await stats()).state === 'stopped', 'the shape to end the run');
    run.kill('SIGTERM');
    assert.equal((await run.done).code, 0);
  });

  it('--processes 2 shows both workers over the API', async () => {
    const port = await freePort();
    const masterPort = await freePort();
    const run = startCli(['-f', fixture('counting.ts'), '-H', target.url, '--processes', '2', '--master-bind-port', String(masterPort), '--web-port', String(port),
      '-u', '4', '-r', '20', '-t', '3', '--autostart', '--autoquit', '0'], { timeoutMs: 60_000 });
    await run.waitFor('web UI:');
    const url = `http://127.0.0.1:${port}`;
    let workers: { id: string; state: string; user_count: number }[] = [];
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const body = (await (await fetch(`${url}/stats/requests`)).json()) as { workers?: typeof workers; worker_count?: number; user_count: number };
      workers = body.workers ?? [];
      if (workers.length === 2 && body.user_count === 4) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(workers.length, 2);
    assert.deepEqual(workers.map((w) => w.user_count).sort(), [2, 2]);
    const config = (await (await fetch(`${url}/config`)).json()) as { distributed: boolean };
    assert.equal(config.distributed, true);
    const result = await run.done;
    assert.equal(result.code, 1, result.stderr);
  });

  it('refuses a non-loopback bind without authentication, and warns with --insecure', async () => {
    const refused = await runCli(['-f', fixture('counting.ts'), '--web-host', '0.0.0.0', '--web-port', String(await freePort())]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /refusing to serve the web UI on 0\.0\.0\.0 without authentication/);
    assert.match(refused.stderr, /--web-users/);
    const port = await freePort();
    const insecure = startCli(['-f', fixture('counting.ts'), '-H', target.url, '--web-host', '0.0.0.0', '--web-port', String(port), '--insecure'], { timeoutMs: 30_000 });
    await insecure.waitFor('web UI:');
    insecure.kill('SIGTERM');
    const result = await insecure.done;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /listens on 0\.0\.0\.0 WITHOUT authentication \(--insecure\)/);
  });

  it('explains a web port in use, a missing users file and a bad one', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busy = (blocker.address() as net.AddressInfo).port;
    const taken = await runCli(['-f', fixture('counting.ts'), '--web-port', String(busy)]);
    assert.equal(taken.code, 2);
    assert.match(taken.stderr, /cannot listen on 127\.0\.0\.1:\d+: the port is already in use/);
    blocker.close();
    const missing = await runCli(['-f', fixture('counting.ts'), '--web-users', '/nonexistent/users.toml']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--web-users \/nonexistent\/users\.toml: cannot read it \(ENOENT\)/);
    const dir = await mkdtemp(path.join(tmpdir(), 'cicada-users-'));
    await writeFile(path.join(dir, 'users.toml'), '[[users]]\nname = "ann"\nrole = "boss"\npassword_hash = "x"\n');
    const bad = await runCli(['-f', fixture('counting.ts'), '--web-users', path.join(dir, 'users.toml')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /role must be one of viewer, operator, admin/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
  });
});

describe('cicada with the web UI over HTTPS', () => {
  it('refuses a swapped certificate and key with a usage error, not a crash', async () => {
    const { makeTlsFixtures } = await import('../src/transport/tls-fixtures.test-helper.ts');
    const tls = makeTlsFixtures();
    const dir = await mkdtemp(path.join(tmpdir(), 'cicada-web-tls-'));
    await writeFile(path.join(dir, 'cert.pem'), tls.serverCert);
    await writeFile(path.join(dir, 'key.pem'), tls.serverKey);
    const swapped = await runCli(['-f', fixture('counting.ts'), '--web-port', String(await freePort()), '--tls-cert', path.join(dir, 'key.pem'), '--tls-key', path.join(dir, 'cert.pem')]);
    tls.cleanup();
    assert.equal(swapped.code, 2, swapped.stderr);
    assert.match(swapped.stderr, /cannot serve HTTPS/);
    assert.doesNotMatch(swapped.stderr, /internal error|\n\s+at /);
  });
});

describe('cicada hash-password', () => {
  function hash(input: string, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'cicada.mjs'), 'hash-password', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input);
    });
  }

  it('prints a hash the users file accepts; a trailing newline is not part of the password', async () => {
    const piped = await hash('long enough secret\n');
    assert.equal(piped.code, 0, piped.stderr);
    const parsed = parsePasswordHash(piped.stdout.trim());
    assert.notEqual(typeof parsed, 'string');
    const { verifyPassword } = await import('../src/web/password.ts');
    assert.equal(await verifyPassword('long enough secret', parsed as Exclude<typeof parsed, string>), true);
  });

  it('refuses a short password, an empty input and a password given as an argument', async () => {
    const short = await hash('abc');
    assert.equal(short.code, 2);
    assert.match(short.stderr, /too short/);
    const empty = await hash('');
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /no password given/);
    const arg = await hash('', ['hunter2hunter2']);
    assert.equal(arg.code, 2);
    assert.match(arg.stderr, /takes no arguments/);
  });
});
