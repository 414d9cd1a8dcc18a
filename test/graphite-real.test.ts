// Graphite end to end: a real carbon-cache (behind stunnel4 for TLS) stores a real run's metrics; whisper holds the exact counts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { graphiteOutput } from '../src/cli/export-graphite.ts';
import { defaultOptions, type CicadaOptions } from '../src/cli/options.ts';
import { UsageError } from '../src/core/errors.ts';
import { linesLogger } from '../src/core/test-environment.test-helper.ts';
import { reportData } from '../src/exporters/fixtures.test-helper.ts';
import type { ExportSettings } from '../src/cli/export-settings.ts';
import { fixture, freePort, runCli, startCountingTarget, until, type CliResult, type CountingTarget } from './helpers.ts';

/** The peers, from Debian's apt (peers-checked.md); a missing one fails with the package to install. */
const PEERS = { carbon: ['/usr/bin/carbon-cache', 'graphite-carbon'], stunnel: ['/usr/bin/stunnel4', 'stunnel4'], python: ['/usr/bin/python3', 'python3'], openssl: ['/usr/bin/openssl', 'openssl'] } as const;

function requirePeers(): void {
  for (const [file, pkg] of Object.values(PEERS)) {
    if (!existsSync(file)) throw new Error(`${file} is missing: install the apt package ${pkg} (apt-get install -y ${pkg})`);
  }
  try {
    execFileSync(PEERS.python[0], ['-c', 'import whisper'], { stdio: 'pipe' });
  } catch {
    throw new Error(`${PEERS.python[0]} cannot import whisper: install the apt package python3-whisper (apt-get install -y python3-whisper)`);
  }
}

