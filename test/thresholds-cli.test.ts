// Thresholds end to end: exit 99 with a JUnit failure when the target is slow, an abort that stops early,
// bad thresholds refused before any load, and verdicts on the merged data of a master and two workers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fixture, freePort, runCli, startCli, startCountingTarget, type CountingTarget } from './helpers.ts';

interface Summary {
  exit_code: number;
  thresholds: { metric: string; expression: string; ok: boolean; observed: number | null }[];
  checks: { name: string; request: string; passes: number; fails: number }[];
  total: { num_requests: number };
}

describe('thresholds and checks from the command line', { concurrency: 2 }, () => {
  let target: CountingTarget;
  let dir: string;
  before(async () => {
    target = await startCountingTarget();
    dir = await mkdtemp(path.join(tmpdir(), 'cicada-thresholds-'));
  });
  after(async () => {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  });
  const run = (name: string, extra: string[], env: Record<string, string>) => {
    const junit = path.join(dir, `${name}.xml`);
    const summary = path.join(dir, `${name}.json`);
    return {
      junit,
      summary,
      result: runCli(['-f', fixture('thresholds.ts'), '-H', target.url, '--headless', '-u', '2', '-r', '10', '--only-summary', '--junit', junit, '--summary-json', summary, ...extra], { env }),
    };
  };
  const summaryOf = async (file: string): Promise<Summary> => JSON.parse(await readFile(file, 'utf8')) as Summary;

  it('a slow service fails the run with exit 99, a JUnit failure naming the observed value, and the summary says so', async () => {
    const { junit, summary, result } = run('slow', ['-t', '2s'], {
      DELAY_MS: '150',
      THRESHOLDS: JSON.stringify({ response_time: ['p(95)<100'], fail_ratio: ['value<0.01'] }),
    });
    const { code, stdout, stderr } = await result;
    assert.equal(code, 99, stderr);
    assert.match(stdout, /✗ response_time +p\(95\)<100 +\d+\.?\d* ms/);
    assert.match(stdout, /✓ fail_ratio +value<0\.01 +0\.00%/);
    assert.match(stderr, /1 of 2 thresholds failed: response_time p\(95\)<100 \(observed 1\d\d/);
    const xml = await readFile(junit, 'utf8');
    assert.match(xml, /<testcase[^>]*name="response_time p\(95\)&lt;100"[^>]*>\s*<failure[^>]*message="[^"]*observed 1\d\d/);
    assert.equal((xml.match(/<failure/g) ?? []).length, 2, 'the threshold and the "is quick" check');
    const doc = await summaryOf(summary);
    assert.equal(doc.exit_code, 99);
    assert.deepEqual(doc.thresholds.map((t) => [t.metric, t.ok]), [['response_time', false], ['fail_ratio', true]]);
    const quick = doc.checks.find((c) => c.name === 'is quick');
    assert.equal(quick?.passes, 0);
    assert.equal(quick?.fails, doc.total.num_requests, 'one check per request');
    assert.equal(doc.checks.find((c) => c.name === 'status is 200')?.passes, doc.total.num_requests);
  });

  it('the same thresholds pass on a quick service: exit 0, and no threshold fails in the JUnit report', async () => {
    const { junit, summary, result } = run('quick', ['-t', '1s', '--threshold', 'requests{name:/work} count>5', '--threshold', "checks{check:'is quick'} rate>0.9"], {
      DELAY_MS: '0',
      THRESHOLDS: JSON.stringify({ response_time: ['p(95)<100'], fail_ratio: ['value<0.01'] }),
    });
    const { code, stderr } = await result;
    assert.equal(code, 0, stderr);
    // The thresholds pass; a check may fail a request or two on a loaded machine (it is timing-based), which does not gate.
    assert.match(await readFile(junit, 'utf8'), /<testsuite name="cicada thresholds" tests="4" failures="0"/);
    const doc = await summaryOf(summary);
    assert.equal(doc.exit_code, 0);
    assert.deepEqual(doc.thresholds.map((t) => t.metric), ['response_time', 'fail_ratio', 'requests{name:/work}', "checks{check:'is quick'}"]);
    assert.ok(doc.thresholds.every((t) => t.ok));
  });

  it('abortOnFail stops the run early, gracefully, and still writes every report with exit 99', async () => {
    const started = Date.now();
    const { junit, summary, result } = run('abort', ['-t', '60s'], {
      DELAY_MS: '150',
      THRESHOLDS: JSON.stringify({ response_time: [{ threshold: 'p(95)<100', abortOnFail: true, delayAbortEval: '1s' }] }),
    });
    const { code, stderr } = await result;
    assert.equal(code, 99, stderr);
    assert.ok(Date.now() - started < 20_000, 'stopped long before -t 60s');
    assert.match(stderr, /threshold crossed: response_time p\(95\)<100 \(observed \d+\.?\d* ms\); stopping the run \(abortOnFail\)/);
    assert.match(await readFile(junit, 'utf8'), /<failure/);
    assert.equal((await summaryOf(summary)).exit_code, 99);
  });

  it('CICADA_THRESHOLD and --threshold add up with the cicadafile\'s', async () => {
    const { summary, result } = run('merged', ['-t', '1s', '--threshold', 'requests count>0'], {
      DELAY_MS: '0',
      THRESHOLDS: JSON.stringify({ fail_ratio: 'value<0.5' }),
      CICADA_THRESHOLD: 'response_time max<5000;rps value>=0',
    });
    const { code, stderr } = await result;
    assert.equal(code, 0, stderr);
    assert.deepEqual((await summaryOf(summary)).thresholds.map((t) => `${t.metric} ${t.expression}`), ['fail_ratio value<0.5', 'response_time max<5000', 'rps value>=0', 'requests count>0']);
  });

  it('reads [thresholds] from cicada.toml, with the object form, beside the cicadafile\'s', async () => {
    const { mkdir, writeFile } = await import('node:fs/promises');
    const cwd = path.join(dir, 'toml');
    await mkdir(cwd, { recursive: true });
    await writeFile(path.join(cwd, 'cicada.toml'), '[thresholds]\nrequests = ["count>0"]\n"response_time{name:/work}" = [{ threshold = "max<1", abortOnFail = true }]\n');
    const summary = path.join(cwd, 'summary.json');
    const started = Date.now();
    const { code, stderr } = await runCli(['-f', fixture('thresholds.ts'), '-H', target.url, '--headless', '-u', '1', '-r', '1', '-t', '30s', '--only-summary', '--summary-json', summary],
      { cwd, env: { DELAY_MS: '5', THRESHOLDS: JSON.stringify({ fail_ratio: ['value<0.5'] }) } });
    assert.equal(code, 99, stderr);
    assert.ok(Date.now() - started < 20_000, 'aborted long before -t');
    assert.deepEqual((await summaryOf(summary)).thresholds.map((t) => [t.metric, t.expression, t.ok]), [
      ['fail_ratio', 'value<0.5', true], ['requests', 'count>0', true], ['response_time{name:/work}', 'max<1', false],
    ]);
    await writeFile(path.join(cwd, 'cicada.toml'), '[thresholds]\nrequests = ["cnt>0"]\n');
    const bad = await runCli(['-f', fixture('thresholds.ts'), '-H', target.url, '--headless', '-t', '1s'], { cwd });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /threshold requests \(cicada\.toml\): unknown aggregation 'cnt'/);
  });

  it('refuses a bad threshold before any load (exit 2), saying what is wrong and how to fix it', async () => {
    // Its own target: the other tests send load to the shared one meanwhile.
    const untouched = await startCountingTarget();
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--threshold', 'respone_time p(95)<300'], {}, /unknown metric 'respone_time'\n {2}hint: did you mean response_time\?/],
      [['--threshold', 'fail_ratio p(95)<0.1'], {}, /fail_ratio has no percentiles/],
      [['--threshold', 'response_time p(101)<1'], {}, /p\(101\) is out of range/],
      [[], { THRESHOLDS: JSON.stringify({ 'response_time{nmae:/x}': ['avg<1'] }) }, /test\/fixtures\/thresholds\.ts\): unknown tag 'nmae'/],
      [[], { THRESHOLDS: JSON.stringify({ 'response_time{scenario:nope}': ['avg<1'] }) }, /can never match: this run has no scenarios/],
      [[], { CICADA_THRESHOLD: 'requests count>x' }, /'x' is not a number/],
    ];
    for (const [args, env, message] of cases) {
      const { code, stderr } = await runCli(['-f', fixture('thresholds.ts'), '-H', untouched.url, '--headless', '-t', '5s', ...args], { env });
      assert.equal(code, 2, stderr);
      assert.match(stderr, message);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    }
    assert.equal(untouched.total(), 0, 'no request was sent');
    await untouched.close();
  });

  it('warns when a name filter matched no request (names are dynamic, so it is not an error)', async () => {
    const { code, stderr } = await run('unmatched', ['-t', '1s', '--threshold', 'response_time{name:/wrok} p(95)<100'], { DELAY_MS: '0' }).result;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /threshold response_time\{name:\/wrok\}: no request named '\/wrok' was made \(did you mean \/work\?\)/);
  });
});

