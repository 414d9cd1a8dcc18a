// Writes a CycloneDX 1.6 JSON SBOM of the runtime dependency tree (no dev dependencies), each package with its integrity hash.
//   node scripts/sbom.mjs [OUTPUT] [--workspace NAME]     (OUTPUT defaults to sbom.cdx.json; `npm run sbom`)
// @cyclonedx/cyclonedx-npm builds the tree from `npm ls`. It only attaches a hash to a package whose lockfile entry has a
// `resolved` URL, and this project's lockfile has none (npm's omit-lockfile-registry-resolved, set on these machines), so
// each component gets the `integrity` package-lock.json holds for its path: the hash of the very tarball npm verified.
// The result is validated against the CycloneDX 1.6 JSON schema before it is written.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const REGISTRY = 'https://registry.npmjs.org/';
const ALGORITHMS = { sha1: 'SHA-1', sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

function fail(message, code = 1) {
  process.stderr.write(`sbom: ${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  let output = 'sbom.cdx.json';
  let workspace = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--workspace') workspace = argv[++i] ?? fail('--workspace needs a name', 2);
    else if (argv[i]?.startsWith('-')) fail(`unknown option ${argv[i]} (usage: node scripts/sbom.mjs [OUTPUT] [--workspace NAME])`, 2);
    else output = argv[i];
  }
  return { output: path.resolve(output), workspace };
}

/** `sha512-BASE64 sha1-BASE64` (SRI) → CycloneDX hashes, hex. */
function hashesOf(integrity) {
  const out = [];
  for (const part of integrity.trim().split(/\s+/)) {
    const dash = part.indexOf('-');
    const alg = ALGORITHMS[part.slice(0, dash)];
    if (alg) out.push({ alg, content: Buffer.from(part.slice(dash + 1), 'base64').toString('hex') });
  }
  return out;
}

/** Every component, nested ones included. */
function* walk(components = []) {
  for (const component of components) {
    yield component;
    yield* walk(component.components);
  }
}

/** Adds each component's lockfile hash (on the component and on its registry tarball reference); returns what had none. */
function addLockfileHashes(bom, lock) {
  const missing = [];
  for (const component of walk(bom.components)) {
    const lockPath = component.properties?.find((p) => p.name === 'cdx:npm:package:path')?.value;
    const entry = lockPath === undefined ? undefined : lock.packages?.[lockPath];
    if (entry?.link) continue; // a workspace of this repository (the operator): our own code, not a download
    if (!entry?.integrity) {
      missing.push(lockPath ?? component['bom-ref']);
      continue;
    }
    const hashes = hashesOf(entry.integrity);
    component.hashes = hashes;
    const fullName = component.group ? `${component.group}/${component.name}` : component.name;
    component.externalReferences = [
      ...(component.externalReferences ?? []).filter((ref) => ref.type !== 'distribution'),
      {
        type: 'distribution',
        url: `${REGISTRY}${fullName}/-/${component.name}-${component.version}.tgz`,
        comment: 'the registry tarball; hashes from package-lock.json "integrity"',
        hashes,
      },
    ];
  }
  return missing;
}

async function validate(bom) {
  const require = createRequire(import.meta.url);
  const cdx = require('@cyclonedx/cyclonedx-library');
  const errors = await new cdx.Validation.JsonValidator(cdx.Spec.Version.v1dot6).validate(JSON.stringify(bom));
  if (errors !== null) fail(`the SBOM does not validate against the CycloneDX 1.6 schema:\n${JSON.stringify(errors, null, 2)}`);
}

async function main() {
  const { output, workspace } = parseArgs(process.argv.slice(2));
  const require = createRequire(import.meta.url);
  let cli;
  try {
    cli = path.join(path.dirname(require.resolve('@cyclonedx/cyclonedx-npm')), 'bin', 'cyclonedx-npm-cli.js');
  } catch {
    fail('@cyclonedx/cyclonedx-npm is not installed: it is a devDependency, run `npm ci` first', 2);
  }
  const args = [cli, '--omit', 'dev', ...(workspace ? ['--workspace', workspace] : ['--no-workspaces']),
    '--spec-version', '1.6', '--output-format', 'JSON', '--output-reproducible', '--flatten-components',
    '--mc-type', 'application', '--no-validate', '--output-file', '-'];
  const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) fail(`cyclonedx-npm failed (exit ${result.status ?? result.signal}):\n${result.stderr}`);
  const bom = JSON.parse(result.stdout);
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  const missing = addLockfileHashes(bom, lock);
  if (missing.length > 0) fail(`no integrity hash in package-lock.json for: ${missing.join(', ')}`);
  await validate(bom);
  const text = `${JSON.stringify(bom, null, 2)}\n`;
  writeFileSync(output, text);
  const count = [...walk(bom.components)].length;
  const shown = path.relative(process.cwd(), output).startsWith('..') ? output : path.relative(process.cwd(), output);
  process.stdout.write(`${shown}: CycloneDX ${bom.specVersion}, ${count} runtime components with hashes, ${Math.round(text.length / 1024)} KiB\n`);
}

await main();
