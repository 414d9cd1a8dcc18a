// The CI files are written on every stop path (time limit and abort: thresholds-cli.test.ts; here Ctrl+C, StopTest,
// --processes and a web run), and a web run's API shows the verdicts the console gets.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fixture, freePort, runCli, startCli, startCountingTarget, until, type CountingTarget } from './helpers.ts';

interface Summary {
  exit_code: number;
  thresholds: { metric: string; expression: string; ok: boolean; observed: number | null }[];
  total: { num_requests: number };
}

describe('JUnit and summary JSON on every stop path', { concurrency: 2 }, () => {
  let target: CountingTarget;
  let dir: string;
  before(async () => {
    target = await startCountingTarget();
    dir = await mkdtemp(path.join(tmpdir(), 'cicada-thresholds-stops-'));
  });
  after(async () => {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  });
  const files = (name: string) => {
    const junit = path.join(dir, `${name}.xml`);
    const summary = path.join(dir, `${name}.json`);
    return { junit, summary, args: ['--junit', junit, '--summary-json', summary] };
  };
  const read = async (f: { junit: string; summary: string }): Promise<{ xml: string; doc: Summary }> => ({
    xml: await readFile(f.junit, 'utf8'),
    doc: JSON.parse(await readFile(f.summary, 'utf8')) as Summary,
  });

  it('Ctrl+C: the run stops gracefully and both files carry the verdict (exit 99)', async () => {
    const f = files('sigint');
    const run = startCli(['-f', fixture('thresholds.ts'), '-H', target.url, '--headless', '-u', '2', '-r', '10', '-t', '60s', '--only-summary', ...f.args,
      '--threshold', 'requests count>1000000000'], { env: { DELAY_MS: '0' } });
    await run.waitFor('ramp complete');
    run.kill('SIGINT');
    const { code, stderr } = await run.done;
    assert.equal(code, 99, stderr);
    const { xml, doc } = await read(f);
    assert.match(xml, /<failure[^>]*message="count&gt;1000000000 failed: observed \d+"/);
    assert.equal(doc.exit_code, 99);
    assert.equal(doc.thresholds[0]?.observed, doc.total.num_requests);
  });

  it('StopTest from the script: the files are written, and a passing gate keeps the exit code of the run', async () => {
    const f = files('stoptest');
    const { code, stderr } = await runCli(['-f', fixture('stop-test.ts'), '-H', target.url, '--headless', '-u', '1', '-r', '1', '-t', '60s', '--only-summary', ...f.args,
      '--threshold', 'requests count==5', '--threshold', 'fail_ratio value==0']);
    assert.equal(code, 0, stderr);
    const { xml, doc } = await read(f);
    assert.doesNotMatch(xml, /<failure/);
    assert.match(xml, /<testsuite[^>]*name="cicada thresholds"[^>]*tests="2"[^>]*failures="0"/);
    assert.deepEqual([doc.exit_code, doc.total.num_requests, doc.thresholds.map((t) => t.ok)], [0, 5, [true, true]]);
  });

  it('--processes 2: a slow service fails the gate on the master\'s merged data, exit 99 with a JUnit failure', async () => {
    const f = files('processes');
    const { code, stderr } = await runCli(['-f', fixture('thresholds.ts'), '-H', target.url, '--headless', '-u', '2', '-r', '10', '-t', '3s', '--only-summary', ...f.args,
      '--processes', '2', '--master-bind-port', String(await freePort())], { env: { DELAY_MS: '150', THRESHOLDS: JSON.stringify({ response_time: ['p(95)<100'] }) } });
    assert.equal(code, 99, stderr);
    const { xml, doc } = await read(f);
    assert.match(xml, /name="response_time p\(95\)&lt;100"[^>]*>\s*<failure[^>]*observed \d+/);
    assert.equal(doc.exit_code, 99);
    assert.ok(doc.total.num_requests > 0);
    assert.ok(doc.thresholds[0]!.observed! >= 150, JSON.stringify(doc.thresholds));
  });

  it('a web run: /stats/thresholds shows the live verdict, and --autoquit writes the files with exit 99', async () => {
    const f = files('web');
    const port = await freePort();
    const run = startCli(['-f', fixture('thresholds.ts'), '-H', target.url, '--autostart', '--autoquit', '0', '-u', '2', '-r', '10', '-t', '3s', '-P', String(port), ...f.args,
      '--threshold', 'response_time p(95)<100'], { env: { DELAY_MS: '150' } });
    await run.waitFor('ramp complete');
    let live: { thresholds: { ok: boolean; observed: number | null }[]; failed: number } | undefined;
    await until(async () => {
      live = await (await fetch(`http://127.0.0.1:${port}/stats/thresholds`)).json() as typeof live;
      return live?.thresholds[0]?.observed !== null;
    }, 'a response time in /stats/thresholds');
    assert.equal(live?.failed, 1, JSON.stringify(live));
    assert.ok(live.thresholds[0]!.observed! >= 150);
    const { code, stderr } = await run.done;
    assert.equal(code, 99, stderr);
    const { doc } = await read(f);
    assert.equal(doc.exit_code, 99);
  });
});
