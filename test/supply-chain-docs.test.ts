// docs/security.md stays true: every threat-model row has a control and a proof or a reason, and every test it names exists.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './helpers.ts';

const read = (file: string): string => readFileSync(path.join(repoRoot, file), 'utf8');
const security = read('docs/security.md');
const model = security.slice(security.indexOf('## Threat model'), security.indexOf('## Web scan'));
const rows = model.split('\n').filter((line) => /^\| [A-Z]\d+ \|/.test(line)).map((line) => line.slice(1, -1).split(' | ').map((cell) => cell.trim()));

describe('docs/security.md', () => {
  it('has a threat-model row for each recommendation, each with its seed, a control, and a proof or a reason', () => {
    assert.ok(rows.length >= 50, `${rows.length} rows`);
    const ids = rows.map((r) => r[0]);
    assert.equal(new Set(ids).size, ids.length, 'row ids are unique');
    for (const [id, recommendation, control, proof] of rows) {
      assert.match(recommendation ?? '', /\((?:[^()]*\b(?:K|R|A \d\.\d)\b[^()]*)\)/, `${id}: names its seed (K, R or A §)`);
      assert.ok((control ?? '').length > 10, `${id}: a control`);
      assert.ok(/\.test\.ts`/.test(proof ?? '') || /^Out of scope/.test(proof ?? ''), `${id}: a test or a reason (out of scope)`);
    }
  });

  it('names only test files that exist, and test names those files hold', () => {
    const sources = new Map<string, string>();
    const source = (file: string): string => {
      if (!sources.has(file)) sources.set(file, read(file).replace(/\\'/g, "'"));
      return sources.get(file)!;
    };
    let named = 0;
    for (const [, file] of security.matchAll(/`([\w./-]+\.test\.ts)`/g)) assert.ok(existsSync(path.join(repoRoot, file!)), `${file} exists`);
    for (const [, file, name] of security.matchAll(/`([\w./-]+\.test\.ts)` › “([^”]+)”/g)) {
      assert.ok(source(file!).includes(name!), `${file} has a test named “${name}”`);
      named++;
    }
    assert.ok(named >= 60, `${named} tests named`);
    for (const file of ['test/cluster-link-attacks.test.ts', 'test/hostile-worker.test.ts', 'test/web-hardening.test.ts']) assert.ok(security.includes(`\`${file}\``), file);
  });

  it('lists every false positive the web scan accepts, and the UI files it justifies', () => {
    const categories = [...read('scripts/dast.mjs').matchAll(/category: '([^']+)'/g)].map((m) => m[1]!);
    assert.ok(categories.length > 0);
    for (const category of categories) assert.ok(security.includes(category), category);
    for (const [, file] of security.matchAll(/\| `(ui\/src\/[\w./-]+)`/g)) assert.ok(existsSync(path.join(repoRoot, file!)), file);
  });

  it('gives the release key id of release/minisign.pub and the commands that verify a release', () => {
    const keyId = /minisign public key ([0-9A-F]{16})/.exec(read('release/minisign.pub'))![1]!;
    for (const doc of [security, read('docs/supply-chain.md')]) {
      assert.ok(doc.includes(keyId), `key id ${keyId}`);
      assert.ok(doc.includes('minisign -Vm SHA256SUMS -p minisign.pub') && doc.includes('sha256sum -c SHA256SUMS'));
    }
  });
});
