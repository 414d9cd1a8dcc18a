// Issue 13, the web server under attack: idle and excess connections (with a lowered fd limit), stream caps, login throttling per user name, proxies, URL credentials, one loopback.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { checkMasterBind } from '../src/cli/cluster-auth.ts';
import { defaultOptions } from '../src/cli/options.ts';
import { PASSWORDS, HOST, startTestServer, type TestServer } from './web-helpers.ts';
import { repoRoot } from './helpers.ts';
import { makeTlsFixtures } from '../src/transport/tls-fixtures.test-helper.ts';

/** One socket's fate: connected (or not), and when the server closed it (ms after it connected). */
interface Probe {
  socket: net.Socket;
  closedAfterMs: number | undefined;
}

/** Opens `count` TCP connections from `localAddress` that never send a byte. */
async function idleSockets(port: number, count: number, localAddress: string): Promise<Probe[]> {
  return Promise.all(Array.from({ length: count }, () => new Promise<Probe>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    const probe: Probe = { socket, closedAfterMs: undefined };
    let connectedAt = Date.now();
    socket.on('error', () => undefined);
    socket.on('close', () => {
      probe.closedAfterMs = Date.now() - connectedAt;
      resolve(probe);
    });
    socket.on('connect', () => {
      connectedAt = Date.now();
      resolve(probe);
    });
  })));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const stillOpen = (probes: readonly Probe[]): number => probes.filter((p) => p.closedAfterMs === undefined).length;
const closeAll = (probes: readonly Probe[]): void => {
  for (const p of probes) p.socket.destroy();
};

