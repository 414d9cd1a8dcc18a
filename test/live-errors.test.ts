// Errors you see as they happen: the first of each kind logged at once with the cicadafile's line, repeats as counts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixture, runCli, startCountingTarget, type CountingTarget } from './helpers.ts';

describe('live error log', () => {
  let target: CountingTarget;
  before(async () => { target = await startCountingTarget(); });
  after(() => target.close());

  it('logs the first task exception at once with its cicadafile line, later ones as a count, before the summary (regression: only in the final summary)', async () => {
    const result = await runCli(['-f', fixture('throws-in-task.ts'), '-H', target.url, '-u', '2', '-r', '10', '-t', '2s', '--headless', '--only-summary'], { timeoutMs: 30_000 });
    const out = result.stderr;
    const first = out.indexOf("ERROR Thrower.boom: TypeError: Cannot read properties of undefined (reading 'add')\n");
    assert.ok(first >= 0, out);
    assert.match(out.slice(first), /^.*\n\s+at Thrower\.boom \(.*throws-in-task\.ts:8:\d+\)/);
    assert.ok(first < out.indexOf('run time limit (2 s) reached'), 'logged while the run goes, not at the end');
    assert.equal(out.split("ERROR Thrower.boom: TypeError: Cannot read properties of undefined (reading 'add')\n").length - 1, 1, 'the traceback is printed once');
    assert.match(out, /Thrower\.boom: TypeError: Cannot read properties of undefined \(reading 'add'\) \(\d+ more in the last \d+ s\)/);
    assert.match(result.stdout, /Exceptions/, 'the summary still has the exceptions table');
  });
});
