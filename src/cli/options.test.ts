// Tests for option parsing: flags, CICADA_* variables, the config file, their precedence, and the error messages.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../core/errors.ts';
import { defaultOptions, envName, parseOptions, unavailableFlags, type CicadaOptions, type OptionSources, type ParsedCommand } from './options.ts';

let root = '';
let empty = '';
before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'cicada-options-'));
  empty = path.join(root, 'empty');
  await mkdir(empty);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh directory holding `cicada.toml` (or another file) with `content`. */
async function dirWith(content: string, name = 'cicada.toml'): Promise<string> {
  const dir = await mkdtemp(path.join(root, 'case-'));
  await writeFile(path.join(dir, name), content);
  return dir;
}

async function run(argv: string[], env: Record<string, string | undefined> = {}, cwd = empty): Promise<{ options: CicadaOptions; sources: OptionSources }> {
  const parsed = await parseOptions(argv, env, cwd);
  assert.equal(parsed.command, 'run');
  if (parsed.command !== 'run') throw new Error('unreachable');
  return parsed;
}

async function fails(argv: string[], message: RegExp, opts: { env?: Record<string, string>; cwd?: string; hint?: RegExp } = {}): Promise<void> {
  await assert.rejects(parseOptions(argv, opts.env ?? {}, opts.cwd ?? empty), (error: unknown) => {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
    assert.match(error.message, message);
    assert.ok((error.hint ?? '').length > 0, 'every usage error carries a hint');
    if (opts.hint) assert.match(error.hint ?? '', opts.hint);
    return true;
  });
}

describe('parseOptions: defaults and flags', () => {
  it('runs with the defaults when nothing is given', async () => {
    const { options, sources } = await run([]);
    assert.deepEqual(options, defaultOptions());
    assert.ok(Object.values(sources).every((s) => s === 'default'));
    assert.deepEqual(options.cicadafiles, ['cicadafile.ts']);
    assert.equal(options.webHost, '127.0.0.1');
    assert.equal(options.webPort, 8089);
    assert.equal(options.requestTimeout, 60);
  });

  it('reads every kind of flag from the command line', async () => {
    const { options, sources } = await run([
      '-f', 'a.ts', '-H', 'http://localhost:8080', '-u', '10', '-r', '2.5', '-t', '1h30m', '--headless',
      '-P', '9000', '--web-host', '0.0.0.0', '-L', 'debug', '--logfile', 'x.log', '--csv', 'out', '--csv-full-history',
      '--html', 'r.html', '--json', '--json-file', 'r', '-s', '30s', '--exit-code-on-error', '0', '--request-timeout', '5',
      '--equal-weights', '--insecure', '--print-stats', '--only-summary', '--reset-stats', '-l', '--show-task-ratio',
    ]);
    assert.deepEqual(
      { ...options },
      {
        ...defaultOptions(), cicadafiles: ['a.ts'], host: 'http://localhost:8080', users: 10, spawnRate: 2.5, runTime: 5400,
        headless: true, webPort: 9000, webHost: '0.0.0.0', loglevel: 'DEBUG', logfile: 'x.log', csv: 'out', csvFullHistory: true,
        html: 'r.html', json: true, jsonFile: 'r', stopTimeout: 30, exitCodeOnError: 0, requestTimeout: 5, equalWeights: true,
        insecure: true, printStats: true, onlySummary: true, resetStats: true, list: true, showTaskRatio: true,
      },
    );
    assert.equal(sources.users, 'cli');
    assert.equal(sources.master, 'default');
  });

  it('parses the distributed flags too', async () => {
    const { options } = await run([
      '--master', '--master-bind-host', '0.0.0.0', '--master-bind-port', '6000', '--expect-workers', '3', '--expect-workers-max-wait', '1m',
    ]);
    assert.equal(options.master, true);
    assert.equal(options.masterBindHost, '0.0.0.0');
    assert.equal(options.masterBindPort, 6000);
    assert.equal(options.expectWorkers, 3);
    assert.equal(options.expectWorkersMaxWait, 60);
    const worker = await run(['--worker', '--master-host', '10.0.0.1', '--master-port', '6001', '--processes', '-1']);
    assert.equal(worker.options.masterHost, '10.0.0.1');
    assert.equal(worker.options.masterPort, 6001);
    assert.equal(worker.options.processes, -1);
  });

  it('gathers -f comma lists and repeats', async () => {
    const { options } = await run(['-f', 'a.ts,b.ts', '-f', 'c.ts']);
    assert.deepEqual(options.cicadafiles, ['a.ts', 'b.ts', 'c.ts']);
  });

  it('reads -T a,b -T c as three tags, and -E the same way', async () => {
    const { options } = await run(['-T', 'a,b', '-T', 'c', '-E', 'slow', 'flaky']);
    assert.deepEqual(options.tags, ['a', 'b', 'c']);
    assert.deepEqual(options.excludeTags, ['slow', 'flaky']);
  });

  it('takes positional arguments as user class names', async () => {
    const { options, sources } = await run(['--headless', 'Shopper', 'Browser', '-u', '3']);
    assert.deepEqual(options.userClasses, ['Shopper', 'Browser']);
    assert.equal(sources.userClasses, 'cli');
  });

  it('reads -L in any case and WARN as WARNING', async () => {
    assert.equal((await run(['-L', 'error'])).options.loglevel, 'ERROR');
    assert.equal((await run(['--loglevel', 'warn'])).options.loglevel, 'WARNING');
  });

  it('accepts --headless with --autostart, and --autoquit with --autostart', async () => {
    const { options } = await run(['--headless', '--autostart', '--autoquit', '10']);
    assert.equal(options.autoquit, 10);
  });

  it('accepts --flag=value', async () => {
    assert.equal((await run(['--users=7'])).options.users, 7);
  });
});