/** A GET over a fresh connection from 127.0.0.1; resolves with the status, or the error's text. */
async function get(url: string): Promise<{ status: number | string; ms: number }> {
  const started = Date.now();
  try {
    const res = await fetch(url, { headers: { connection: 'close' }, signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return { status: res.status, ms: Date.now() - started };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return { status: cause?.code ?? (error as Error).name, ms: Date.now() - started };
  }
}

interface LimitedServer {
  url: string;
  port: number;
  /** What the server logged as warnings so far. */
  warnings(): string[];
  kill(): void;
}

/** The test server in a child process whose file-descriptor limit is `fdLimit` (as a container with a low `ulimit -n` has). */
async function startLimitedServer(fdLimit: number, options: Record<string, unknown>): Promise<LimitedServer> {
  const helpers = pathToFileURL(path.join(repoRoot, 'test', 'web-helpers.ts')).href;
  const code = `import { startTestServer } from ${JSON.stringify(helpers)};
const quiet = () => undefined;
const logger = { debug: quiet, info: quiet, error: (m) => console.error('ERROR ' + m), warning: (m) => console.error('WARNING ' + m) };
const server = await startTestServer({ ...JSON.parse(process.argv[1]), logger });
console.log('listening ' + (await server.listen()));`;
  const child = spawn('sh', ['-c', `ulimit -n ${fdLimit} && exec "$0" --import tsx --input-type=module -e "$1" "$2"`, process.execPath, code, JSON.stringify(options)], {
    cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the child did not start: ${output}${stderr}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /listening (\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (c) => reject(new Error(`the child exited (${c}): ${output}${stderr}`)));
  });
  return { url, port: Number(new URL(url).port), warnings: () => stderr.split('\n').filter((l) => l.startsWith('WARNING')), kill: () => child.kill('SIGKILL') };
}

/** Waits until `check` holds or `ms` have passed (the server accepts a flood over a few hundred ms). */
async function settle(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await sleep(50);
}

describe('web hardening: idle and excess connections', { timeout: 60_000 }, () => {
  it('a server limited to 256 file descriptors still answers a normal GET while 400 idle sockets from one address are pointed at it', async () => {
    const server = await startLimitedServer(256, {});
    const attack: Probe[] = [];
    try {
      attack.push(...await idleSockets(server.port, 400, '127.0.0.2'));
      await settle(() => stillOpen(attack) <= 100);
      const held = stillOpen(attack);
      const res = await get(`${server.url}/session`);
      assert.equal(res.status, 200, `a normal GET got ${res.status} after ${res.ms} ms while the server held ${held} idle sockets`);
      assert.ok(res.ms < 2000, `answered in ${res.ms} ms`);
      assert.equal(held, 100, 'one address holds 100 connections, the rest were closed');
      const warnings = server.warnings();
      assert.equal(warnings.length, 1, `one warning for the whole flood, not one per socket:\n${warnings.join('\n')}`);
      assert.match(warnings[0]!, /closed new connections at once: 1 over the cap of 100 per address \(the latest from 127\.0\.0\.2\)/);
    } finally {
      closeAll(attack);
      server.kill();
    }
  });

  it('from many addresses, the total stays within half the descriptors, and the idle ones go after the connection timeout', async () => {
    const server = await startLimitedServer(256, { connectionLimits: { connectionTimeoutMs: 1000 } });
    const attack: Probe[] = [];
    try {
      for (const address of ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']) attack.push(...await idleSockets(server.port, 100, address));
      await settle(() => stillOpen(attack) <= 128);
      assert.equal(stillOpen(attack), 128, 'the total cap is 256 / 2: the run keeps the other descriptors for its own connections and files');
      await settle(() => stillOpen(attack) === 0);
      assert.equal(stillOpen(attack), 0, 'idle sockets are closed after the connection timeout');
      assert.equal((await get(`${server.url}/session`)).status, 200);
    } finally {
      closeAll(attack);
      server.kill();
    }
  });

  it('closes a connection that never sends a byte after the connection timeout', async () => {
    const server = await startTestServer({ connectionLimits: { connectionTimeoutMs: 300 } });
    const port = Number(new URL(await server.listen()).port);
    const [probe] = await idleSockets(port, 1, '127.0.0.1');
    await sleep(1200);
    const closedAfter = probe!.closedAfterMs;
    probe!.socket.destroy();
    await server.close();
    assert.ok(closedAfter !== undefined && closedAfter >= 250 && closedAfter < 1100, `closed after ${closedAfter} ms`);
  });

  it('over HTTPS too: a connection that never begins its TLS handshake is closed after the connection timeout', async () => {
    const tls = makeTlsFixtures();
    const server = await startTestServer({ tls: { cert: tls.serverCert, key: tls.serverKey }, connectionLimits: { connectionTimeoutMs: 300 } });
    const port = Number(new URL(await server.listen()).port);
    const [probe] = await idleSockets(port, 1, '127.0.0.1');
    await sleep(1200);
    const closedAfter = probe!.closedAfterMs;
    probe!.socket.destroy();
    await server.close();
    tls.cleanup();
    assert.ok(closedAfter !== undefined && closedAfter >= 250 && closedAfter < 1100, `closed after ${closedAfter} ms`);
  });

  it('closes connections beyond the per-address and total caps at once, but not those of a trusted proxy', async () => {
    const server = await startTestServer({ connectionLimits: { maxConnections: 12, maxConnectionsPerAddress: 4 }, trustProxy: ['127.0.0.3'] });
    const url = await server.listen();
    const port = Number(new URL(url).port);
    const probes: Probe[] = [];
    try {
      const one = await idleSockets(port, 6, '127.0.0.2');
      const proxy = await idleSockets(port, 7, '127.0.0.3');
      probes.push(...one, ...proxy);
      await sleep(200);
      assert.equal(stillOpen(one), 4, 'one address: 4 kept, the rest closed');
      assert.equal(stillOpen(proxy), 7, 'a trusted proxy carries many clients: not capped per address');
      assert.ok(one.filter((p) => p.closedAfterMs !== undefined).every((p) => p.closedAfterMs! < 100), 'closed at once');
      const more = await idleSockets(port, 4, '127.0.0.4');
      probes.push(...more);
      await sleep(200);
      assert.equal(stillOpen(more), 1, 'the total cap of 12 holds');
      closeAll(probes);
      await sleep(100);
      assert.equal((await get(`${url}/session`)).status, 200, 'once they are gone, a normal client gets in');
    } finally {
      closeAll(probes);
      await server.close();
    }
  });
});

describe('web hardening: live streams are capped per session', { timeout: 30_000 }, () => {
  let server: TestServer;
  let url: string;
  const errors: string[] = [];
  before(async () => {
    const log = (): void => undefined;
    server = await startTestServer({ streamLimits: { total: 5, perSession: 3 }, logger: { debug: log, info: log, warning: log, error: (m) => void errors.push(m) } });
    url = await server.listen();
  });
  after(() => server.close());

  async function session(): Promise<string> {
    const res = await fetch(`${url}/session`);
    return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  }

  it('answers the stream beyond a session\'s cap, and beyond the total cap, with 503 JSON and no stack trace', async () => {
    const a = await session();
    const b = await session();
    const c = await session();
    const open: Response[] = [];
    for (let i = 0; i < 3; i++) open.push(await fetch(`${url}/stream`, { headers: { cookie: a } }));
    assert.deepEqual(open.map((r) => r.status), [200, 200, 200]);
    const refused = await fetch(`${url}/stream`, { headers: { cookie: a } });
    assert.equal(refused.status, 503);
    assert.match(refused.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await refused.json()) as { success: boolean; message: string };
    assert.equal(body.success, false);
    assert.match(body.message, /3 live streams are open for this session/);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    open.push(await fetch(`${url}/stream`, { headers: { cookie: b } }), await fetch(`${url}/stream`, { headers: { cookie: b } }));
    assert.deepEqual(open.map((r) => r.status), [200, 200, 200, 200, 200], 'another session has its own cap');
    const full = await fetch(`${url}/stream`, { headers: { cookie: c } });
    assert.equal(full.status, 503);
    assert.match(((await full.json()) as { message: string }).message, /5 live streams are open in all/);
    // A stream that ends frees its place.
    await open.shift()!.body!.cancel();
    await sleep(100);
    const again = await fetch(`${url}/stream`, { headers: { cookie: c } });
    assert.equal(again.status, 200);
    open.push(again);
    for (const r of open) await r.body!.cancel();
    assert.deepEqual(errors, [], 'a refused stream is not an internal error');
  });
});

describe('web hardening: a live stream is not an idle connection', { timeout: 30_000 }, () => {
  it('outlives the connection timeout, since it writes every interval', async () => {
    const server = await startTestServer({ connectionLimits: { connectionTimeoutMs: 300 }, streamIntervalMs: 100 });
    const url = await server.listen();
    const cookie = ((await fetch(`${url}/session`)).headers.get('set-cookie') ?? '').split(';')[0]!;
    const res = await fetch(`${url}/stream`, { headers: { cookie } });
    const reader = res.body!.getReader();
    let events = 0;
    const until = Date.now() + 1200;
    while (Date.now() < until) {
      const { value, done } = await reader.read();
      if (done) break;
      events += (Buffer.from(value).toString().match(/event: stats/g) ?? []).length;
    }
    await reader.cancel();
    await server.close();
    assert.ok(events >= 8, `${events} events in 1.2 s, the stream was not cut at 300 ms`);
  });
});

/** A POST /login through inject, from `remoteAddress`, with extra headers. */
function loginFrom(server: TestServer, remoteAddress: string, username: string, password: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return server.app.inject({ method: 'POST', url: '/login', remoteAddress, headers: { host: HOST, ...headers }, payload: { username, password } });
}

describe('web hardening: login throttling per user name', { timeout: 30_000 }, () => {
  let now = 1_000_000;
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ withUsers: true, now: () => now, loginBackoff: { freeFailures: 3, baseMs: 1000, maxMs: 8000 } });
  });
  after(() => server.close());

  it('backs off exponentially after failures for one name, from any address, whatever the password', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await loginFrom(server, `198.51.100.${i}`, 'otto', 'wrong guess here')).statusCode);
    assert.deepEqual(codes, [401, 401, 401, 401, 429], 'three free failures, the fourth locks the name for 1 s');
    const locked = await loginFrom(server, '203.0.113.9', 'otto', PASSWORDS.operator);
    assert.equal(locked.statusCode, 429, 'the right password waits too (or the lock would tell a guess apart)');
    assert.equal(locked.headers['retry-after'], '1');
    assert.match(locked.json<{ message: string }>().message, /too many failed logins for this user name: try again in 1 s/);
    assert.equal((await loginFrom(server, '198.51.100.1', 'vic', PASSWORDS.viewer)).statusCode, 200, 'another name is not affected');
    now += 1000;
    assert.equal((await loginFrom(server, '198.51.100.1', 'otto', 'wrong again here')).statusCode, 401);
    const doubled = await loginFrom(server, '198.51.100.1', 'otto', PASSWORDS.operator);
    assert.equal(doubled.statusCode, 429);
    assert.equal(doubled.headers['retry-after'], '2', 'the next lock is twice as long');
    now += 2000;
    assert.equal((await loginFrom(server, '198.51.100.1', 'otto', PASSWORDS.operator)).statusCode, 200);
    assert.equal((await loginFrom(server, '198.51.100.1', 'otto', 'one typo here')).statusCode, 401, 'a success starts the count afresh');
  });

  it('treats an unknown name like a known one (no hint that a name exists)', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await loginFrom(server, '198.51.100.7', 'nobody-here', 'wrong guess here')).statusCode);
    assert.deepEqual(codes, [401, 401, 401, 401, 429]);
  });

  it('caps the lock at maxMs', async () => {
    // 3 free, then 1, 2, 4, 8 s, and the eighth failure would wait 16 s: capped at 8.
    for (let i = 0; i < 8; i++) {
      now += 10_000;
      await loginFrom(server, '198.51.100.8', 'ada', 'wrong guess here');
    }
    assert.equal((await loginFrom(server, '198.51.100.8', 'ada', PASSWORDS.admin)).headers['retry-after'], '8');
  });
});

