// `npm run sbom`: a CycloneDX 1.6 SBOM of the runtime dependency tree, every package with its version and lockfile hash.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { repoRoot } from './helpers.ts';

interface Hash { alg: string; content: string }
interface Component {
  name: string;
  group?: string;
  version: string;
  purl: string;
  hashes?: Hash[];
  properties?: { name: string; value: string }[];
  externalReferences?: { type: string; url: string; hashes?: Hash[] }[];
}
interface Bom { bomFormat: string; specVersion: string; metadata: { component: { name: string; version: string } }; components: Component[] }
interface LockEntry { version?: string; integrity?: string; dev?: boolean }

const require = createRequire(import.meta.url);
const json = <T>(file: string): T => JSON.parse(readFileSync(path.join(repoRoot, file), 'utf8')) as T;
const fullName = (c: Component): string => (c.group ? `${c.group}/${c.name}` : c.name);
const lockPath = (c: Component): string | undefined => c.properties?.find((p) => p.name === 'cdx:npm:package:path')?.value;

describe('npm run sbom', () => {
  let run: SpawnSyncReturns<string>;
  before(() => {
    run = spawnSync('npm', ['run', '--silent', 'sbom'], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  });
  const bom = (): Bom => json<Bom>('sbom.cdx.json');

  it('writes sbom.cdx.json, a CycloneDX 1.6 document that validates against the schema', async () => {
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /sbom\.cdx\.json: CycloneDX 1\.6, \d+ runtime components with hashes/);
    const doc = bom();
    assert.equal(doc.bomFormat, 'CycloneDX');
    assert.equal(doc.specVersion, '1.6');
    const own = json<{ name: string; version: string }>('package.json');
    assert.deepEqual([doc.metadata.component.name, doc.metadata.component.version], [own.name, own.version]);
    const cdx = require('@cyclonedx/cyclonedx-library') as {
      Validation: { JsonValidator: new (version: string) => { validate(text: string): Promise<unknown> } };
      Spec: { Version: { v1dot6: string } };
    };
    assert.equal(await new cdx.Validation.JsonValidator(cdx.Spec.Version.v1dot6).validate(JSON.stringify(doc)), null);
  });

  it('gives every component a version, an npm purl and the SHA-512 that package-lock.json holds for it', () => {
    const lock = json<{ packages: Record<string, LockEntry> }>('package-lock.json');
    const components = bom().components;
    assert.ok(components.length > 50, `${components.length} components`);
    for (const c of components) {
      assert.match(c.version, /^\d+\.\d+\.\d+/, fullName(c));
      assert.ok(c.purl.startsWith(`pkg:npm/${encodeURIComponent(c.group ?? '').replace(/.+/, '$&/')}${c.name}@${c.version}`), c.purl);
      const entry = lock.packages[lockPath(c)!];
      assert.ok(entry?.integrity, `${fullName(c)}: in the lockfile with an integrity`);
      const expected = Buffer.from(entry.integrity.replace(/^sha512-/, ''), 'base64').toString('hex');
      assert.deepEqual(c.hashes, [{ alg: 'SHA-512', content: expected }], fullName(c));
      const dist = c.externalReferences?.find((r) => r.type === 'distribution');
      assert.equal(dist?.url, `https://registry.npmjs.org/${fullName(c)}/-/${c.name}-${c.version}.tgz`);
      assert.deepEqual(dist.hashes, c.hashes);
    }
  });

  it('lists the runtime dependencies at their installed versions, and no dev-only or operator package', () => {
    const lock = json<{ packages: Record<string, LockEntry> }>('package-lock.json');
    const byName = new Map(bom().components.map((c) => [fullName(c), c]));
    for (const name of ['fastify', 'undici', 'zod', 'commander', '@msgpack/msgpack', 'esbuild', 'tsx']) {
      assert.equal(byName.get(name)?.version, lock.packages[`node_modules/${name}`]?.version, name);
    }
    for (const name of ['typescript', 'eslint', 'vite', 'playwright-core', '@cyclonedx/cyclonedx-npm', 'fast-check', '@kubernetes/client-node']) {
      assert.ok(!byName.has(name), `${name} is not a runtime dependency of cicada`);
    }
    for (const c of bom().components) assert.notEqual(lock.packages[lockPath(c)!]?.dev, true, `${fullName(c)} is dev-only`);
  });
});
