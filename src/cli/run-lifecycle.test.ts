// The run lifecycle: outputs start, tick on their intervals, stop with the final report; the exit code decided once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ExitCode, UsageError } from '../core/errors.ts';
import { FakeClock } from '../core/fake-clock.test-helper.ts';
import { linesLogger } from '../core/test-environment.test-helper.ts';
import { reportData } from '../exporters/fixtures.test-helper.ts';
import type { Output } from '../exporters/output.ts';
import { decideExitCode, RunLifecycle } from './run-lifecycle.ts';
import { consoleOutput, csvOutput, htmlOutput, jsonOutput } from './run-outputs.ts';
import { junitOutput, summaryJsonOutput } from './ci-outputs.ts';
import { defaultOptions } from './options.ts';

const progress = () => ({ elapsedMs: 0, userCount: 1, targetUserCount: 1, spawning: false, state: 'running' });

/** An output that writes down what it was told. */
function recorder(name: string, calls: string[], intervalMs?: number): Output {
  return {
    name,
    ...(intervalMs !== undefined ? { intervalMs, tick: () => void calls.push(`${name} tick`) } : {}),
    start: () => void calls.push(`${name} start`),
    stop: () => void calls.push(`${name} stop`),
  };
}

describe('the run lifecycle', () => {
  it('starts outputs in order, ticks each on its interval, and stops them in order with the final report', async () => {
    const clock = new FakeClock();
    const calls: string[] = [];
    const lifecycle = new RunLifecycle({ outputs: [recorder('a', calls, 1000), recorder('b', calls, 2000), recorder('c', calls)], report: () => reportData(), progress, logger: linesLogger(), timers: clock });
    await lifecycle.start();
    assert.deepEqual(calls, ['a start', 'b start', 'c start']);
    calls.length = 0;
    await clock.advance(4000);
    assert.deepEqual(calls, ['a tick', 'a tick', 'b tick', 'a tick', 'a tick', 'b tick']);
    calls.length = 0;
    const final = await lifecycle.stop(() => 7);
    assert.deepEqual(calls, ['a stop', 'b stop', 'c stop']);
    assert.equal(final.data.total.numRequests, reportData().total.numRequests);
    assert.equal(final.exitCode, 7);
    await clock.advance(5000);
    assert.deepEqual(calls, ['a stop', 'b stop', 'c stop'], 'no tick after the stop');
  });

  it('ticks only while the run is active (the web UI between runs)', async () => {
    const clock = new FakeClock();
    const calls: string[] = [];
    let active = false;
    const lifecycle = new RunLifecycle({ outputs: [recorder('a', calls, 1000)], report: () => reportData(), progress, active: () => active, logger: linesLogger(), timers: clock });
    await lifecycle.start();
    await clock.advance(3000);
    active = true;
    await clock.advance(2000);
    assert.deepEqual(calls, ['a start', 'a tick', 'a tick']);
  });

  it('logs a failing tick and goes on; a failing stop still lets every other output stop, then throws the first failure', async () => {
    const clock = new FakeClock();
    const logger = linesLogger();
    const calls: string[] = [];
    const broken: Output = { name: 'broken', intervalMs: 1000, tick: () => { throw new Error('disk full'); }, stop: () => { throw new UsageError('cannot write x'); } };
    const lifecycle = new RunLifecycle({ outputs: [broken, recorder('after', calls, 1000)], report: () => reportData(), progress, logger, timers: clock });
    await lifecycle.start();
    await clock.advance(1000);
    assert.ok(logger.lines.some((l) => /broken output failed: disk full/.test(l)), logger.lines.join('\n'));
    assert.deepEqual(calls, ['after start', 'after tick']);
    await assert.rejects(lifecycle.stop(), /cannot write x/);
    assert.deepEqual(calls, ['after start', 'after tick', 'after stop']);
  });
});

