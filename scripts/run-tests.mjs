// Runs every test file with node's runner (spec output) and ends with a plain `N passed, N failed` line.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const only = process.argv.slice(2);

function find(dir) {
  const out = [];
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'fixtures') out.push(...find(rel));
    } else if (entry.name.endsWith('.test.ts')) out.push(rel);
  }
  return out;
}

const files = only.length > 0 ? only : [...find('src'), ...find('test'), ...find('operator/src'), ...find('operator/test')].sort();
const reporter = path.join(root, 'scripts', 'summary-reporter.mjs');
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', '--test-reporter-destination=stdout',
    `--test-reporter=${reporter}`, '--test-reporter-destination=stdout', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: '0' } },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
