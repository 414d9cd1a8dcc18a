// One run lifecycle for headless and web runs: a script's environment.processExitCode decides the exit code, before failures.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixture, freePort, runCli, startCountingTarget, type CountingTarget } from './helpers.ts';

describe('the exit code a script sets (environment.processExitCode)', { concurrency: 2 }, () => {
  let target: CountingTarget;
  before(async () => {
    target = await startCountingTarget();
  });
  after(() => target.close());
  const args = () => ['-f', fixture('exit-code.ts'), '-H', target.url, '-u', '1', '-r', '1', '-t', '1s', '--only-summary'];

  it('headless: failures alone give 1; a script setting 4 gives 4; a script setting 0 passes a run with failures', async () => {
    assert.equal((await runCli([...args(), '--headless'])).code, 1);
    assert.equal((await runCli([...args(), '--headless'], { env: { EXIT_CODE: '4' } })).code, 4);
    assert.equal((await runCli([...args(), '--headless'], { env: { EXIT_CODE: '0' } })).code, 0);
  });

  it('web UI with --autostart --autoquit: the same code, from the same lifecycle', async () => {
    const result = await runCli([...args(), '--autostart', '--autoquit', '0', '-P', String(await freePort())], { env: { EXIT_CODE: '6' } });
    assert.equal(result.code, 6, result.stderr);
  });
});
