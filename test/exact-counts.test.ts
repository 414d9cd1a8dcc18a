// Every way a run ends, end to end: Cicada's final counts equal what the target received, per `METHOD /path`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fixture, freePort, runCli, startCli, startCountingTarget, until, type CliResult, type CountingTarget } from './helpers.ts';

const SECRET = 'test-secret-0123456789abcdef';
/** Several users, all started at once, so the stop finds requests on the wire. */
const LOAD = ['-u', '5', '-r', '50'];
const HEADLESS = ['--headless', '--only-summary', '--json'];
/** Every run is bounded: a hang fails the test instead of stalling the suite. */
const BOUNDED = { timeoutMs: 20_000 };
/**
 * The console line a stop prints when it has to wait for busy users (`… for 3 requests in flight`, or
 * `… for 3 users to finish` when the client keeps no in-flight count): proof the stop came mid-request.
 */
const IN_FLIGHT_AT_STOP = /stopping: waiting up to 5 s for \d+ (requests? in flight|users? to finish)/;

interface Entry { method: string; name: string; num_requests: number; num_failures: number }

/** Names whose counts differ, as `GET /x: Cicada 4, target 5`. */
function differences(cicada: Record<string, number>, received: Record<string, number>): string {
  const names = [...new Set([...Object.keys(cicada), ...Object.keys(received)])].sort();
  return names.filter((n) => cicada[n] !== received[n]).map((n) => `${n}: Cicada ${cicada[n] ?? 0}, target ${received[n] ?? 0}`).join('; ');
}

/**
 * Cicada's final JSON counts, per `METHOD name`, equal the target's (names on either side only count
 * as a difference), the total is above zero, and no request was cut: the drain let every one finish.
 */
function assertExactCounts(entries: Entry[], target: CountingTarget, result: CliResult): void {
  const cicada = Object.fromEntries(entries.map((e) => [`${e.method} ${e.name}`, e.num_requests]));
  const received = Object.fromEntries(target.counts);
  const total = entries.reduce((sum, e) => sum + e.num_requests, 0);
  assert.ok(total > 0, `Cicada counted no request, so the comparison would prove nothing\n${result.stderr}`);
  assert.deepEqual(cicada, received, `counts differ per name: ${differences(cicada, received)}\n${result.stderr}`);
  assert.equal(total, target.total());
  const failed = entries.filter((e) => e.num_failures > 0 && e.name !== '/status/500');
  assert.deepEqual(failed.map((e) => `${e.method} ${e.name}: ${e.num_failures} failed`), [], `requests were cut or failed\n${result.stderr}`);
}

function entries(stdout: string): Entry[] {
  return JSON.parse(stdout) as Entry[];
}

