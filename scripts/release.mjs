// `npm run release`: the npm tarball, its SBOM, SHA256SUMS over both, and a minisign signature of SHA256SUMS, in release/.
// The secret key is never in the repository: CICADA_SIGNING_KEY_FILE names it (a minisign secret key, unencrypted or
// with its password in CICADA_SIGNING_KEY_PASSWORD). The signature is checked against release/minisign.pub before the
// command succeeds (CICADA_SIGNING_PUBKEY_FILE names another public key), so a release signed with the wrong key never
// leaves the machine. Exit codes: 0 done, 1 a step failed, 2 no usable key or no minisign.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const releaseDir = path.join(root, 'release');

function stop(message, code) {
  process.stderr.write(`release: ${message}\n`);
  process.exit(code);
}

const HOW_TO_MAKE_A_KEY = `signing needs the minisign secret key whose public half is release/minisign.pub (the maintainers keep it,
never in the repository), or a key pair of your own (a fork, a dry run):
  minisign -G -p ~/.minisign/cicada.pub -s ~/.minisign/cicada.key      (asks for a password; add -W for none)
  CICADA_SIGNING_KEY_FILE=~/.minisign/cicada.key CICADA_SIGNING_PUBKEY_FILE=~/.minisign/cicada.pub npm run release
with a password, CICADA_SIGNING_KEY_PASSWORD holds it (see docs/supply-chain.md)`;

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) stop(`${command} could not start: ${result.error.message}`, 1);
  if (result.status !== 0) stop(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal}):\n${result.stderr}${result.stdout}`, 1);
  return result.stdout;
}

function checkPrerequisites() {
  const keyFile = process.env.CICADA_SIGNING_KEY_FILE;
  if (!keyFile) stop(`CICADA_SIGNING_KEY_FILE is not set: it names the minisign secret key that signs the release.\n${HOW_TO_MAKE_A_KEY}`, 2);
  const key = path.resolve(keyFile);
  if (!existsSync(key)) stop(`CICADA_SIGNING_KEY_FILE=${keyFile}: no such file.\n${HOW_TO_MAKE_A_KEY}`, 2);
  const relative = path.relative(root, key);
  if (!relative.startsWith('..') && !path.isAbsolute(relative)) stop(`the secret key ${keyFile} is inside the repository: move it out (a secret key is never committed).\n${HOW_TO_MAKE_A_KEY}`, 2);
  const publicKey = path.resolve(process.env.CICADA_SIGNING_PUBKEY_FILE ?? path.join(releaseDir, 'minisign.pub'));
  if (!existsSync(publicKey)) stop(`no public key at ${publicKey} to check the signature with.\n${HOW_TO_MAKE_A_KEY}`, 2);
  if (spawnSync('minisign', ['-v'], { encoding: 'utf8' }).error) stop('the minisign command is missing: apt-get install minisign (Debian), brew install minisign', 2);
  return { key, publicKey };
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

function main() {
  const { key, publicKey } = checkPrerequisites();
  const { name, version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const started = Date.now();
  mkdirSync(releaseDir, { recursive: true });
  const tarball = `${name}-${version}.tgz`;
  const sbom = `${name}-${version}.cdx.json`;
  for (const file of [tarball, sbom, 'SHA256SUMS', 'SHA256SUMS.minisig']) rmSync(path.join(releaseDir, file), { force: true });

  // npm pack runs `prepare` (the web UI build) and takes what package.json's "files" lists.
  run('npm', ['pack', '--pack-destination', releaseDir]);
  if (!existsSync(path.join(releaseDir, tarball))) stop(`npm pack did not write release/${tarball}`, 1);
  run(process.execPath, [path.join(root, 'scripts', 'sbom.mjs'), path.join(releaseDir, sbom)]);

  // sha256sum's format: `HEX  NAME` (two spaces: binary-safe text mode), so `sha256sum -c SHA256SUMS` checks it.
  const sums = [tarball, sbom].map((file) => `${sha256(path.join(releaseDir, file))}  ${file}\n`).join('');
  writeFileSync(path.join(releaseDir, 'SHA256SUMS'), sums);
  const password = process.env.CICADA_SIGNING_KEY_PASSWORD;
  run('minisign', ['-S', '-s', key, '-m', 'SHA256SUMS', '-x', 'SHA256SUMS.minisig', '-t', `${name} ${version} SHA256SUMS`],
    { cwd: releaseDir, input: password === undefined ? '' : `${password}\n` });
  const verified = spawnSync('minisign', ['-V', '-q', '-p', publicKey, '-m', 'SHA256SUMS', '-x', 'SHA256SUMS.minisig'], { cwd: releaseDir, encoding: 'utf8' });
  if (verified.status !== 0) stop(`the signature does not verify with ${path.relative(root, publicKey)}: the secret key in CICADA_SIGNING_KEY_FILE is not its pair\n${verified.stderr}`, 1);

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`release/ (${seconds} s):\n  ${tarball}\n  ${sbom}\n  SHA256SUMS\n  SHA256SUMS.minisig\n` +
    `verify: cd release && minisign -Vm SHA256SUMS -p minisign.pub && sha256sum -c SHA256SUMS\n`);
}

main();