describe('thresholds on a master judge the merged data of its workers', () => {
  let target: CountingTarget;
  let dir: string;
  before(async () => {
    target = await startCountingTarget();
    dir = await mkdtemp(path.join(tmpdir(), 'cicada-thresholds-dist-'));
  });
  after(async () => {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a count only the total passes, and percentiles of the merged histogram, not of one worker', async () => {
    const port = await freePort();
    const env = { CICADA_SECRET: 'test-secret-0123456789abcdef' };
    const summary = path.join(dir, 'summary.json');
    const thresholds = JSON.stringify({ requests: ['count>30'], response_time: ['p(40)<100', 'p(99)<100'] });
    // 40 iterations shared by 2 users, one per worker: each worker makes 20 requests; one worker is quick, one slow.
    const master = startCli(['-f', fixture('thresholds.ts'), '--master', '--master-bind-port', String(port), '--expect-workers', '2', '--headless',
      '-u', '2', '-i', '40', '-t', '30s', '--only-summary', '--summary-json', summary, '--heartbeat-interval', '0.2'], { env: { ...env, THRESHOLDS: thresholds } });
    await master.waitFor('master listening');
    // A worker given master-only flags (as the operator's extraArgs reach both) says they do nothing there.
    const workers = ['0', '150'].map((delay) => startCli(['-f', fixture('thresholds.ts'), '--worker', '--master-port', String(port), '-H', target.url, '--heartbeat-interval', '0.2',
      '--threshold', 'requests count>0', '--otel'], { env: { ...env, DELAY_MS: delay } }));
    const result = await master.done;
    for (const w of await Promise.all(workers.map((x) => x.done))) {
      assert.equal(w.code, 0, w.stderr);
      assert.match(w.stderr, /--threshold, --otel have no effect on a worker: the master writes the reports, judges thresholds and exports the metrics/);
    }
    assert.equal(result.code, 99, result.stderr);
    const doc = JSON.parse(await readFile(summary, 'utf8')) as Summary;
    const [count, p40, p99] = doc.thresholds;
    // Each worker alone made 20 requests (count>30 fails); the master's total is 40 and passes.
    assert.deepEqual([count!.ok, count!.observed], [true, 40]);
    assert.equal(target.total(), 40);
    // Half the requests are quick: p40 of the merged histogram is quick (the slow worker alone would fail it),
    // p99 is slow (the quick worker alone would pass it).
    assert.equal(p40!.ok, true, JSON.stringify(p40));
    assert.ok(p40!.observed! < 100, JSON.stringify(p40));
    assert.equal(p99!.ok, false, JSON.stringify(p99));
    assert.ok(p99!.observed! >= 150, JSON.stringify(p99));
  });
});
