// Tests for finding, reading and checking the TOML config file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../core/errors.ts';
import { checkConfigKeys, configValueToRaw, findConfigFile, readConfigFile } from './config-file.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cicada-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejectsWith(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, message);
    return true;
  });
}

describe('findConfigFile', () => {
  it('finds nothing when there is no cicada.toml and no explicit file', async () => {
    const empty = path.join(dir, 'empty');
    await mkdir(empty);
    assert.equal(await findConfigFile(empty), undefined);
  });

  it('finds ./cicada.toml in the working directory', async () => {
    const withFile = path.join(dir, 'with-file');
    await mkdir(withFile);
    await writeFile(path.join(withFile, 'cicada.toml'), 'users = 1\n');
    assert.equal(await findConfigFile(withFile), path.join(withFile, 'cicada.toml'));
  });

  it('resolves an explicit file against the working directory', async () => {
    await writeFile(path.join(dir, 'load.toml'), 'users = 1\n');
    assert.equal(await findConfigFile(dir, { file: 'load.toml', from: '--config' }), path.join(dir, 'load.toml'));
  });

  it('reports a missing explicit file with the flag that named it', async () => {
    await rejectsWith(findConfigFile(dir, { file: 'missing.toml', from: '--config' }), /config file not found: missing\.toml \(given by --config\)/);
  });

  it('rejects a directory given as the config file', async () => {
    await rejectsWith(findConfigFile(dir, { file: '.', from: 'CICADA_CONFIG' }), /is not a file/);
  });
});

describe('readConfigFile', () => {
  it('parses TOML and names the file relative to the working directory', async () => {
    await writeFile(path.join(dir, 'ok.toml'), 'spawn-rate = 10\ntags = ["a", "b"]\nheadless = true\n');
    const config = await readConfigFile(path.join(dir, 'ok.toml'), dir);
    assert.equal(config.display, 'ok.toml');
    assert.deepEqual({ ...config.values }, { 'spawn-rate': 10, tags: ['a', 'b'], headless: true });
  });

  it('reports a syntax error as file:line:column', async () => {
    await writeFile(path.join(dir, 'broken.toml'), 'users = 10\n\nspawn-rate = = 3\n');
    await rejectsWith(readConfigFile(path.join(dir, 'broken.toml'), dir), /^broken\.toml:3:\d+: invalid TOML/);
  });
});

describe('checkConfigKeys', () => {
  const config = { path: '/x/cicada.toml', display: 'cicada.toml', values: { users: 1, 'spawn-rat': 2 } };

  it('names the unknown key and the file, with a did-you-mean hint', () => {
    assert.throws(() => checkConfigKeys(config, ['users', 'spawn-rate']), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.equal(error.message, "cicada.toml: unknown key 'spawn-rat'");
      assert.equal(error.hint, "did you mean 'spawn-rate'?");
      return true;
    });
  });

  it('accepts a file whose keys are all known', () => {
    checkConfigKeys(config, ['users', 'spawn-rat']);
  });
});

describe('configValueToRaw', () => {
  it('takes switches only as TOML booleans', () => {
    assert.equal(configValueToRaw(true, 'flag', 'f: key'), true);
    assert.throws(() => configValueToRaw('yes', 'flag', "cicada.toml: key 'headless'"), /cicada\.toml: key 'headless': expected true or false/);
  });

  it('turns numbers into text for values', () => {
    assert.equal(configValueToRaw(90, 'value', 'f'), '90');
    assert.equal(configValueToRaw('5m', 'value', 'f'), '5m');
    assert.throws(() => configValueToRaw([1], 'value', "f: key 'users'"), /expected a string or a number/);
  });

  it('takes a list of strings or a single string for lists', () => {
    assert.deepEqual(configValueToRaw(['a', 'b'], 'list', 'f'), ['a', 'b']);
    assert.deepEqual(configValueToRaw('a,b', 'list', 'f'), ['a,b']);
    assert.throws(() => configValueToRaw(['a', 1], 'list', "f: key 'tags'"), /expected a list of strings/);
  });
});
