// End-to-end: tag filtering, user class selection, LoadShape and StopTest through the real command.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, runCli, startCountingTarget, type CountingTarget } from './helpers.ts';

describe('selecting what runs', { concurrency: 1 }, () => {
  let target: CountingTarget;
  before(async () => {
    target = await startCountingTarget();
  });
  after(() => target.close());

  it('-T runs only tasks with that tag', async () => {
    target.counts.clear();
    const result = await runCli(['-f', fixture('tagged.ts'), '-H', target.url, '-u', '2', '-r', '10', '-t', '1s', '--headless', '--only-summary', '-T', 'read']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok((target.counts.get('GET /read') ?? 0) > 0);
    assert.deepEqual([...target.counts.keys()], ['GET /read']);
  });

  it('-E runs every task except those with that tag', async () => {
    target.counts.clear();
    const result = await runCli(['-f', fixture('tagged.ts'), '-H', target.url, '-u', '2', '-r', '10', '-t', '1s', '--headless', '--only-summary', '-E', 'read']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual([...target.counts.keys()].sort(), ['GET /untagged', 'POST /write']);
  });

  it('a LoadShape drives the user count and stops the test by returning null', async () => {
    target.counts.clear();
    const started = Date.now();
    const result = await runCli(['-f', fixture('shape.ts'), '-H', target.url, '--headless', '--only-summary', '--json']);
    const elapsed = Date.now() - started;
    assert.equal(result.code, 0, result.stderr);
    assert.ok(elapsed < 15_000, `the shape ends the run (took ${elapsed} ms)`);
    assert.match(result.stderr, /ramp complete: 3 users/);
    assert.match(result.stderr, /ramp complete: 1 users/);
    const entries = JSON.parse(result.stdout) as { name: string; num_requests: number }[];
    assert.equal(entries.find((e) => e.name === '/shape')?.num_requests, target.counts.get('GET /shape'));
  });

  it('StopTest thrown by a task ends the run with the final report', async () => {
    target.counts.clear();
    const result = await runCli(['-f', fixture('stop-test.ts'), '-H', target.url, '-u', '1', '-r', '1', '--headless', '--only-summary']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /StopTest: five is enough/);
    assert.equal(target.counts.get('GET /count'), 5);
  });

  it('survives a stray rejected promise and a throwing timer, reporting them as exceptions', async () => {
    target.counts.clear();
    const result = await runCli(['-f', fixture('stray.ts'), '-H', target.url, '-u', '1', '-r', '1', '-t', '2s', '--headless', '--only-summary']);
    assert.equal(result.code, 1, 'exceptions make the run fail');
    assert.match(result.stderr, /unhandled error in the cicadafile: forgotten promise/);
    assert.match(result.stderr, /unhandled error in the cicadafile: timer blew up/);
    assert.ok((target.counts.get('GET /careless') ?? 0) > 5, 'the run went on');
    assert.match(result.stdout, /forgotten promise/);
  });

  it('warns that -u/-r are ignored with a LoadShape', async () => {
    const result = await runCli(['-f', fixture('shape.ts'), '-H', target.url, '--headless', '--only-summary', '-u', '50', '-t', '1s']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /-u\/-r are ignored: the LoadShape TwoSteps/);
  });

  it('warns that master-only flags have no effect in a run of one process', async () => {
    const result = await runCli(['-f', fixture('tagged.ts'), '-H', target.url, '--headless', '--only-summary', '-t', '1s', '--expect-workers', '3']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /--expect-workers has no effect without --master or --processes/);
  });
});