describe('web hardening: the client address behind a proxy (--web-trust-proxy)', { timeout: 30_000 }, () => {
  const limit = { loginRateLimit: { max: 2, windowMs: 60_000 } };

  it('without it, every client behind the proxy shares the proxy\'s bucket', async () => {
    const server = await startTestServer({ withUsers: true, ...limit });
    const codes = [];
    for (const client of ['198.51.100.1', '198.51.100.1', '198.51.100.2']) codes.push((await loginFrom(server, '10.0.0.9', `u${codes.length}`, 'wrong guess here', { 'x-forwarded-for': client })).statusCode);
    assert.deepEqual(codes, [401, 401, 429], 'the third client is refused for what the first did');
    await server.close();
  });

  it('with it, each real client has its own bucket, and the log names the client', async () => {
    const lines: string[] = [];
    const log = (m: string): void => void lines.push(m);
    const server = await startTestServer({ withUsers: true, ...limit, trustProxy: ['10.0.0.0/8'], logger: { debug: log, info: log, warning: log, error: log } });
    const codes = [];
    for (const client of ['198.51.100.1', '198.51.100.1', '198.51.100.1', '198.51.100.2']) codes.push((await loginFrom(server, '10.0.0.9', `u${codes.length}`, 'wrong guess here', { 'x-forwarded-for': client })).statusCode);
    assert.deepEqual(codes, [401, 401, 429, 401]);
    assert.ok(lines.some((l) => /failed login as "u3" from 198\.51\.100\.2/.test(l)), lines.join('\n'));
    await server.close();
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const server = await startTestServer({ withUsers: true, ...limit, trustProxy: ['10.0.0.0/8'] });
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await loginFrom(server, '192.0.2.50', `u${i}`, 'wrong guess here', { 'x-forwarded-for': `198.51.100.${i}` })).statusCode);
    assert.deepEqual(codes, [401, 401, 429], 'a forged header does not buy a fresh bucket');
    await server.close();
  });

  it('refuses an entry that is not an address or a CIDR, naming the flag', async () => {
    await assert.rejects(startTestServer({ trustProxy: ['10.0.0.0/33'] }), /--web-trust-proxy 10\.0\.0\.0\/33: not an IP address or CIDR/);
    await assert.rejects(startTestServer({ trustProxy: ['loopback'] }), /--web-trust-proxy loopback/);
  });
});

