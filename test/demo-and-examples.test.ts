// `cicada demo` and every example cicadafile, run through the real command against the embedded demo target.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot, runCli } from './helpers.ts';

describe('the demo and the examples', { concurrency: 2 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cicada-demo-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('cicada demo --help lists only the flags the demo uses (regression: every web, master and worker flag)', async () => {
    const result = await runCli(['demo', '--help']);
    assert.equal(result.code, 0, result.stderr);
    for (const used of ['--users', '--spawn-rate', '--run-time', '--html', '--csv', '--stop-timeout', '--drain-timeout']) assert.ok(result.stdout.includes(used), used);
    for (const unused of ['--web-port', '--master', '--worker', '--expect-workers', '--headless', '--autostart', '--processes']) assert.ok(!result.stdout.includes(unused), unused);
  });

  it('cicada demo runs the example cicadafile with live stats and writes a report', async () => {
    const html = path.join(dir, 'demo.html');
    const result = await runCli(['demo', '-t', '5s', '--html', html]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /demo target listening on http:\/\/127\.0\.0\.1:\d+/);
    assert.match(result.stdout, /elapsed \d+s, remaining \d+s \| users \d+\/20/);
    assert.match(result.stdout, /Response time percentiles/);
    assert.match(result.stdout, new RegExp(`Open the report: ${html.replaceAll('/', '\\/')}`));
    const report = await readFile(html, 'utf8');
    assert.match(report, /\/items\/\[id\]/);
  });

  it('examples/scenarios.ts runs its three scenarios against the demo target, each to its exact count', async () => {
    const result = await runCli(['demo', '-f', path.join(repoRoot, 'examples', 'scenarios.ts'), '--only-summary'], { timeoutMs: 90_000 });
    assert.equal(result.code, 0, result.stderr);
    // warmup: 50 shared iterations; steady: 20/s for 20 s; spike: 0 → 50/s over 5 s, 50/s for 5 s, → 0 over 5 s (125 + 250 + 125).
    for (const [name, count] of [['warmup', 50], ['steady', 400], ['spike', 500]] as const) {
      assert.match(result.stdout, new RegExp(`^${name}\\s+\\S+\\s+${count}\\s+0\\s+0\\s+0\\s`, 'm'), `${name} ran ${count} iterations, none dropped:\n${result.stdout}`);
    }
    assert.match(result.stdout, /GET\s+\/items \[steady\]/);
  });

  it('examples/ci-gate.ts passes its gate against the demo shop, and fails it (exit 99, a JUnit failure) with a threshold it cannot meet', async () => {
    const junit = path.join(dir, 'gate.xml');
    const file = path.join(repoRoot, 'examples', 'ci-gate.ts');
    const pass = await runCli(['demo', '-f', file, '-t', '4s', '--only-summary', '--junit', junit]);
    assert.equal(pass.code, 0, `${pass.stdout}\n${pass.stderr}`);
    assert.match(pass.stdout, /^Thresholds$/m);
    assert.match(pass.stdout, /^Checks/m);
    assert.match(await readFile(junit, 'utf8'), /<testsuite[^>]*name="cicada thresholds"[^>]*tests="6"[^>]*failures="0"/);
    const fail = await runCli(['demo', '-f', file, '-t', '3s', '--only-summary', '--junit', junit, '--threshold', 'response_time{name:/search} p(95)<20']);
    assert.equal(fail.code, 99, fail.stderr);
    assert.match(fail.stdout, /✗ response_time\{name:\/search\} +p\(95\)<20/);
    assert.match(await readFile(junit, 'utf8'), /name="response_time\{name:\/search\} p\(95\)&lt;20"[^>]*>\s*<failure/);
  });

  for (const example of ['taskset.ts', 'load-shape.ts', 'tagged.ts']) {
    it(`examples/${example} runs against the demo target`, async () => {
      const json = path.join(dir, example);
      const result = await runCli(['demo', '-f', path.join(repoRoot, 'examples', example), '-t', '4s', '-u', '5', '-r', '5', '--json-file', json, '--html', `${json}.html`]);
      assert.equal(result.code, 0, result.stderr);
      const entries = JSON.parse(await readFile(`${json}.json`, 'utf8')) as { num_requests: number }[];
      assert.ok(entries.reduce((s, e) => s + e.num_requests, 0) > 0, 'requests were made');
    });
  }

  it('reads options from cicada.toml, the environment and the command line, in that order', async () => {
    const cwd = await mkdtemp(path.join(dir, 'config-'));
    await writeFile(path.join(cwd, 'cicada.toml'), 'users = 2\nspawn-rate = 10\nrun-time = "30s"\nheadless = true\nonly-summary = true\n');
    const started = Date.now();
    // run-time comes from the environment (beats the file), users from the command line (beats both).
    const result = await runCli(['demo', '-f', path.join(repoRoot, 'examples', 'tagged.ts'), '-u', '3', '--html', path.join(cwd, 'r.html')], { cwd, env: { CICADA_RUN_TIME: '2s' } });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(Date.now() - started < 20_000, 'the 2 s from the environment won over the 30 s in the file');
    assert.match(result.stderr, /starting 3 users at 10\/s for 2 s/);
  });
});