/** Runs `body` with a fresh counting target (its counts are this test's only) and a temporary folder. */
async function withTarget(body: (target: CountingTarget, dir: string) => Promise<void>): Promise<void> {
  const target = await startCountingTarget();
  const dir = await mkdtemp(path.join(tmpdir(), 'cicada-exact-'));
  try {
    await body(target, dir);
  } finally {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Enough requests for ~1.5 s of LOAD on the mixed fixture: the stop comes mid-run, not at the start. */
const MID_RUN = 45;

describe('exact counts, whichever way the run ends', { concurrency: 1, timeout: 180_000 }, () => {
  it('a time limit (-t 2s) with requests on the wire', () => withTarget(async (target) => {
    const result = await runCli(['-f', fixture('exact-counts/mixed.ts'), '-H', target.url, ...LOAD, '-t', '2s', ...HEADLESS], BOUNDED);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, IN_FLIGHT_AT_STOP);
    assertExactCounts(entries(result.stdout), target, result);
  }));

  it('Ctrl+C (SIGINT to the node process) mid-run', () => withTarget(async (target) => {
    const run = startCli(['-f', fixture('exact-counts/mixed.ts'), '-H', target.url, ...LOAD, ...HEADLESS], BOUNDED);
    await run.waitFor('ramp complete');
    await until(() => target.total() >= MID_RUN, `${MID_RUN} requests at the target`);
    run.kill('SIGINT');
    const result = await run.done;
    assert.equal(result.signal, null, 'ended by itself, not killed by the test timeout');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /SIGINT received: stopping gracefully/);
    assert.match(result.stderr, IN_FLIGHT_AT_STOP);
    assertExactCounts(entries(result.stdout), target, result);
  }));

  it('SIGTERM to the node process mid-run', () => withTarget(async (target) => {
    const run = startCli(['-f', fixture('exact-counts/mixed.ts'), '-H', target.url, ...LOAD, ...HEADLESS], BOUNDED);
    await run.waitFor('ramp complete');
    await until(() => target.total() >= MID_RUN, `${MID_RUN} requests at the target`);
    run.kill('SIGTERM');
    const result = await run.done;
    assert.equal(result.signal, null, 'ended by itself, not killed by the test timeout');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /SIGTERM received: stopping gracefully/);
    assert.match(result.stderr, IN_FLIGHT_AT_STOP);
    assertExactCounts(entries(result.stdout), target, result);
  }));

  it('StopTest thrown from a task while other users\' requests are on the wire', () => withTarget(async (target) => {
    const result = await runCli(['-f', fixture('exact-counts/stop-in-task.ts'), '-H', target.url, ...LOAD, '-t', '10s', ...HEADLESS], BOUNDED);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /25 tasks are enough/);
    assert.match(result.stderr, IN_FLIGHT_AT_STOP);
    assertExactCounts(entries(result.stdout), target, result);
  }));

  it('StopTest thrown from an events.request listener on the 5th failure: the target got 5 and Cicada reports 5 (regression: it reported 4)', () => withTarget(async (target) => {
    const result = await runCli(['-f', fixture('exact-counts/stop-in-listener.ts'), '-H', target.url, '-u', '1', '-r', '50', '-t', '10s', ...HEADLESS], BOUNDED);
    assert.equal(result.code, 1, `the 500s are failures: exit 1\n${result.stderr}`);
    assert.match(result.stderr, /five failures are enough/);
    assert.equal(target.counts.get('GET /status/500'), 5);
    const failing = entries(result.stdout).find((e) => e.name === '/status/500');
    assert.equal(failing?.num_requests, 5, `Cicada's count of the 5 requests the target received\n${result.stderr}`);
    assert.equal(failing.num_failures, 5);
    assertExactCounts(entries(result.stdout), target, result);
  }));

  it('StopTest thrown from an events.request listener while other users\' requests are on the wire', () => withTarget(async (target) => {
    const result = await runCli(['-f', fixture('exact-counts/stop-in-listener.ts'), '-H', target.url, ...LOAD, '-t', '10s', ...HEADLESS], BOUNDED);
    assert.equal(result.code, 1, `the 500s are failures: exit 1\n${result.stderr}`);
    assert.match(result.stderr, /five failures are enough/);
    assert.match(result.stderr, IN_FLIGHT_AT_STOP);
    assert.equal(target.counts.get('GET /status/500'), 5, 'one Failer, stopped at its 5th failure');
    assertExactCounts(entries(result.stdout), target, result);
  }));

  it('a LoadShape returning null with requests on the wire', () => withTarget(async (target) => {
    const result = await runCli(['-f', fixture('exact-counts/shape.ts'), '-H', target.url, '-t', '10s', ...HEADLESS], BOUNDED);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, IN_FLIGHT_AT_STOP);
    assertExactCounts(entries(result.stdout), target, result);
  }));

  it('-s 1 with tasks longer than the stop timeout: tasks go on for 1 s, then no new request, and the requests in flight are counted', () => withTarget(async (target) => {
    const started = Date.now();
    const result = await runCli(['-f', fixture('exact-counts/long-tasks.ts'), '-H', target.url, ...LOAD, '-t', '2s', '-s', '1', ...HEADLESS], BOUNDED);
    const elapsed = Date.now() - started;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /stopping: running tasks may go on for up to 1 s \(-s\/--stop-timeout; 5 users busy/);
    assertExactCounts(entries(result.stdout), target, result);
    // 2 s of run + 1 s of tasks + at most one 300 ms request, plus process start-up; not the 5 s drain.
    assert.ok(elapsed < 9_000, `the run took ${elapsed} ms`);
  }));

  it('a stop from the web UI (POST /stop), then SIGINT: the --json-file counts what the target received', () => withTarget(async (target, dir) => {
    const port = await freePort();
    const jsonFile = path.join(dir, 'web');
    const run = startCli(['-f', fixture('exact-counts/mixed.ts'), '-H', target.url, '--autostart', ...LOAD, '--web-port', String(port), '--json-file', jsonFile], BOUNDED);
    await run.waitFor(`web UI: http://127.0.0.1:${port}/`);
    const url = `http://127.0.0.1:${port}`;
    await until(() => target.total() >= MID_RUN, `${MID_RUN} requests at the target`);
    // Loopback without a users file: GET /session gives the local admin session and its CSRF token.
    const session = await fetch(`${url}/session`);
    assert.equal(session.status, 200);
    const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0]!;
    const { csrfToken } = (await session.json()) as { csrfToken: string };
    const stop = await fetch(`${url}/stop`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(stop.status, 200, await stop.text());
    const state = async (): Promise<string> => ((await (await fetch(`${url}/stats/requests`)).json()) as { state: string }).state;
    await until(async () => (await state()) === 'stopped', 'the stopped state');
    const atStop = target.total();
    run.kill('SIGINT');
    const result = await run.done;
    assert.equal(result.signal, null, 'ended by itself, not killed by the test timeout');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(target.total(), atStop, 'no request after the stop');
    assertExactCounts(JSON.parse(await readFile(`${jsonFile}.json`, 'utf8')) as Entry[], target, result);
  }));

  it('a master stop (-t 2s) with --processes 2: the master\'s totals equal the target\'s', () => withTarget(async (target) => {
    const result = await runCli(['-f', fixture('exact-counts/mixed.ts'), '-H', target.url, '--processes', '2', '--master-bind-port', String(await freePort()),
      ...LOAD, '-t', '2s', ...HEADLESS], BOUNDED);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /started 2 worker processes/);
    assertExactCounts(entries(result.stdout), target, result);
  }));

  it('a master stop (-t 2s) with two separately started --worker processes', () => withTarget(async (target) => {
    const port = await freePort();
    const env = { CICADA_SECRET: SECRET };
    const master = startCli(['-f', fixture('exact-counts/mixed.ts'), '--master', '--master-bind-port', String(port), '--expect-workers', '2',
      ...LOAD, '-t', '2s', ...HEADLESS, '--heartbeat-interval', '0.2'], { ...BOUNDED, env });
    await master.waitFor('master listening');
    const workers = [0, 1].map(() => startCli(['-f', fixture('exact-counts/mixed.ts'), '--worker', '--master-port', String(port), '-H', target.url, '--heartbeat-interval', '0.2'], { ...BOUNDED, env }));
    const result = await master.done;
    const workerResults = await Promise.all(workers.map((w) => w.done));
    assert.equal(result.code, 0, result.stderr);
    for (const w of workerResults) assert.equal(w.code, 0, w.stderr);
    assert.match(result.stderr, /ramp complete: 5 users over 2 workers/);
    assert.ok(workerResults.some((w) => IN_FLIGHT_AT_STOP.test(w.stderr)), `a worker had requests in flight at the stop\n${workerResults.map((w) => w.stderr).join('\n')}`);
    assertExactCounts(entries(result.stdout), target, result);
  }));
});