describe('web hardening: URL credentials are masked', { timeout: 30_000 }, () => {
  it('/config, /stats/requests and the HTML report show the host as user:***@', async () => {
    const server = await startTestServer({ facts: { host: 'http://ann:Pw9hunter2@127.0.0.1:9' } });
    const report = server.run.report.bind(server.run);
    server.run.report = () => {
      const data = report();
      return { ...data, meta: { ...data.meta, host: 'http://ann:Pw9hunter2@127.0.0.1:9' } };
    };
    for (const route of ['/config', '/stats/requests', '/stats/report']) {
      const res = await server.app.inject({ method: 'GET', url: route, headers: { host: HOST } });
      assert.ok(res.body.includes('http://ann:***@127.0.0.1:9'), `${route}: ${res.body.slice(0, 300)}`);
      assert.ok(!res.body.includes('Pw9hunter2'), route);
    }
    await server.close();
  });
});

describe('web hardening: one loopback', { timeout: 30_000 }, () => {
  it('the web Host check treats [::1], 127.0.0.5 and localhost alike, whichever loopback name the server binds', async () => {
    for (const bind of ['127.0.0.1', '::1', 'localhost', '127.0.0.5']) {
      const server = await startTestServer({ host: bind });
      for (const host of ['[::1]:8089', '127.0.0.5:8089', 'localhost:8089', 'LOCALHOST', '127.0.0.1']) {
        const res = await server.app.inject({ method: 'GET', url: '/config', headers: { host } });
        assert.equal(res.statusCode, 200, `bind ${bind}, Host ${host}`);
      }
      for (const host of ['evil.example', '127.0.0.5.evil.example', '[::2]:8089', '0.0.0.0']) {
        const res = await server.app.inject({ method: 'GET', url: '/config', headers: { host } });
        assert.equal(res.statusCode, 403, `bind ${bind}, Host ${host}`);
      }
      await server.close();
    }
  });

  it('the cluster bind check treats [::1], 127.0.0.5 and localhost alike', () => {
    const unauthenticated = { secret: undefined, tls: undefined };
    for (const host of ['[::1]', '::1', '127.0.0.5', 'localhost']) {
      assert.doesNotThrow(() => checkMasterBind({ ...defaultOptions(), masterBindHost: host }, unauthenticated, () => undefined), host);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.1']) {
      assert.throws(() => checkMasterBind({ ...defaultOptions(), masterBindHost: host }, unauthenticated, () => undefined), /refusing to bind the master/, host);
    }
  });
});
