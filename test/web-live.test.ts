// The web server on real sockets: the live SSE stream (Origin check, increments, reset, logout), and HTTPS (cookie, HSTS, TLS versions).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { Agent, request } from 'undici';
import { makeTlsFixtures, type TlsFixtures } from '../src/transport/tls-fixtures.test-helper.ts';
import { PASSWORDS, startTestServer, type TestServer } from './web-helpers.ts';

interface StatsEvent {
  state: string;
  user_count: number;
  history: { time: number }[];
  history_reset: boolean;
}

/** Reads SSE events named `name` from a fetch response until `enough(events)` says so (or the stream ends). */
async function readUntil(res: Response, enough: (events: unknown[]) => boolean, name = 'stats'): Promise<unknown[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const out: unknown[] = [];
  while (!enough(out)) {
    const { value, done } = (await reader.read()) as { value: Uint8Array | undefined; done: boolean };
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event === name && data !== undefined) out.push(JSON.parse(data));
    }
  }
  await reader.cancel();
  return out;
}

/** Reads `count` SSE events named `name`. */
function readEvents(res: Response, count: number, name = 'stats'): Promise<unknown[]> {
  return readUntil(res, (events) => events.length >= count, name);
}

describe('web: the live stream', () => {
  let server: TestServer;
  let url: string;
  let cookie: string;
  let token: string;
  before(async () => {
    server = await startTestServer({ withUsers: true });
    url = await server.listen();
    const res = await fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'otto', password: PASSWORDS.operator }) });
    cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    token = ((await res.json()) as { csrfToken: string }).csrfToken;
  });
  after(async () => {
    await server.runner.stop();
    await server.close();
  });

  it('refuses a live stream from a foreign Origin or a cross-site context', async () => {
    for (const headers of [{ origin: 'http://127.0.0.2:8000' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }] as Record<string, string>[]) {
      const res = await fetch(`${url}/stream`, { headers: { cookie, ...headers } });
      assert.equal(res.status, 403, JSON.stringify(headers));
      await res.body?.cancel();
    }
  });

  it('sends the whole history first, then only new points, and the whole history again after a reset', async () => {
    await fetch(`${url}/swarm`, { method: 'POST', headers: { cookie, 'x-csrf-token': token, 'content-type': 'application/json' }, body: JSON.stringify({ user_count: 2, spawn_rate: 100 }) });
    await new Promise((r) => setTimeout(r, 1500));
    const res = await fetch(`${url}/stream`, { headers: { cookie } });
    assert.equal(res.headers.get('content-security-policy')?.includes("frame-ancestors 'none'"), true, 'security headers on the stream too');
    const events = (await readEvents(res, 4)) as StatsEvent[];
    assert.equal(events[0]!.history_reset, true);
    assert.ok(events[0]!.history.length >= 2, `first event holds the history so far (${events[0]!.history.length} points)`);
    const times = events.flatMap((e) => e.history.map((p) => p.time));
    assert.equal(new Set(times).size, times.length, 'no point is sent twice');
    assert.ok(events.slice(1).every((e) => !e.history_reset));
    assert.equal(events.at(-1)!.state, 'running');

    const stream = await fetch(`${url}/stream`, { headers: { cookie } });
    const first = (await readEvents(stream, 1)) as StatsEvent[];
    assert.ok(first[0]!.history.length > 0);
    const again = await fetch(`${url}/stream`, { headers: { cookie } });
    // Reads until an event after the first one says the history restarted (or 200 events, about 20 s).
    const readAll = readUntil(again, (events) => events.length >= 200 || (events.length > 1 && (events.at(-1) as StatsEvent).history_reset));
    await new Promise((r) => setTimeout(r, 150));
    const a = await adminLogin();
    const reset = await fetch(`${url}/stats/reset`, { method: 'POST', headers: { cookie: a.cookie, 'x-csrf-token': a.token } });
    assert.equal(reset.status, 200, await reset.text());
    const afterReset = (await readAll) as StatsEvent[];
    assert.ok(afterReset.slice(1).some((e) => e.history_reset), 'a reset makes the stream send the history whole again');
  });

  let admin: { cookie: string; token: string } | undefined;
  async function adminLogin(): Promise<{ cookie: string; token: string }> {
    if (admin) return admin;
    const res = await fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ada', password: PASSWORDS.admin }) });
    admin = { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!, token: ((await res.json()) as { csrfToken: string }).csrfToken };
    return admin;
  }

  it('ends the stream of a session that logs out', async () => {
    const res = await fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'vic', password: PASSWORDS.viewer }) });
    const viewerCookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    const viewerToken = ((await res.json()) as { csrfToken: string }).csrfToken;
    const stream = await fetch(`${url}/stream`, { headers: { cookie: viewerCookie } });
    const expired = readEvents(stream, 1, 'expired');
    await fetch(`${url}/logout`, { method: 'POST', headers: { cookie: viewerCookie, 'x-csrf-token': viewerToken } });
    assert.equal((await expired).length, 1);
  });
});

describe('web: closing the server', () => {
  // Without the fix, close() waits for the browser forever: the test's timeout fails it.
  it('ends open live streams so the process can quit', { timeout: 10_000 }, async () => {
    const server = await startTestServer({});
    const url = await server.listen();
    const stream = await fetch(`${url}/stream`);
    const reading = readUntil(stream, () => false);
    await server.close();
    const events = await reading;
    assert.ok(events.length >= 1, 'the stream was open and sending before the close');
  });
});

describe('web: HTTPS', () => {
  let tls: TlsFixtures;
  let server: TestServer;
  let url: string;
  let agent: Agent;
  before(async () => {
    tls = makeTlsFixtures();
    server = await startTestServer({ withUsers: true, tls: { cert: tls.serverCert, key: tls.serverKey } });
    url = await server.listen();
    agent = new Agent({ connect: { ca: tls.ca } });
  });
  after(async () => {
    await agent.close();
    await server.close();
    tls.cleanup();
  });

  it('serves over TLS with a __Host- Secure cookie and HSTS', async () => {
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await request(`${url}/login`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'otto', password: PASSWORDS.operator }) });
    assert.equal(res.statusCode, 200);
    const cookie = String(res.headers['set-cookie']);
    assert.match(cookie, /^__Host-cicada_session=/);
    assert.match(cookie, /; Secure/);
    assert.match(cookie, /Path=\//);
    assert.doesNotMatch(cookie, /Domain=/);
    assert.match(String(res.headers['strict-transport-security']), /max-age=31536000/);
    await res.body.dump();
    const session = await request(`${url}/session`, { dispatcher: agent, headers: { cookie: cookie.split(';')[0]! } });
    assert.equal(session.statusCode, 200);
    await session.body.dump();
  });

  it('refuses a TLS 1.1 client', async () => {
    const port = Number(new URL(url).port);
    const outcome = await new Promise<string>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, ca: tls.ca, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' });
      socket.once('secureConnect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error) => resolve(`refused: ${error.message}`));
    });
    assert.match(outcome, /^refused/);
  });
});
