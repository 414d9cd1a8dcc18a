// A body Cicada cannot send, through the real CLI: an exception at the cicadafile's line, no phantom request.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixture, runCli, startCountingTarget, type CountingTarget } from './helpers.ts';

describe('a request body Cicada cannot send', () => {
  let target: CountingTarget;
  before(async () => { target = await startCountingTarget(); });
  after(() => target.close());

  it('is an exception with the cicadafile line, never a failed request (regression: Cicada 3, server 1)', async () => {
    const result = await runCli(['-f', fixture('bad-body.ts'), '-H', target.url, '-u', '1', '-r', '1', '-t', '10s', '--headless', '--only-summary', '--json'], { timeoutMs: 30_000 });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(target.counts.get('POST /bad-body') ?? 0, 0, 'nothing reached the target');
    assert.deepEqual(JSON.parse(result.stdout), [], 'no request recorded');
    assert.match(result.stderr, /TypeError: cannot send a plain object as a request body/);
    assert.match(result.stderr, /bad-body\.ts:9/, 'the traceback names the cicadafile line');
  });
});