describe('parseOptions: invalid values', () => {
  it('rejects -u -5 with a message about the value', () => fails(['-u', '-5'], /^-u\/--users: expected a whole number ≥ 0, got '-5'/));
  it('rejects -u abc', () => fails(['-u', 'abc'], /-u\/--users/));
  it('rejects -r 0', () => fails(['-r', '0'], /^-r\/--spawn-rate: expected a number greater than 0/));
  it('rejects -t 5x naming the format', () => fails(['-t', '5x'], /^-t\/--run-time: '5x' is not a time span/, { hint: /30s, 5m, 1h30m/ }));
  it('rejects -t 0', () => fails(['-t', '0'], /-t\/--run-time: must be greater than 0/));
  it('rejects a host that is not http or https', () => fails(['-H', 'ftp://x'], /^-H\/--host: 'ftp:\/\/x'/));
  it('rejects a web port out of range', () => fails(['-P', '70000'], /-P\/--web-port: expected a whole number from 1 to 65535/));
  it('rejects an exit code over 255', () => fails(['--exit-code-on-error', '256'], /--exit-code-on-error/));
  it('rejects an unknown log level', () => fails(['-L', 'loud'], /-L\/--loglevel: expected one of DEBUG, INFO, WARNING, ERROR/));
  it('rejects --processes 0', () => fails(['--processes', '0'], /--processes: expected -1 \(one per CPU core\) or a whole number ≥ 1/));
  it('rejects --request-timeout 0', () => fails(['--request-timeout', '0'], /--request-timeout: must be greater than 0/));
  it('rejects an empty -f', () => fails(['-f', ','], /-f\/--cicadafile: needs at least one file/));
  it('says which flag is missing its value', () => fails(['-u'], /^-u\/--users needs a value$/));
});

describe('parseOptions: unknown flags and commands', () => {
  it("rejects --uesrs with 'did you mean --users?'", () => fails(['--uesrs', '5'], /^unknown option '--uesrs'$/, { hint: /^did you mean --users\?$/ }));
  it('suggests for --name=value too', () => fails(['--spawn-rat=3'], /^unknown option '--spawn-rat'$/, { hint: /--spawn-rate/ }));
  it('points to --help when nothing is close', () => fails(['--frobnicate'], /unknown option '--frobnicate'/, { hint: /cicada --help/ }));
  it('rejects unknown flags after the demo subcommand', () => fails(['demo', '--uesrs', '5'], /unknown option '--uesrs'/, { hint: /--users/ }));
  it("treats a lower-case near-miss of a subcommand as a typo, e.g. 'dmeo'", () => fails(['dmeo'], /unknown command 'dmeo'/, { hint: /cicada demo/ }));
});

describe('parseOptions: rules between options', () => {
  it('rejects --csv-full-history without --csv', () => fails(['--csv-full-history'], /^--csv-full-history needs --csv$/));
  it('accepts --csv-full-history with --csv', async () => {
    assert.equal((await run(['--csv', 'x', '--csv-full-history'])).options.csvFullHistory, true);
  });
  it('rejects --autoquit without --autostart', () => fails(['--headless', '--autoquit', '5'], /--autoquit only works together with --autostart/));
  it('rejects --master with --worker', () => fails(['--master', '--worker'], /cannot be used together/));
  it('rejects --tls-cert without --tls-key', () => fails(['--tls-cert', 'c.pem'], /needs both --tls-cert and --tls-key/));
  it('names the source of a value that breaks a rule', () =>
    fails([], /--csv-full-history \(from CICADA_CSV_FULL_HISTORY\) needs --csv/, { env: { CICADA_CSV_FULL_HISTORY: 'true' } }));
});

