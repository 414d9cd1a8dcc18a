// Every package of the lock file runs on the Node versions Cicada supports (regression: cookie@2 wanted Node 22: EBADENGINE on npm install).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './helpers.ts';

const require = createRequire(import.meta.url);
const semver = require('semver') as { satisfies(version: string, range: string): boolean; minVersion(range: string): { version: string } | null };

interface Lock { packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean }> }

describe('supported Node versions', () => {
  it('package.json says which Node versions it supports, and every locked package admits the oldest and Node 24', async () => {
    const own = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } };
    const oldest = semver.minVersion(own.engines.node)!.version;
    assert.equal(oldest, '20.19.0');
    const lock = JSON.parse(await readFile(path.join(repoRoot, 'package-lock.json'), 'utf8')) as Lock;
    const refused: string[] = [];
    for (const [name, entry] of Object.entries(lock.packages)) {
      const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (range === undefined || name === '') continue;
      for (const version of [oldest, '24.0.0']) if (!semver.satisfies(version, range)) refused.push(`${name} (node ${range}) refuses ${version}`);
    }
    assert.deepEqual(refused, []);
  });
});