/** A peer process in the foreground, stopped by its PID (SIGTERM, then SIGKILL). */
interface Peer {
  port: number;
  log(): string;
  stop(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
}

async function startPeer(command: string, args: string[], port: number, what: string): Promise<Peer> {
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
  };
  try {
    await until(async () => {
      if (child.exitCode !== null) throw new Error(`${what} exited (code ${child.exitCode}):\n${log}`);
      return canConnect(port);
    }, `${what} to listen on 127.0.0.1:${port}\n${log}`, 20_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, log: () => log, stop };
}

/** carbon-cache with a config of its own under `dir`: 1 s points kept an hour, no tag database, no create limit. */
async function startCarbon(dir: string): Promise<Peer & { whisperDir: string }> {
  const [line, pickle, query] = [await freePort(), await freePort(), await freePort()];
  const sub = (name: string): string => path.join(dir, name) + path.sep;
  for (const name of ['storage/whisper', 'logs', 'pid', 'whitelists']) await mkdir(path.join(dir, name), { recursive: true });
  await writeFile(path.join(dir, 'carbon.conf'), [
    '[cache]', `STORAGE_DIR = ${sub('storage')}`, `LOCAL_DATA_DIR = ${sub('storage/whisper')}`, `WHITELISTS_DIR = ${sub('whitelists')}`,
    `CONF_DIR = ${sub('')}`, `LOG_DIR = ${sub('logs')}`, `PID_DIR = ${sub('pid')}`, 'USER =', 'DATABASE = whisper', 'ENABLE_TAGS = False',
    'MAX_CACHE_SIZE = inf', 'MAX_UPDATES_PER_SECOND = inf', 'MAX_CREATES_PER_MINUTE = inf', 'ENABLE_UDP_LISTENER = False',
    'LINE_RECEIVER_INTERFACE = 127.0.0.1', `LINE_RECEIVER_PORT = ${line}`, 'PICKLE_RECEIVER_INTERFACE = 127.0.0.1', `PICKLE_RECEIVER_PORT = ${pickle}`,
    'CACHE_QUERY_INTERFACE = 127.0.0.1', `CACHE_QUERY_PORT = ${query}`, '',
  ].join('\n'));
  await writeFile(path.join(dir, 'storage-schemas.conf'), '[all]\npattern = .*\nretentions = 1s:1h\n');
  const peer = await startPeer(PEERS.carbon[0], [`--config=${path.join(dir, 'carbon.conf')}`, '--nodaemon', 'start'], line, 'carbon-cache');
  return { ...peer, whisperDir: path.join(dir, 'storage', 'whisper') };
}

/** stunnel4 terminating TLS with `cert` and forwarding the plaintext to `connectPort`. */
async function startStunnel(dir: string, name: string, cert: { pem: string; key: string }, connectPort: number): Promise<Peer> {
  const port = await freePort();
  const conf = path.join(dir, `${name}.conf`);
  await writeFile(conf, ['foreground = yes', 'pid =', 'debug = notice', `[${name}]`, `accept = 127.0.0.1:${port}`, `connect = 127.0.0.1:${connectPort}`, `cert = ${cert.pem}`, `key = ${cert.key}`, ''].join('\n'));
  return startPeer(PEERS.stunnel[0], [conf], port, `stunnel4 (${name})`);
}

/** Two CAs, each signing a server certificate for IP 127.0.0.1, made with the openssl CLI. */
function makeCertificates(dir: string): Record<'caA' | 'caB', string> & Record<'serverA' | 'serverB', { pem: string; key: string }> {
  const file = (name: string): string => path.join(dir, name);
  const run = (args: string[]): void => void execFileSync(PEERS.openssl[0], args, { cwd: dir, stdio: 'pipe', timeout: 10_000 });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const server = (ca: string, name: string): { pem: string; key: string } => {
    run(['req', '-x509', ...key, '-keyout', file(`${ca}.key`), '-out', file(`${ca}.pem`), '-days', '2', '-subj', `/CN=${ca}`]);
    run(['req', '-new', ...key, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', `/CN=${name}`]);
    execFileSync('/bin/sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > ${name}.ext`], { cwd: dir });
    run(['x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.pem`), '-CAkey', file(`${ca}.key`), '-CAcreateserial', '-out', file(`${name}.pem`), '-days', '2', '-extfile', file(`${name}.ext`)]);
    return { pem: file(`${name}.pem`), key: file(`${name}.key`) };
  };
  const serverA = server('ca-a', 'server-a');
  const serverB = server('ca-b', 'server-b');
  return { caA: file('ca-a.pem'), caB: file('ca-b.pem'), serverA, serverB };
}

/** The latest value a whisper file holds, through Debian's python3-whisper (undefined: no file or no point yet). */
async function lastWhisperValue(file: string): Promise<number | undefined> {
  if (!existsSync(file)) return undefined;
  const script = 'import json, sys, whisper\n(start, end, step), values = whisper.fetch(sys.argv[1], 0)\nprint(json.dumps([v for v in values if v is not None][-1:]))';
  const { stdout } = await promisify(execFile)(PEERS.python[0], ['-c', script, file]);
  return (JSON.parse(stdout) as number[])[0];
}

/** The fixture's names, their sanitised Graphite components, and the target's `METHOD /path` for each. */
const NAMES = [{ component: 'home_page', target: 'GET /one' }, { component: 'items_id_n', target: 'GET /items' }];
const RUN_S = 3;

function runWithGraphite(target: CountingTarget, address: string, prefix: string, extra: string[] = []): Promise<CliResult> {
  return runCli(['-f', fixture('graphite.ts'), '-H', target.url, '-u', '4', '-r', '20', '-t', `${RUN_S}s`, '--headless', '--only-summary',
    '--graphite', address, '--graphite-prefix', prefix, '--metrics-interval', '1', ...extra], { timeoutMs: 40_000 });
}

/** Waits until whisper holds, for each name, the count the target received; fails naming what it found. */
async function assertStoredCounts(whisperDir: string, prefix: string, target: CountingTarget, result: CliResult): Promise<void> {
  const expected = NAMES.map((n) => target.counts.get(n.target) ?? 0);
  assert.ok(expected.every((n) => n > 0), `the target received no request for some name: ${JSON.stringify([...target.counts])}\n${result.stderr}`);
  const files = NAMES.map((n) => path.join(whisperDir, prefix, 'requests', 'default', 'GET', n.component, 'count.wsp'));
  let stored: (number | undefined)[] = [];
  try {
    await until(async () => {
      stored = await Promise.all(files.map(lastWhisperValue));
      return stored.every((v, i) => v === expected[i]);
    }, 'the whisper files to hold the final counts', 15_000);
  } catch (error) {
    assert.fail(`whisper holds ${JSON.stringify(stored)}, the target counted ${JSON.stringify(expected)} (${(error as Error).message})\n${result.stderr}`);
  }
  const total = await lastWhisperValue(path.join(whisperDir, prefix, 'total', 'count.wsp'));
  assert.equal(total, target.total());
}

describe('Graphite with a real carbon-cache', { concurrency: 1 }, () => {
  let dir = '';
  let carbon: Awaited<ReturnType<typeof startCarbon>> | undefined;
  let certs: ReturnType<typeof makeCertificates>;
  const tunnels: Peer[] = [];

  before(async () => {
    requirePeers();
    dir = await mkdtemp(path.join(tmpdir(), 'cicada-graphite-'));
    certs = makeCertificates(dir);
    carbon = await startCarbon(dir);
  });

  after(async () => {
    for (const peer of [...tunnels, ...(carbon !== undefined ? [carbon] : [])]) await peer.stop();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('stores each name\'s final request count, equal to what the target received', async () => {
    const target = await startCountingTarget();
    try {
      const result = await runWithGraphite(target, `127.0.0.1:${carbon!.port}`, 'plain');
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /Graphite at 127\.0\.0\.1:\d+: \d+ points sent\n/);
      assert.doesNotMatch(result.stderr, /clear text/, 'loopback needs no warning');
      await assertStoredCounts(carbon!.whisperDir, 'plain', target, result);
    } finally {
      await target.close();
    }
  });

  it('stores the same over TLS through stunnel4, trusting the CA of --export-ca-file', async () => {
    const tunnel = await startStunnel(dir, 'tls', certs.serverA, carbon!.port);
    tunnels.push(tunnel);
    const target = await startCountingTarget();
    try {
      const result = await runWithGraphite(target, `127.0.0.1:${tunnel.port}`, 'tls', ['--graphite-tls', '--export-ca-file', certs.caA]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /Graphite at 127\.0\.0\.1:\d+ \(TLS\): \d+ points sent\n/);
      await assertStoredCounts(carbon!.whisperDir, 'tls', target, result);
    } finally {
      await target.close();
    }
  });

  it('ends on time against a certificate from another CA: its usual exit code, one error line, the unsent points counted', async () => {
    const tunnel = await startStunnel(dir, 'foreign', certs.serverB, carbon!.port);
    tunnels.push(tunnel);
    const target = await startCountingTarget();
    try {
      const started = Date.now();
      const result = await runWithGraphite(target, `127.0.0.1:${tunnel.port}`, 'foreign', ['--graphite-tls', '--export-ca-file', certs.caA]);
      const seconds = (Date.now() - started) / 1000;
      assert.equal(result.code, 0, result.stderr);
      assert.ok(target.total() > 0);
      // Start-up (tsx) takes a few seconds; the exporter may add at most one failed handshake, never its grace period.
      assert.ok(seconds < RUN_S + 8, `the run took ${seconds.toFixed(1)} s\n${result.stderr}`);
      const errors = result.stderr.split('\n').filter((l) => /ERROR/.test(l));
      assert.equal(errors.length, 1, result.stderr);
      assert.match(errors[0]!, /Graphite at 127\.0\.0\.1:\d+ \(TLS\) failed: TLS to 127\.0\.0\.1:\d+: its certificate is not signed by the CA in --export-ca-file/);
      assert.match(result.stderr, /Graphite at 127\.0\.0\.1:\d+ \(TLS\): 0 points sent, [1-9]\d* NOT sent \(\d+ failed attempts\)/);
      assert.equal(existsSync(path.join(carbon!.whisperDir, 'foreign')), false, 'nothing may reach carbon through an untrusted endpoint');
    } finally {
      await target.close();
    }
  });
});

describe('graphiteOutput against a local TCP listener', () => {
  const settings = (overrides: Partial<CicadaOptions>): ExportSettings & { logger: ReturnType<typeof linesLogger> } => ({
    options: { ...defaultOptions(), ...overrides }, logger: linesLogger(), workers: () => 0,
  });
  const progress = { elapsedMs: 1000, userCount: 1, targetUserCount: 1, spawning: false, state: 'running' };

  it('refuses a bad --graphite value as a usage error (exit 2) with a hint', async () => {
    for (const value of ['nonsense', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', 'tcp://127.0.0.1:2003', '[nope]:2003', ':2003', 'a b:2003', '']) {
      const output = graphiteOutput(settings({ graphite: value }));
      await assert.rejects(
        async () => output.start?.(),
        (e: unknown) => e instanceof UsageError && e.exitCode === 2 && /^--graphite /.test(e.message) && /HOST:PORT, e\.g\. --graphite 127\.0\.0\.1:2003/.test(e.hint ?? ''),
        JSON.stringify(value),
      );
    }
  });

  it('warns that a host beyond loopback gets the metrics in clear text, unless --graphite-tls', async () => {
    // start() never connects, so no packet leaves 127.0.0.1 here.
    const clear = settings({ graphite: 'graphite.example.com:2003' });
    await graphiteOutput(clear).start?.();
    assert.equal(clear.logger.lines.filter((l) => /^warning Graphite: metrics go to graphite\.example\.com:2003 in clear text.*--graphite-tls/.test(l)).length, 1, clear.logger.lines.join('\n'));
    const secure = settings({ graphite: 'graphite.example.com:2003', graphiteTls: true });
    await graphiteOutput(secure).start?.();
    const local = settings({ graphite: 'localhost:2003' });
    await graphiteOutput(local).start?.();
    assert.deepEqual([...secure.logger.lines, ...local.logger.lines], []);
  });

  it('refuses an --export-ca-file without a certificate in it', async () => {
    await assert.rejects(async () => graphiteOutput(settings({ graphite: '127.0.0.1:2003', graphiteTls: true, exportCaFile: fixture('graphite.ts') })).start?.(), /--export-ca-file .*: no PEM certificate in it/);
  });

  it('sends every push over one connection, and reconnects once it dropped', async () => {
    const connections: net.Socket[] = [];
    let received = '';
    const server = net.createServer((socket) => {
      connections.push(socket);
      socket.on('data', (d: Buffer) => (received += d.toString()));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const s = settings({ graphite: `127.0.0.1:${port}`, metricsInterval: 1 });
      const output = graphiteOutput(s);
      await output.start?.();
      const data = reportData();
      const stamped = (seconds: number): number => received.split('\n').filter((l) => l.endsWith(` ${seconds}`)).length;
      void output.tick?.({ data, progress, now: 1_000_000_000_000 });
      void output.tick?.({ data, progress, now: 1_000_000_001_000 });
      await until(() => stamped(1_000_000_001) > 0, 'the second push');
      assert.equal(connections.length, 1);
      const perPush = stamped(1_000_000_000);
      assert.equal(stamped(1_000_000_001), perPush);
      connections[0]!.destroy();
      let tick = 0;
      await until(() => {
        void output.tick?.({ data, progress, now: 1_000_000_010_000 + tick++ * 1000 });
        return connections.length === 2;
      }, 'a second connection');
      await output.stop?.(data, { exitCode: 0 });
      assert.equal(connections.length, 2);
      assert.equal(s.logger.lines.filter((l) => /^(info|warning) Graphite at 127\.0\.0\.1:\d+: \d+ points sent/.test(l)).length, 1, s.logger.lines.join('\n'));
      assert.ok(received.split('\n').every((l) => l === '' || /^cicada\.[\w.-]+ [\d.e+-]+ \d+$/.test(l)));
    } finally {
      for (const c of connections) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