describe('parseOptions: help, version and demo', () => {
  it('returns { command: version } for -V and --version', async () => {
    assert.deepEqual(await parseOptions(['-V'], {}, empty), { command: 'version' });
    assert.deepEqual(await parseOptions(['--version'], {}, empty), { command: 'version' });
  });

  it('returns grouped help naming each flag and its environment variable', async () => {
    const parsed = await parseOptions(['--help'], {}, empty);
    assert.equal(parsed.command, 'help');
    if (parsed.command !== 'help') return;
    for (const text of ['--spawn-rate', 'CICADA_SPAWN_RATE', '--request-timeout', 'CICADA_REQUEST_TIMEOUT', 'Common options:', 'Master options:', 'Worker options:', 'Web UI options:', 'demo', 'cicada.toml']) {
      assert.ok(parsed.text.includes(text), `help should mention ${text}`);
    }
  });

  it('returns the demo help for demo --help and help demo', async () => {
    for (const argv of [['demo', '--help'], ['help', 'demo']]) {
      const parsed: ParsedCommand = await parseOptions(argv, {}, empty);
      assert.equal(parsed.command, 'help');
      if (parsed.command === 'help') assert.match(parsed.text, /Usage: cicada demo/);
    }
  });

  it('parses demo with run flags that override its defaults', async () => {
    const parsed = await parseOptions(['demo', '-t', '10s', '-u', '3'], {}, empty);
    assert.equal(parsed.command, 'demo');
    if (parsed.command !== 'demo') return;
    assert.equal(parsed.options.runTime, 10);
    assert.equal(parsed.options.users, 3);
    assert.equal(parsed.sources.runTime, 'cli');
    assert.equal(parsed.sources.spawnRate, 'default');
  });

  it('counts flags given before demo as well', async () => {
    const parsed = await parseOptions(['-u', '5', 'demo', '-r', '2'], {}, empty);
    assert.ok(parsed.command === 'demo');
    assert.equal(parsed.options.users, 5);
    assert.equal(parsed.options.spawnRate, 2);
  });

  it('validates demo flags like run flags', () => fails(['demo', '-t', '5x'], /-t\/--run-time/));
});

describe('parseOptions: environment variables', () => {
  it('names variables CICADA_ plus the long flag name', () => {
    assert.equal(envName('spawn-rate'), 'CICADA_SPAWN_RATE');
    assert.equal(envName('run-time'), 'CICADA_RUN_TIME');
  });

  it('reads values, switches and lists from CICADA_* variables', async () => {
    const { options, sources } = await run([], {
      CICADA_SPAWN_RATE: '4', CICADA_RUN_TIME: '2m', CICADA_HEADLESS: 'true', CICADA_TAGS: 'a, b',
      CICADA_USER_CLASSES: 'Shopper Browser', CICADA_HOST: 'https://x.test', CICADA_USERS: '',
    });
    assert.equal(options.spawnRate, 4);
    assert.equal(options.runTime, 120);
    assert.equal(options.headless, true);
    assert.deepEqual(options.tags, ['a', 'b']);
    assert.deepEqual(options.userClasses, ['Shopper', 'Browser']);
    assert.equal(options.host, 'https://x.test');
    assert.equal(options.users, undefined, 'an empty variable counts as unset');
    assert.equal(sources.spawnRate, 'env');
    assert.equal(sources.users, 'default');
  });

  it('names the variable when its value is bad', () => fails([], /^CICADA_USERS=abc: expected a whole number/, { env: { CICADA_USERS: 'abc' } }));
  it('rejects a switch variable that is not true or false', () => fails([], /^CICADA_HEADLESS=maybe: expected true or false/, { env: { CICADA_HEADLESS: 'maybe' } }));

  it('lets the command line override the environment', async () => {
    const { options, sources } = await run(['-u', '30'], { CICADA_USERS: '20' });
    assert.equal(options.users, 30);
    assert.equal(sources.users, 'cli');
  });
});

