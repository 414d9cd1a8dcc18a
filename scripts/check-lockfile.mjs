// Offline supply-chain checks of package-lock.json (part of `npm test`): every package comes from the npm registry with
// a sha512 integrity hash, and every install script is one package.json's allowScripts has decided on.
//   node scripts/check-lockfile.mjs [DIR]      (DIR holds package.json and package-lock.json; default: this repository)
// No advisory service is asked (npm audit does not work here): these are the checks that need none.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const REGISTRY = 'https://registry.npmjs.org/';

/** The package name a lockfile key stands for: `node_modules/a/node_modules/@s/b` → `@s/b`. */
function nameOf(key, entry) {
  if (entry.name) return entry.name;
  const at = key.lastIndexOf('node_modules/');
  return at === -1 ? key : key.slice(at + 'node_modules/'.length);
}

/** Does an allowScripts key (`name`, or `name@1.2.3`, or `name@1.2.3 || 1.2.4`) cover this package? */
function covers(key, name, version) {
  if (key === name) return true;
  if (!key.startsWith(`${name}@`)) return false;
  return key.slice(name.length + 1).split('||').map((v) => v.trim()).includes(version);
}

/** Registry lines of a project .npmrc: a default or scoped registry other than npm's moves every package without a `resolved`. */
function foreignRegistries(dir) {
  const file = path.join(dir, '.npmrc');
  if (!existsSync(file)) return [];
  const foreign = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    const key = line.slice(0, eq).trim();
    if (eq === -1 || (key !== 'registry' && !(key.startsWith('@') && key.endsWith(':registry')))) continue;
    const url = line.slice(eq + 1).trim();
    if ((url.endsWith('/') ? url : `${url}/`) !== REGISTRY) foreign.push(line.trim());
  }
  return foreign;
}

/** Every problem found, as lines for a person; [] when the lockfile passes. */
function checkLockfile(pkg, lock, { npmrcRegistries = [] } = {}) {
  const problems = [];
  if (!lock.packages || (lock.lockfileVersion ?? 0) < 2) return ['package-lock.json has no "packages" map (lockfileVersion 2 or 3 is needed): run npm install with npm 7 or newer'];
  for (const line of npmrcRegistries) problems.push(`.npmrc sets another registry (${line}): packages must come from ${REGISTRY}`);
  const workspaces = new Set((pkg.workspaces ?? []).map((w) => path.posix.normalize(w)));
  const allow = pkg.allowScripts ?? {};
  const scripted = [];
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key === '') continue;
    if (!key.includes('node_modules/')) {
      if (!workspaces.has(key)) problems.push(`${key}: a local package that is not one of package.json's workspaces`);
      continue;
    }
    const name = nameOf(key, entry);
    if (entry.link) {
      if (!workspaces.has(path.posix.normalize(entry.resolved ?? ''))) problems.push(`${key}: links to ${entry.resolved}, which is not one of package.json's workspaces`);
      continue;
    }
    if (entry.resolved !== undefined && !entry.resolved.startsWith(REGISTRY)) problems.push(`${name}@${entry.version}: comes from ${entry.resolved}, not ${REGISTRY}`);
    if (!entry.integrity) problems.push(`${name}@${entry.version}: no integrity hash in package-lock.json`);
    else if (!/(^|\s)sha512-/.test(entry.integrity)) problems.push(`${name}@${entry.version}: integrity is not sha512 (${entry.integrity.split('-')[0]})`);
    if (entry.hasInstallScript) {
      scripted.push(name);
      const rule = Object.keys(allow).find((k) => covers(k, name, entry.version));
      if (rule === undefined) {
        problems.push(`${name}@${entry.version}: has an install script that package.json's allowScripts does not list: read it, then add "${name}": true (run it) or false (skip it)`);
      }
    }
  }
  for (const [key, value] of Object.entries(allow)) {
    const name = key.startsWith('@') ? `@${key.slice(1).split('@')[0]}` : key.split('@')[0];
    if (value === true && !scripted.includes(name)) problems.push(`allowScripts lets "${key}" run an install script, but no locked package of that name has one: remove the entry`);
  }
  return problems;
}

function main() {
  const dir = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '..'));
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(path.join(dir, 'package-lock.json'), 'utf8'));
  const problems = checkLockfile(pkg, lock, { npmrcRegistries: foreignRegistries(dir) });
  if (problems.length > 0) {
    process.stderr.write(`package-lock.json check failed:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  const count = Object.keys(lock.packages).filter((k) => k.includes('node_modules/') && !lock.packages[k].link).length;
  const decided = Object.entries(pkg.allowScripts ?? {}).map(([k, v]) => `${k} ${v ? 'runs' : 'skipped'}`).join(', ');
  process.stdout.write(`package-lock.json: ${count} packages, all from ${REGISTRY} with sha512 integrity; install scripts: ${decided || 'none'}\n`);
}

main();
