// Executors end to end: the open model, iteration counts and scenarios from the cicadafile, cicada.toml and the shortcuts, against a real target.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixture, freePort, parseCsv, runCli, startCountingTarget, type CountingTarget } from './helpers.ts';

interface JsonEntry { name: string; method: string; num_requests: number; num_failures: number }

/** The Scenarios table row of one scenario: iterations, failed, dropped, interrupted. */
function scenarioRow(stdout: string, name: string): { iterations: number; failed: number; dropped: number; interrupted: number } {
  const line = stdout.split('\n').find((l) => l.startsWith(`${name} `) && /arrival-rate|iterations/.test(l));
  assert.ok(line, `no Scenarios row for ${name} in:\n${stdout}`);
  const [iterations, failed, dropped, interrupted] = line.trim().split(/\s+/).slice(2, 6).map(Number);
  return { iterations: iterations!, failed: failed!, dropped: dropped!, interrupted: interrupted! };
}

describe('executors and scenarios from the command line', { concurrency: 2 }, () => {
  let target: CountingTarget;
  let dir: string;
  before(async () => {
    target = await startCountingTarget();
    dir = await mkdtemp(path.join(tmpdir(), 'cicada-scenarios-'));
  });
  after(() => target.close());

  const run = (args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}) =>
    runCli([...args, '-H', target.url, '--headless', '--only-summary'], { timeoutMs: 60_000, ...options });

  it('--arrival-rate 40 -t 2s starts exactly 80 iterations: the target saw 80 and Cicada reports 80', async () => {
    const json = path.join(dir, 'rate');
    const result = await run(['-f', fixture('scenarios/open.ts'), 'Caller', '--arrival-rate', '40', '-t', '2s', '--json-file', json], { env: { TARGET_PATH: '/rate-40' } });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(target.counts.get('GET /rate-40'), 80);
    const entries = JSON.parse(await readFile(`${json}.json`, 'utf8')) as JsonEntry[];
    assert.equal(entries.find((e) => e.name === '/rate-40')?.num_requests, 80);
    assert.deepEqual(scenarioRow(result.stdout, 'default'), { iterations: 80, failed: 0, dropped: 0, interrupted: 0 });
    assert.match(result.stdout, /constant-arrival-rate/);
  });

  it('drops and counts the iterations no user was free for, and never queues them (slow target, --max-users 2)', async () => {
    const before = target.counts.get('GET /delay/400') ?? 0;
    const result = await run(['-f', fixture('scenarios/open.ts'), 'Sleeper', '--arrival-rate', '20', '--max-users', '2', '--pre-allocated-users', '1', '-t', '2s']);
    assert.equal(result.code, 0, result.stderr);
    const row = scenarioRow(result.stdout, 'default');
    const seen = (target.counts.get('GET /delay/400') ?? 0) - before;
    assert.equal(row.iterations + row.dropped, 40, 'every scheduled arrival ran or was dropped');
    assert.ok(row.dropped > 20, `at most 2 users busy 400 ms each cannot run 20/s: dropped ${row.dropped}`);
    assert.equal(seen, row.iterations, 'the target saw exactly the iterations that ran');
  });

  it('-i 37 -u 4 runs exactly 37 iterations and stops by itself', async () => {
    const started = Date.now();
    const result = await run(['-f', fixture('scenarios/open.ts'), 'Caller', '-i', '37', '-u', '4'], { env: { TARGET_PATH: '/iterations-37' } });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(target.counts.get('GET /iterations-37'), 37);
    assert.equal(scenarioRow(result.stdout, 'default').iterations, 37);
    assert.ok(Date.now() - started < 30_000);
  });

  it('-i with -t: maxDuration ends the count early and the summary says how many iterations were not run', async () => {
    const result = await run(['-f', fixture('scenarios/open.ts'), 'Caller', '-i', '1000', '-u', '1', '-t', '1s'], { env: { TARGET_PATH: '/delay/50' } });
    assert.equal(result.code, 0, result.stderr);
    const ran = scenarioRow(result.stdout, 'default').iterations;
    const notRun = Number(/default: maxDuration ended it with (\d+) iterations not run/.exec(result.stdout)?.[1]);
    assert.ok(ran > 5 && ran < 30, `one user at ~50 ms per iteration for 1 s: ${ran}`);
    assert.equal(ran + notRun, 1000);
    assert.match(result.stderr, /scenario default: maxDuration reached with \d+ iterations not run/);
  });

  it('runs the scenarios a cicadafile exports, each on its classes, with per-scenario rows named `name [scenario]`', async () => {
    const csv = path.join(dir, 'two');
    const result = await run(['-f', fixture('scenarios/two.ts'), '--csv', csv]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(scenarioRow(result.stdout, 'steady'), { iterations: 50, failed: 0, dropped: 0, interrupted: 0 });
    assert.deepEqual(scenarioRow(result.stdout, 'batch'), { iterations: 12, failed: 0, dropped: 0, interrupted: 0 });
    const rows = parseCsv(await readFile(`${csv}_stats.csv`, 'utf8'));
    assert.deepEqual(rows[0]?.slice(0, 4), ['Type', 'Name', 'Request Count', 'Failure Count'], "Locust's columns are kept");
    const byName = new Map(rows.slice(1).map((r) => [`${r[0]} ${r[1]}`, Number(r[2])]));
    assert.equal(byName.get('GET /two-read [steady]'), 50);
    assert.equal(byName.get('POST /two-write [batch]'), 12);
  });

  it('--scenario picks one of them (its rows keep their plain names)', async () => {
    const result = await run(['-f', fixture('scenarios/two.ts'), '--scenario', 'batch']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(scenarioRow(result.stdout, 'batch').iterations, 12);
    assert.doesNotMatch(result.stdout, /^steady /m);
    assert.match(result.stdout, /POST\s+\/two-write\s+12/);
  });

  it('reads [scenarios.NAME] tables from cicada.toml', async () => {
    const cwd = await mkdtemp(path.join(dir, 'toml-'));
    await writeFile(path.join(cwd, 'cicada.toml'), `[scenarios.fromtoml]\nexecutor = "shared-iterations"\nusers = 2\niterations = 9\n`);
    const result = await run(['-f', fixture('scenarios/open.ts'), 'Caller'], { cwd, env: { TARGET_PATH: '/toml' } });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(scenarioRow(result.stdout, 'fromtoml').iterations, 9);
    assert.equal(target.counts.get('GET /toml'), 9);
  });

  it('a paced user: the summary adds percentiles corrected for coordinated omission, which show the stall the raw ones hide', async () => {
    const json = path.join(dir, 'paced');
    const result = await run(['-f', fixture('scenarios/paced.ts'), '-u', '1', '-r', '1', '-t', '3s', '--json-file', json]);
    assert.equal(result.code, 0, result.stderr);
    const [, corrected] = result.stdout.split('corrected for coordinated omission');
    assert.ok(corrected, result.stdout);
    // The Aggregated row: 50% 66% 75% 80% 90% …: the fifth number.
    const p90 = (text: string): number => Number(text.split('\n').find((l) => l.trim().startsWith('Aggregated'))?.trim().split(/\s+/)[5]);
    const raw = result.stdout.split('Response time percentiles (ms)\n')[1]!;
    assert.ok(p90(raw) < 100, `raw p90 hides the one stalled second: ${p90(raw)}`);
    assert.ok(p90(corrected) >= 500, `corrected p90 shows it: ${p90(corrected)}`);
    const entries = JSON.parse(await readFile(`${json}.json`, 'utf8')) as (JsonEntry & { corrected_response_time_percentiles?: Record<string, number> })[];
    assert.ok((entries[0]?.corrected_response_time_percentiles?.['0.9'] ?? 0) >= 500);
  });

  describe('refuses bad scenarios with exit 2 and a message that says how to fix them', () => {
    const cases: [string, RegExp][] = [
      ['executor', /unknown executor 'constant-arival-rate'[\s\S]*did you mean 'constant-arrival-rate'/],
      ['field', /'rate' is not a field of the shared-iterations executor \(it belongs to constant-arrival-rate\)/],
      ['rate', /rate must be a number > 0, got 0/],
      ['pool', /maxUsers \(5\) is less than preAllocatedUsers \(20\)/],
      ['klass', /no user class 'Writter' in the cicadafile[\s\S]*did you mean Writer/],
      ['stages', /stages must be a list of \{ duration, target \}/],
    ];
    for (const [bad, message] of cases) {
      it(`BAD=${bad}`, async () => {
        const result = await run(['-f', fixture('scenarios/bad.ts')], { env: { BAD: bad } });
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, message);
        assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
      });
    }
    it('a scenario with no class left after -E', async () => {
      const result = await run(['-f', fixture('scenarios/bad.ts'), '-E', 'slow'], { env: { BAD: 'tagged' } });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /scenario 'oops' has no user class left to run \(Tagged is left out by -T\/-E/);
    });
    it('the same name in the cicadafile and cicada.toml', async () => {
      const cwd = await mkdtemp(path.join(dir, 'dup-'));
      await writeFile(path.join(cwd, 'cicada.toml'), '[scenarios.steady]\nexecutor = "shared-iterations"\n');
      const result = await run(['-f', fixture('scenarios/two.ts')], { cwd });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /scenario 'steady' is defined twice: in the cicadafile and in cicada\.toml/);
    });
    it('--arrival-rate without -t, --max-users without --arrival-rate, an unknown --scenario', async () => {
      const noTime = await run(['-f', fixture('scenarios/open.ts'), '--arrival-rate', '5']);
      assert.equal(noTime.code, 2);
      assert.match(noTime.stderr, /--arrival-rate needs -t\/--run-time/);
      const noRate = await run(['-f', fixture('scenarios/open.ts'), '--max-users', '5', '-t', '1s']);
      assert.equal(noRate.code, 2);
      assert.match(noRate.stderr, /--max-users needs --arrival-rate/);
      const unknown = await run(['-f', fixture('scenarios/two.ts'), '--scenario', 'stedy']);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /--scenario stedy: no such scenario[\s\S]*did you mean steady/);
    });
  });

  describe('over worker processes, the shares add up exactly', () => {
    it('--processes 2 --arrival-rate 30 -t 2s: 60 iterations in all', async () => {
      const result = await run(['-f', fixture('scenarios/open.ts'), 'Caller', '--processes', '2', '--master-bind-port', String(await freePort()), '--arrival-rate', '30', '-t', '2s'], { env: { TARGET_PATH: '/processes-rate' } });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(target.counts.get('GET /processes-rate'), 60);
      assert.equal(scenarioRow(result.stdout, 'default').iterations, 60);
    });
    it('--processes 2 -i 101 -u 3: 101 iterations in all', async () => {
      const result = await run(['-f', fixture('scenarios/open.ts'), 'Caller', '--processes', '2', '--master-bind-port', String(await freePort()), '-i', '101', '-u', '3'], { env: { TARGET_PATH: '/processes-iterations' } });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(target.counts.get('GET /processes-iterations'), 101);
      assert.equal(scenarioRow(result.stdout, 'default').iterations, 101);
    });
  });
});