describe('parseOptions: config file', () => {
  const toml = 'users = 10\nspawn-rate = 2\nrun-time = "5m"\ntags = ["a", "b"]\nheadless = true\nstop-timeout = 15\n';

  it('reads ./cicada.toml from the working directory', async () => {
    const dir = await dirWith(toml);
    const { options, sources } = await run([], {}, dir);
    assert.equal(options.users, 10);
    assert.equal(options.spawnRate, 2);
    assert.equal(options.runTime, 300);
    assert.deepEqual(options.tags, ['a', 'b']);
    assert.equal(options.headless, true);
    assert.equal(options.stopTimeout, 15);
    assert.equal(options.config, path.join(dir, 'cicada.toml'));
    assert.equal(sources.users, 'config');
    assert.equal(sources.config, 'default');
  });

  it('applies defaults < config file < environment < command line', async () => {
    const dir = await dirWith(toml);
    const { options, sources } = await run(['-r', '9'], { CICADA_USERS: '20', CICADA_SPAWN_RATE: '5' }, dir);
    assert.equal(options.users, 20, 'env overrides the file');
    assert.equal(sources.users, 'env');
    assert.equal(options.spawnRate, 9, 'cli overrides env and file');
    assert.equal(sources.spawnRate, 'cli');
    assert.equal(options.runTime, 300, 'the file overrides the default');
    assert.equal(sources.runTime, 'config');
    assert.equal(options.webPort, 8089);
    assert.equal(sources.webPort, 'default');
  });

  it('reads the file named by --config or CICADA_CONFIG instead of ./cicada.toml', async () => {
    const dir = await dirWith('users = 1\n');
    await writeFile(path.join(dir, 'other.toml'), 'users = 2\n');
    assert.equal((await run(['--config', 'other.toml'], {}, dir)).options.users, 2);
    const viaEnv = await run([], { CICADA_CONFIG: 'other.toml' }, dir);
    assert.equal(viaEnv.options.users, 2);
    assert.equal(viaEnv.sources.config, 'env');
  });

  it('reports a missing --config file clearly', () => fails(['--config', 'nope.toml'], /^config file not found: nope\.toml \(given by --config\)/));

  it('rejects an unknown key, naming it and the file, with a did-you-mean hint', async () => {
    const dir = await dirWith('usres = 3\n');
    await fails([], /^cicada\.toml: unknown key 'usres'$/, { cwd: dir, hint: /did you mean 'users'\?/ });
  });

  it('suggests the dashed key for spawn_rate', async () => {
    const dir = await dirWith('spawn_rate = 3\n');
    await fails([], /unknown key 'spawn_rate'/, { cwd: dir, hint: /'spawn-rate'/ });
  });

  it('reports a TOML syntax error with file and line', async () => {
    const dir = await dirWith('users = 3\nheadless = \n');
    await fails([], /^cicada\.toml:2:\d+: invalid TOML/, { cwd: dir });
  });

  it('names the file and key of a bad value', async () => {
    const dir = await dirWith('users = "abc"\n');
    await fails([], /^cicada\.toml: key 'users': expected a whole number ≥ 0, got 'abc'/, { cwd: dir });
    const flagDir = await dirWith('headless = "yes"\n');
    await fails([], /^cicada\.toml: key 'headless': expected true or false/, { cwd: flagDir });
  });

  it('validates a file value even when the command line overrides it', async () => {
    const dir = await dirWith('users = -1\n');
    await fails(['-u', '5'], /cicada\.toml: key 'users'/, { cwd: dir });
  });

  it('refuses a config key inside a config file', async () => {
    const dir = await dirWith('config = "x.toml"\n');
    await fails([], /cannot name another config file/, { cwd: dir });
  });
});

describe('unavailableFlags', () => {
  it('lists the distributed flags the user set, wherever they were set', async () => {
    const dir = await dirWith('expect-workers = 2\n');
    const { options, sources } = await run(['--master', '--processes', '4'], { CICADA_MASTER_PORT: '6000' }, dir);
    assert.deepEqual(unavailableFlags(options, sources), ['--master', '--expect-workers', '--master-port', '--processes']);
  });

  it('lists nothing for a plain run, nor for a switch set to false', async () => {
    const plain = await run(['--headless', '-u', '5']);
    assert.deepEqual(unavailableFlags(plain.options, plain.sources), []);
    const dir = await dirWith('master = false\n');
    const off = await run([], {}, dir);
    assert.deepEqual(unavailableFlags(off.options, off.sources), []);
  });

  it('includes --tls-cert and --tls-key by default and checks other groups on request', async () => {
    const { options, sources } = await run(['--tls-cert', 'c.pem', '--tls-key', 'k.pem', '-P', '9000']);
    assert.deepEqual(unavailableFlags(options, sources), ['--tls-cert', '--tls-key']);
    assert.deepEqual(unavailableFlags(options, sources, ['webPort', 'webHost']), ['--web-port']);
  });
});