describe('the exit code, decided in one place', () => {
  it('follows the precedence internal 3 > threshold 99 > processExitCode > failures > 0', () => {
    const base = { failed: true, exitCodeOnError: 1 };
    assert.equal(decideExitCode({ ...base, internalError: true, thresholdFailed: true, processExitCode: 7 }), ExitCode.internal);
    assert.equal(decideExitCode({ ...base, thresholdFailed: true, processExitCode: 7 }), ExitCode.threshold);
    assert.equal(decideExitCode({ ...base, processExitCode: 7 }), 7);
    assert.equal(decideExitCode({ ...base, processExitCode: 0 }), 0, 'a script may pass a run that had failures');
    assert.equal(decideExitCode(base), 1);
    assert.equal(decideExitCode({ ...base, exitCodeOnError: 5 }), 5);
    assert.equal(decideExitCode({ failed: false, exitCodeOnError: 1 }), ExitCode.ok);
  });
});

describe('the outputs of the options (one contract: start, tick, stop)', () => {
  const stream = () => {
    const chunks: string[] = [];
    return { chunks, write: (c: string) => chunks.push(c) > 0 } as unknown as NodeJS.WritableStream & { chunks: string[] };
  };
  const cases: [string, (dir: string, out: NodeJS.WritableStream) => Output, (dir: string, out: { chunks: string[] }) => Promise<void>][] = [
    ['console', (_d, out) => consoleOutput({ options: defaultOptions(), logger: linesLogger(), out, live: true }), async (_d, out) => {
      assert.match(out.chunks.join(''), /elapsed[\s\S]*Response time percentiles/);
    }],
    ['csv', (dir, out) => csvOutput({ options: defaultOptions(), logger: linesLogger(), out, live: false }, path.join(dir, 'r')), async (dir) => {
      assert.match(await readFile(path.join(dir, 'r_stats.csv'), 'utf8'), /^Type,Name,Request Count/);
      assert.ok((await readFile(path.join(dir, 'r_stats_history.csv'), 'utf8')).split('\n').length > 2);
    }],
    ['html', (dir, out) => htmlOutput({ options: defaultOptions(), logger: linesLogger(), out, live: false }, path.join(dir, 'r.html')), async (dir) => {
      assert.match(await readFile(path.join(dir, 'r.html'), 'utf8'), /^<!doctype html>/);
    }],
    ['json', (dir, out) => jsonOutput({ options: { ...defaultOptions(), jsonFile: path.join(dir, 'r') }, logger: linesLogger(), out, live: false }), async (dir) => {
      assert.ok(Array.isArray(JSON.parse(await readFile(path.join(dir, 'r.json'), 'utf8'))));
    }],
    ['junit', (dir, out) => junitOutput({ options: defaultOptions(), logger: linesLogger(), out, live: false }, path.join(dir, 'r.xml')), async (dir) => {
      assert.match(await readFile(path.join(dir, 'r.xml'), 'utf8'), /^<\?xml [^>]*\?>\n<testsuites name="cicada"[\s\S]*<property name="cicada.exit_code" value="0"\/>/);
    }],
    ['summary-json', (dir, out) => summaryJsonOutput({ options: defaultOptions(), logger: linesLogger(), out, live: false }, path.join(dir, 'r.summary.json')), async (dir) => {
      const summary = JSON.parse(await readFile(path.join(dir, 'r.summary.json'), 'utf8')) as { schema: string; exit_code: number };
      assert.deepEqual([summary.schema, summary.exit_code], ['cicada.summary/v2', 0]);
    }],
  ];
  for (const [name, make, check] of cases) {
    it(`${name}: starts, ticks and writes its report at the stop`, async () => {
      const dir = await mkdtemp(path.join(tmpdir(), `cicada-output-${name}-`));
      const out = stream();
      const output = make(dir, out);
      await output.start?.();
      if (output.tick) await output.tick({ data: reportData(), progress: progress(), now: Date.now() });
      await output.stop?.(reportData(), { exitCode: 0 });
      await check(dir, out);
    });
  }
  it('a report whose folder cannot be written fails at the start, before any load', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cicada-output-bad-'));
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'not a folder');
    const output = htmlOutput({ options: defaultOptions(), logger: linesLogger(), out: process.stdout, live: false }, path.join(file, 'r.html'));
    await assert.rejects(Promise.resolve(output.start?.()), /--html .*a-file\/r\.html: the folder .*a-file is not writable \(EEXIST|ENOTDIR\)/);
  });
});
