// The scans that need no advisory service: the lockfile's sources and hashes, install scripts against allowScripts, and
// eslint-plugin-security (with the UI's own bans) over ui/.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { repoRoot } from './helpers.ts';

const CHECK = path.join(repoRoot, 'scripts', 'check-lockfile.mjs');
const INTEGRITY = `sha512-${Buffer.alloc(64, 7).toString('base64')}`;

interface Entry { version?: string; resolved?: string; integrity?: string; hasInstallScript?: boolean; link?: boolean; dev?: boolean }

describe('the lockfile check (scripts/check-lockfile.mjs)', () => {
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the check on a project of its own: package.json fields and lockfile packages as given. */
  function check(packages: Record<string, Entry>, pkg: Record<string, unknown> = {}, npmrc?: string): { code: number | null; out: string } {
    const dir = mkdtempSync(path.join(tmpdir(), 'cicada-lockfile-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'p', version: '1.0.0', ...pkg }));
    writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify({ lockfileVersion: 3, packages: { '': { name: 'p' }, ...packages } }));
    if (npmrc !== undefined) writeFileSync(path.join(dir, '.npmrc'), npmrc);
    const result = spawnSync(process.execPath, [CHECK, dir], { encoding: 'utf8' });
    return { code: result.status, out: result.stdout + result.stderr };
  }
  const good: Entry = { version: '1.2.3', integrity: INTEGRITY };

  it('passes this repository: every package from the npm registry with sha512, every install script decided on', () => {
    const result = spawnSync(process.execPath, [CHECK], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^package-lock\.json: \d+ packages, all from https:\/\/registry\.npmjs\.org\/ with sha512 integrity; install scripts: .*esbuild runs.*libxmljs2 skipped/);
  });

  it('passes registry packages with or without a resolved URL, and workspace links', () => {
    const result = check({
      'node_modules/a': good,
      'node_modules/@s/b': { ...good, resolved: 'https://registry.npmjs.org/@s/b/-/b-1.2.3.tgz' },
      'node_modules/w': { resolved: 'w', link: true },
      w: { version: '0.1.0' },
    }, { workspaces: ['w'] });
    assert.equal(result.code, 0, result.out);
  });

  it('refuses a package from another registry, a git or tarball URL, and a foreign registry in .npmrc', () => {
    const result = check({
      'node_modules/evil': { ...good, resolved: 'https://registry.evil.example/evil/-/evil-1.2.3.tgz' },
      'node_modules/gitdep': { version: '1.0.0', resolved: 'git+ssh://git@github.com/x/gitdep.git#abc', integrity: INTEGRITY },
      'node_modules/plain': { ...good, resolved: 'http://registry.npmjs.org/plain/-/plain-1.2.3.tgz' },
    });
    assert.equal(result.code, 1);
    assert.match(result.out, /evil@1\.2\.3: comes from https:\/\/registry\.evil\.example\//);
    assert.match(result.out, /gitdep@1\.0\.0: comes from git\+ssh:/);
    assert.match(result.out, /plain@1\.2\.3: comes from http:\/\/registry\.npmjs\.org/);
    const npmrc = check({ 'node_modules/a': good }, {}, 'fund=false\n@corp:registry=https://npm.corp.example/\n');
    assert.equal(npmrc.code, 1);
    assert.match(npmrc.out, /\.npmrc sets another registry \(@corp:registry=https:\/\/npm\.corp\.example\/\)/);
  });

  it('refuses a package without an integrity hash, or with sha1 only', () => {
    const result = check({ 'node_modules/nohash': { version: '1.0.0' }, 'node_modules/old': { version: '2.0.0', integrity: 'sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=' } });
    assert.equal(result.code, 1);
    assert.match(result.out, /nohash@1\.0\.0: no integrity hash/);
    assert.match(result.out, /old@2\.0\.0: integrity is not sha512 \(sha1\)/);
  });

  it('refuses an install script that allowScripts does not list, and names both ways to decide', () => {
    const result = check({ 'node_modules/x/node_modules/native': { ...good, hasInstallScript: true } }, { allowScripts: {} });
    assert.equal(result.code, 1);
    assert.match(result.out, /native@1\.2\.3: has an install script that package\.json's allowScripts does not list: read it, then add "native": true \(run it\) or false \(skip it\)/);
  });

  it('accepts an install script allowed by name, by exact version, or skipped; refuses an approval for nothing', () => {
    const scripted = { 'node_modules/a': { ...good, hasInstallScript: true }, 'node_modules/b': { ...good, hasInstallScript: true }, 'node_modules/c': { ...good, hasInstallScript: true } };
    assert.equal(check(scripted, { allowScripts: { a: true, 'b@1.0.0 || 1.2.3': true, c: false } }).code, 0);
    assert.equal(check(scripted, { allowScripts: { a: true, 'b@1.0.0': true, c: false } }).code, 1, 'another version of b is not approved');
    const stale = check({ 'node_modules/a': good }, { allowScripts: { a: true, gone: false } });
    assert.equal(stale.code, 1);
    assert.match(stale.out, /allowScripts lets "a" run an install script, but no locked package of that name has one/);
  });

  it('refuses a local package that is not a workspace', () => {
    const result = check({ 'node_modules/local': { resolved: '../elsewhere', link: true } }, { workspaces: [] });
    assert.equal(result.code, 1);
    assert.match(result.out, /links to \.\.\/elsewhere, which is not one of package\.json's workspaces/);
  });

  it('is part of npm test, before the test runner', () => {
    const test = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.test!;
    assert.ok(test.indexOf('node scripts/check-lockfile.mjs') !== -1 && test.indexOf('node scripts/check-lockfile.mjs') < test.indexOf('node scripts/run-tests.mjs'), test);
  });
});

describe('eslint-plugin-security over ui/', () => {
  const eslint = new ESLint({ cwd: repoRoot });
  async function rules(source: string): Promise<string[]> {
    const [result] = await eslint.lintText(source, { filePath: path.join(repoRoot, 'ui', 'src', 'probe.tsx') });
    return result!.messages.map((m) => m.ruleId ?? m.message);
  }

  it('is part of npm run lint, which npm test runs (and so the UI as it is passes)', () => {
    const lint = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.lint!;
    assert.match(lint, /^eslint --max-warnings 0 .*\bui\b/);
  });

  it('refuses the ways around Preact\'s escaping: dangerouslySetInnerHTML, innerHTML, insertAdjacentHTML, document.write', async () => {
    assert.deepEqual(await rules('export const A = (p: { h: string }) => <div dangerouslySetInnerHTML={{ __html: p.h }} />;\n'), ['no-restricted-syntax']);
    assert.deepEqual(await rules('export function f(el: HTMLElement, h: string) { el.innerHTML = h; }\n'), ['no-restricted-syntax']);
    assert.deepEqual(await rules('export function f(el: HTMLElement, h: string) { el.insertAdjacentHTML("beforeend", h); }\n'), ['no-restricted-syntax']);
    assert.deepEqual(await rules('export function f(h: string) { document.write(h); }\n'), ['no-restricted-syntax']);
  });

  it('reports eval, new Function and a RegExp built from a variable (eslint-plugin-security)', async () => {
    assert.ok((await rules('export function f(s: string) { return eval(s); }\n')).includes('security/detect-eval-with-expression'));
    assert.ok((await rules('export function f(s: string) { return new Function(s); }\n')).includes('no-new-func'));
    assert.ok((await rules('export function f(s: string) { return new RegExp(s); }\n')).includes('security/detect-non-literal-regexp'));
  });
});
