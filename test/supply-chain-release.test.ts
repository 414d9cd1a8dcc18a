// `npm run release`, signed with a throwaway minisign key pair made here, verified the way a user verifies a release.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from './helpers.ts';

const { name, version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };
const releaseDir = path.join(repoRoot, 'release');
const TARBALL = `${name}-${version}.tgz`;
const SBOM = `${name}-${version}.cdx.json`;

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, encoding: 'utf8', timeout: 120_000 });
}

/** The environment of a release: no key of the caller's, and (the UI being built by `npm test` before the runner) no `prepare` rebuild under other tests' feet. */
function releaseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_ignore_scripts: 'true', ...extra };
  if (!('CICADA_SIGNING_KEY_FILE' in extra)) delete env.CICADA_SIGNING_KEY_FILE;
  delete env.CICADA_SIGNING_KEY_PASSWORD;
  return env;
}

describe('npm run release', () => {
  let keys: string;
  let released: SpawnSyncReturns<string>;
  before(() => {
    keys = mkdtempSync(path.join(tmpdir(), 'cicada-release-keys-'));
    const made = run('minisign', ['-G', '-W', '-p', path.join(keys, 'test.pub'), '-s', path.join(keys, 'test.key')]);
    assert.equal(made.status, 0, `minisign -G: ${made.error?.message ?? made.stderr} (apt-get install minisign)`);
    released = run('npm', ['run', '--silent', 'release'], {
      env: releaseEnv({ CICADA_SIGNING_KEY_FILE: path.join(keys, 'test.key'), CICADA_SIGNING_PUBKEY_FILE: path.join(keys, 'test.pub') }),
    });
  });
  after(() => rmSync(keys, { recursive: true, force: true }));

  it('writes the tarball, its SBOM, SHA256SUMS and SHA256SUMS.minisig under release/', () => {
    assert.equal(released.status, 0, released.stderr);
    for (const file of [TARBALL, SBOM, 'SHA256SUMS', 'SHA256SUMS.minisig']) assert.ok(existsSync(path.join(releaseDir, file)), file);
    assert.deepEqual(readFileSync(path.join(releaseDir, 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => l.split(/\s+/)[1]), [TARBALL, SBOM]);
    const sbom = JSON.parse(readFileSync(path.join(releaseDir, SBOM), 'utf8')) as { specVersion: string; metadata: { component: { version: string } } };
    assert.equal(sbom.specVersion, '1.6');
    assert.equal(sbom.metadata.component.version, version);
  });

  it('verifies with minisign -Vm SHA256SUMS -p and sha256sum -c, and with nothing else', () => {
    const verified = run('minisign', ['-Vm', 'SHA256SUMS', '-p', path.join(keys, 'test.pub')], { cwd: releaseDir });
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stdout, new RegExp(`Trusted comment: ${name} ${version} SHA256SUMS`));
    const sums = run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: releaseDir });
    assert.equal(sums.status, 0, sums.stdout + sums.stderr);
    assert.match(sums.stdout, new RegExp(`${TARBALL}: OK`));
    // The project's public key did not sign this (the throwaway key did): it must refuse.
    assert.notEqual(run('minisign', ['-Vm', 'SHA256SUMS', '-p', path.join(releaseDir, 'minisign.pub')], { cwd: releaseDir }).status, 0);
    // A changed tarball fails sha256sum -c; changed sums fail the signature.
    const copy = mkdtempSync(path.join(tmpdir(), 'cicada-release-copy-'));
    try {
      for (const file of [TARBALL, SBOM, 'SHA256SUMS', 'SHA256SUMS.minisig']) copyFileSync(path.join(releaseDir, file), path.join(copy, file));
      const tarball = readFileSync(path.join(copy, TARBALL));
      tarball.writeUInt8(tarball.readUInt8(tarball.length - 1) ^ 1, tarball.length - 1);
      writeFileSync(path.join(copy, TARBALL), tarball);
      assert.notEqual(run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: copy }).status, 0);
      writeFileSync(path.join(copy, 'SHA256SUMS'), readFileSync(path.join(copy, 'SHA256SUMS'), 'utf8').replace(/^[0-9a-f]/, (c) => (c === '0' ? '1' : '0')));
      assert.notEqual(run('minisign', ['-Vm', 'SHA256SUMS', '-p', path.join(keys, 'test.pub')], { cwd: copy }).status, 0);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('packs what a user runs (the command, the sources, the built UI, examples, docs) and no tests, keys or secrets', () => {
    const listed = run('tar', ['-tzf', path.join(releaseDir, TARBALL)]);
    assert.equal(listed.status, 0, listed.stderr);
    const files = listed.stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
    for (const needed of ['package.json', 'README.md', 'LICENSE', 'SECURITY.md', 'bin/cicada.mjs', 'src/cli/main.ts', 'src/index.ts', 'dist/ui/index.html', 'examples/cicadafile.ts', 'docs/web-api.md']) {
      assert.ok(files.includes(needed), `${needed} is in the tarball`);
    }
    assert.ok(files.some((f) => /^dist\/ui\/assets\/.+\.js$/.test(f)), 'the built UI script');
    const unwanted = files.filter((f) => /(^|\/)test(s)?\/|\.test\.ts$|test-helper|test-server|^operator\/|^bench\/|^ui\/|^scripts\/|^release\/|\.cdx\.json$|minisig|(^|\/)\.env|\.pem$|\.key$|(^|\/)\.npmrc$|node_modules/.test(f));
    assert.deepEqual(unwanted, []);
  });

  it('keeps the outputs out of git, except the public key', () => {
    const ignored = (file: string): boolean => run('git', ['check-ignore', '-q', file]).status === 0;
    for (const file of [`release/${TARBALL}`, `release/${SBOM}`, 'release/SHA256SUMS', 'release/SHA256SUMS.minisig', 'sbom.cdx.json']) assert.ok(ignored(file), file);
    assert.ok(!ignored('release/minisign.pub'));
    assert.match(readFileSync(path.join(releaseDir, 'minisign.pub'), 'utf8'), /^untrusted comment: minisign public key [0-9A-F]{16}\nRW[A-Za-z0-9+/]{54}\n$/);
  });

  it('without a key, says how to make one and exits 2; a key inside the repository is refused too', () => {
    const none = run('npm', ['run', '--silent', 'release'], { env: releaseEnv({}) });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /CICADA_SIGNING_KEY_FILE is not set/);
    assert.match(none.stderr, /minisign -G -p \S+ -s \S+/);
    const missing = run('npm', ['run', '--silent', 'release'], { env: releaseEnv({ CICADA_SIGNING_KEY_FILE: path.join(keys, 'nonexistent.key') }) });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no such file/);
    const inside = run('npm', ['run', '--silent', 'release'], { env: releaseEnv({ CICADA_SIGNING_KEY_FILE: path.join(repoRoot, 'package.json') }) });
    assert.equal(inside.status, 2);
    assert.match(inside.stderr, /inside the repository/);
  });
});
