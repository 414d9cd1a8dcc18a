// A cicadafile's own paths: import.meta names the real file (not the temporary bundle), and load errors name its line.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { fixture, runCli, startCountingTarget, type CountingTarget } from './helpers.ts';

describe('cicadafile paths', () => {
  let target: CountingTarget;
  before(async () => { target = await startCountingTarget(); });
  after(() => target.close());

  for (const [label, spec] of [['a file', fixture('import-meta/reads-beside.ts')], ['a folder', fixture('import-meta')]] as const) {
    it(`import.meta.url, dirname and filename point at the real file, for the cicadafile and its helper, given ${label} (regression: ENOENT from the bundle's folder)`, async () => {
      target.counts.clear();
      const result = await runCli(['-f', spec, '-H', target.url, '-u', '1', '-r', '1', '-t', '10s', '--headless', '--only-summary'], { timeoutMs: 30_000 });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual([...target.counts.keys()].sort(), ['GET /user/ann', 'GET /user/bob', 'GET /user/cid']);
    });
  }

  it("import.meta in a string stays text, and a traceback keeps the source's column after an import.meta use (regression: a text rewrite changed both)", async () => {
    const file = fixture('import-meta-columns.ts');
    const result = await runCli(['-f', file, '-H', 'http://127.0.0.1:9', '-u', '1', '-r', '1', '-t', '10s', '--headless', '--only-summary'], { timeoutMs: 30_000 });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /Error: import\.meta\.url true\n/);
    const line = (await readFile(file, 'utf8')).split('\n')[5]!;
    assert.match(result.stdout + result.stderr, new RegExp(`import-meta-columns\\.ts:6:${line.indexOf('new Error') + 1}\\)`));
  });

  it('an error at the top level of a cicadafile names its file and line', async () => {
    const result = await runCli(['-f', fixture('throws-at-line.ts'), '-H', 'http://127.0.0.1:9', '--headless'], { timeoutMs: 30_000 });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /throws-at-line\.ts:4: threw while loading: TypeError: Cannot read properties of undefined/);
    assert.doesNotMatch(result.stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');
  });

  it('a missing absolute -f path does not claim to look in the working folder', async () => {
    const result = await runCli(['-f', '/nonexistent-cicada/x.ts', '-H', 'http://127.0.0.1:9', '--headless'], { timeoutMs: 30_000 });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /cicadafile not found: \/nonexistent-cicada\/x\.ts/);
    assert.doesNotMatch(result.stderr, /looked in/);
    const relative = await runCli(['-f', 'nope/x.ts', '-H', 'http://127.0.0.1:9', '--headless'], { timeoutMs: 30_000 });
    assert.match(relative.stderr, /looked in /);
  });
});
