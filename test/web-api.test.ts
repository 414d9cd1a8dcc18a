// The web API through fastify.inject: roles on every route, sessions, CSRF and origins, auth mode none, logs, rate limit, thresholds and checks.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gatedReportData, HOSTILE, hostileGatedReportData } from '../src/exporters/fixtures.test-helper.ts';
import type { ReportData } from '../src/exporters/report-data.ts';
import type { Access, Role } from '../src/web/roles.ts';
import { call, HOST, login, message, PASSWORDS, startTestServer, type Call, type Login, type TestServer } from './web-helpers.ts';

const EXPECTED: Record<string, Access> = {
  'GET /': 'public', 'HEAD /': 'public', 'GET /login': 'public', 'HEAD /login': 'public',
  'GET /assets/:file': 'public', 'HEAD /assets/:file': 'public', 'POST /login': 'public',
  'GET /session': 'public', 'HEAD /session': 'public', 'POST /logout': 'viewer',
  'POST /swarm': 'operator', 'POST /stop': 'operator', 'POST /stats/reset': 'admin',
  'GET /config': 'viewer', 'HEAD /config': 'viewer', 'GET /stats/requests': 'viewer', 'HEAD /stats/requests': 'viewer',
  'GET /stats/history': 'viewer', 'HEAD /stats/history': 'viewer', 'GET /exceptions': 'viewer', 'HEAD /exceptions': 'viewer',
  'GET /stats/thresholds': 'viewer', 'HEAD /stats/thresholds': 'viewer', 'GET /stats/checks': 'viewer', 'HEAD /stats/checks': 'viewer',
  'GET /tasks': 'viewer', 'HEAD /tasks': 'viewer', 'GET /worker-count': 'viewer', 'HEAD /worker-count': 'viewer',
  'GET /stream': 'viewer', 'GET /metrics': 'viewer', 'HEAD /metrics': 'viewer',
  'GET /stats/requests/csv': 'admin', 'HEAD /stats/requests/csv': 'admin', 'GET /stats/failures/csv': 'admin', 'HEAD /stats/failures/csv': 'admin',
  'GET /exceptions/csv': 'admin', 'HEAD /exceptions/csv': 'admin', 'GET /stats/requests_full_history/csv': 'admin',
  'HEAD /stats/requests_full_history/csv': 'admin', 'GET /stats/report': 'admin', 'HEAD /stats/report': 'admin',
};
const RANK: Record<Access, number> = { public: 0, viewer: 1, operator: 2, admin: 3 };

describe('web API: roles on every route (deny by default)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ withUsers: true });
  });
  after(async () => {
    await server.runner.stop();
    await server.close();
  });

  it('every registered route is in the expected table, and every table line is registered', () => {
    const registered = server.routes.map((r) => `${r.method} ${r.url}`);
    for (const key of registered) assert.ok(key in EXPECTED, `route ${key} is not in the expected access table: add it (and decide who may call it)`);
    for (const r of server.routes) assert.equal(r.access, EXPECTED[`${r.method} ${r.url}`], `${r.method} ${r.url}`);
    assert.deepEqual(new Set(registered), new Set(Object.keys(EXPECTED)));
  });

  it('anonymous, viewer, operator and admin get exactly what their role allows on each route', async () => {
    const sessions: Record<Role, Login> = { viewer: await login(server, 'viewer'), operator: await login(server, 'operator'), admin: await login(server, 'admin') };
    const who: ('anonymous' | Role)[] = ['anonymous', 'viewer', 'operator', 'admin'];
    // /logout last: it ends the session the other calls use.
    const routes = server.routes.filter((r) => r.url !== '/stream').sort((a, b) => Number(a.url === '/logout') - Number(b.url === '/logout'));
    for (const r of routes) {
      const url = r.url.replace(':file', 'missing.js');
      for (const w of who) {
        const s = w === 'anonymous' ? undefined : sessions[w];
        const body = r.url === '/swarm' ? { user_count: 0, spawn_rate: 1 } : r.url === '/login' ? { username: 'nobody', password: 'x' } : {};
        const res = await call(server, r.method, url, { ...(s ? { cookie: s.cookie, token: s.token } : {}), ...(r.method === 'POST' ? { body } : {}) });
        const allowed = r.access === 'public' || (w !== 'anonymous' && RANK[w] >= RANK[r.access]);
        const label = `${w} ${r.method} ${url} → ${res.statusCode}`;
        // Public /login and /session answer 401 for a wrong password or no session: that is their contract, not a refusal.
        if (allowed) assert.ok(res.statusCode !== 403 && !(res.statusCode === 401 && r.url !== '/login' && r.url !== '/session'), label);
        else assert.equal(res.statusCode, w === 'anonymous' ? 401 : 403, label);
      }
    }
  });

  it('/stream follows the same rule', async () => {
    const viewer = await login(server, 'viewer');
    const anonymous = await call(server, 'GET', '/stream');
    assert.equal(anonymous.statusCode, 401);
    const listening = await server.listen();
    const res = await fetch(`${listening}/stream`, { headers: { cookie: viewer.cookie } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream; charset=utf-8/);
    await res.body?.cancel();
  });
});

describe('web API: the session contract', () => {
  let server: TestServer;
  let now = Date.now();
  before(async () => {
    server = await startTestServer({ withUsers: true, now: () => now, sessionTimeouts: { idleMs: 60_000, absoluteMs: 300_000 } });
  });
  after(() => server.close());

  it('POST /login answers the user, role and CSRF token, with an HttpOnly SameSite=Strict cookie', async () => {
    const res = await call(server, 'POST', '/login', { body: { username: 'otto', password: PASSWORDS.operator } });
    assert.equal(res.statusCode, 200);
    const body = res.json<Record<string, unknown>>();
    assert.equal(body.user, 'otto');
    assert.equal(body.role, 'operator');
    assert.equal(body.authMode, 'users');
    assert.match(String(body.csrfToken), /^[\w-]{43}$/);
    const cookie = String(res.headers['set-cookie']);
    assert.match(cookie, /^cicada_session=[\w-]{43};/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Path=\//);
    assert.doesNotMatch(cookie, /Secure/, 'no Secure over plain http (the browser would drop it)');
    const session = await call(server, 'GET', '/session', { cookie: cookie.split(';')[0] });
    assert.deepEqual(session.json(), body);
  });

  it('a wrong password and an unknown user get the same 401', async () => {
    const wrong = await call(server, 'POST', '/login', { body: { username: 'otto', password: 'not it at all' } });
    const unknown = await call(server, 'POST', '/login', { body: { username: 'mallory', password: 'not it at all' } });
    assert.equal(wrong.statusCode, 401);
    assert.equal(unknown.statusCode, 401);
    assert.equal(message(wrong), message(unknown));
    assert.equal(wrong.headers['set-cookie'], undefined);
  });

  it('refuses malformed logins with 400 naming the field', async () => {
    for (const [body, field] of [[{ username: 'otto' }, 'password'], [{ password: 'x' }, 'username'], [{ username: 'otto', password: 'x', role: 'admin' }, 'role'], [['otto'], 'body']] as const) {
      const res = await call(server, 'POST', '/login', { body });
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.equal(res.json<{ field: string }>().field, field);
    }
  });

  it('the login form posts fields and is redirected to /', async () => {
    const res = await call(server, 'POST', '/login', { form: `username=ada&password=${encodeURIComponent(PASSWORDS.admin)}` });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/');
    assert.match(String(res.headers['set-cookie']), /^cicada_session=/);
  });

  it('GET /session without a session is 401 and says which logins exist', async () => {
    const res = await call(server, 'GET', '/session');
    assert.equal(res.statusCode, 401);
    assert.deepEqual(res.json<{ login: unknown }>().login, { password: true, oidc: false });
  });

  it('gives a new session id at every login and forgets the old one', async () => {
    const first = await login(server, 'viewer');
    const res = await call(server, 'POST', '/login', { cookie: first.cookie, body: { username: 'vic', password: PASSWORDS.viewer } });
    const second = String(res.headers['set-cookie']).split(';')[0]!;
    assert.notEqual(second, first.cookie);
    assert.equal((await call(server, 'GET', '/session', { cookie: first.cookie })).statusCode, 401);
    assert.equal((await call(server, 'GET', '/session', { cookie: second })).statusCode, 200);
  });

  it('POST /logout ends the session on the server: the old cookie gets 401', async () => {
    const s = await login(server, 'viewer');
    const noToken = await call(server, 'POST', '/logout', { cookie: s.cookie });
    assert.equal(noToken.statusCode, 403, 'logout needs the CSRF token too');
    const out = await call(server, 'POST', '/logout', { cookie: s.cookie, token: s.token });
    assert.equal(out.statusCode, 200);
    assert.match(String(out.headers['set-cookie']), /cicada_session=;/);
    assert.equal((await call(server, 'GET', '/stats/requests', { cookie: s.cookie })).statusCode, 401);
  });

  it('ends a session after the idle timeout, and after the absolute timeout even when used', async () => {
    const idle = await login(server, 'viewer');
    now += 59_000;
    assert.equal((await call(server, 'GET', '/config', { cookie: idle.cookie })).statusCode, 200, 'used within the idle time');
    now += 61_000;
    assert.equal((await call(server, 'GET', '/config', { cookie: idle.cookie })).statusCode, 401, 'idle for more than a minute');

    const busy = await login(server, 'viewer');
    for (let i = 0; i < 6; i++) {
      now += 50_000;
      assert.equal((await call(server, 'GET', '/config', { cookie: busy.cookie })).statusCode, 200, `use ${i}`);
    }
    now += 50_000;
    assert.equal((await call(server, 'GET', '/config', { cookie: busy.cookie })).statusCode, 401, 'older than the absolute timeout');
  });
});

describe('web API: CSRF and cross-site requests', () => {
  let server: TestServer;
  let operator: Login;
  before(async () => {
    server = await startTestServer({ withUsers: true });
    operator = await login(server, 'operator');
  });
  after(async () => {
    await server.runner.stop();
    await server.close();
  });
  const start = { user_count: 2, spawn_rate: 5 };

  it('refuses a state change without the token, with a wrong one, or with another session\'s', async () => {
    const other = await login(server, 'admin');
    const cases: [string, Call][] = [
      ['no token', { cookie: operator.cookie, body: start }],
      ['wrong token', { cookie: operator.cookie, token: 'x'.repeat(43), body: start }],
      ['another session\'s token', { cookie: operator.cookie, token: other.token, body: start }],
      ['token without the session', { token: operator.token, body: start }],
    ];
    for (const [label, c] of cases) {
      const res = await call(server, 'POST', '/swarm', c);
      assert.ok(res.statusCode === 403 || res.statusCode === 401, `${label}: ${res.statusCode}`);
      assert.equal(server.runner.state, 'ready', `${label}: no run started`);
    }
  });

  it('refuses a foreign Origin, a cross-site fetch, a text/plain simple request and GET', async () => {
    const auth = { cookie: operator.cookie, token: operator.token, body: start };
    const foreign = await call(server, 'POST', '/swarm', { ...auth, headers: { origin: 'http://127.0.0.2:8000' } });
    assert.equal(foreign.statusCode, 403);
    const crossSite = await call(server, 'POST', '/swarm', { ...auth, headers: { 'sec-fetch-site': 'cross-site' } });
    assert.equal(crossSite.statusCode, 403);
    const plain = await server.app.inject({ method: 'POST', url: '/swarm', headers: { host: HOST, cookie: operator.cookie, 'x-csrf-token': operator.token, 'content-type': 'text/plain' }, payload: 'user_count=2&spawn_rate=5' });
    assert.equal(plain.statusCode, 415);
    const get = await call(server, 'GET', '/swarm?user_count=2&spawn_rate=5', { cookie: operator.cookie });
    assert.equal(get.statusCode, 405);
    assert.equal(get.headers.allow, 'POST');
    assert.equal(server.runner.state, 'ready');
  });

  it('accepts the token in a header, or in the _csrf field of a form, from the same origin', async () => {
    const res = await call(server, 'POST', '/swarm', { cookie: operator.cookie, form: `user_count=1&spawn_rate=5&_csrf=${operator.token}`, headers: { origin: `http://${HOST}` } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(server.runner.targetUserCount, 1);
    const change = await call(server, 'POST', '/swarm', { cookie: operator.cookie, token: operator.token, body: { user_count: 3, spawn_rate: 5 } });
    assert.equal(change.statusCode, 200);
    assert.equal(server.runner.targetUserCount, 3);
  });

  it('does not echo a foreign Origin in CORS headers', async () => {
    const res = await call(server, 'GET', '/config', { cookie: operator.cookie, headers: { origin: 'http://evil.example' } });
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });
});

describe('web API: auth mode none (loopback, no users file)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({});
  });
  after(async () => {
    await server.runner.stop();
    await server.close();
  });

  it('reads without a session, but changes nothing without the CSRF token of a session', async () => {
    assert.equal((await call(server, 'GET', '/stats/requests')).statusCode, 200);
    const refused = await call(server, 'POST', '/swarm', { body: { user_count: 1, spawn_rate: 1 } });
    assert.equal(refused.statusCode, 403);
    assert.match(message(refused), /no session: .*GET \/session, keep its cookie/);
    assert.equal(server.runner.state, 'ready');
    const session = await call(server, 'GET', '/session');
    const body = session.json<{ user: string; role: string; csrfToken: string; authMode: string }>();
    assert.deepEqual([body.user, body.role, body.authMode], ['local', 'admin', 'none']);
    const cookie = String(session.headers['set-cookie']).split(';')[0]!;
    const ok = await call(server, 'POST', '/swarm', { cookie, token: body.csrfToken, body: { user_count: 1, spawn_rate: 1 } });
    assert.equal(ok.statusCode, 200);
    await server.runner.stop();
  });

  it('refuses a Host header that is not loopback (DNS rebinding)', async () => {
    for (const host of ['evil.example', 'evil.example:8089', '127.0.0.1.evil.example']) {
      const res = await server.app.inject({ method: 'GET', url: '/stats/requests', headers: { host } });
      assert.equal(res.statusCode, 403, host);
    }
    for (const host of ['localhost:8089', '127.0.0.1', '[::1]:8089']) {
      const res = await server.app.inject({ method: 'GET', url: '/config', headers: { host } });
      assert.equal(res.statusCode, 200, host);
    }
  });

  it('says there is nothing to log in to', async () => {
    const res = await call(server, 'POST', '/login', { body: { username: 'a', password: 'b' } });
    assert.equal(res.statusCode, 400);
    assert.match(message(res), /GET \/session/);
  });
});

describe('web API: security events are logged', () => {
  it('logs failed logins, refused roles and refused CSRF tokens, without the password', async () => {
    const lines: string[] = [];
    const log = (m: string): void => void lines.push(m);
    const server = await startTestServer({ withUsers: true, logger: { debug: log, info: log, warning: log, error: log } });
    await call(server, 'POST', '/login', { body: { username: 'otto', password: 'guessing-password' } });
    const viewer = await login(server, 'viewer');
    await call(server, 'POST', '/stop', { cookie: viewer.cookie, token: viewer.token });
    await call(server, 'POST', '/logout', { cookie: viewer.cookie, token: 'forged' });
    await server.close();
    assert.ok(lines.some((l) => /failed login as "otto"/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /vic \(viewer\) was refused POST \/stop: needs operator/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /refused POST \/logout from vic: a wrong CSRF token/.test(l)), lines.join('\n'));
    assert.ok(!lines.some((l) => l.includes('guessing-password')));
  });
});

describe('web API: login rate limit', () => {
  it('answers 429 with Retry-After after too many attempts', async () => {
    const server = await startTestServer({ withUsers: true, loginRateLimit: { max: 3, windowMs: 60_000 } });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await call(server, 'POST', '/login', { body: { username: 'otto', password: 'wrong guess here' } })).statusCode);
    assert.deepEqual(codes, [401, 401, 401, 429, 429]);
    const last = await call(server, 'POST', '/login', { body: { username: 'otto', password: PASSWORDS.operator } });
    assert.equal(last.statusCode, 429, 'even the right password waits');
    assert.ok(Number(last.headers['retry-after']) > 0);
    await server.close();
  });
});

/** The first `stats` event of a /stream response, parsed. */
async function firstStatsEvent(res: Response): Promise<Record<string, unknown>> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = (await reader.read()) as { value: Uint8Array | undefined; done: boolean };
      if (done) throw new Error(`the stream ended before a stats event: ${buffer}`);
      buffer += decoder.decode(value, { stream: true });
      const data = /^event: stats\ndata: (.*)$/m.exec(buffer)?.[1];
      if (data !== undefined && buffer.includes(`${data}\n\n`)) return JSON.parse(data) as Record<string, unknown>;
    }
  } finally {
    await reader.cancel();
  }
}

describe('web API: thresholds and checks', () => {
  let server: TestServer;
  let viewer: Login;
  // What the run reports; a test may swap it and puts it back.
  let report: () => ReportData = gatedReportData;
  before(async () => {
    server = await startTestServer({ withUsers: true });
    server.run.report = () => report();
    viewer = await login(server, 'viewer');
  });
  after(() => server.close());

  it('GET /stats/thresholds gives a viewer every threshold as evaluated now, and how many failed', async () => {
    const res = await call(server, 'GET', '/stats/thresholds', { cookie: viewer.cookie });
    assert.equal(res.statusCode, 200);
    const body = res.json<{ thresholds: Record<string, unknown>[]; failed: number }>();
    assert.equal(body.failed, 1);
    assert.deepEqual(body.thresholds.map((t) => [t.metric, t.expression, t.ok, t.observed]), [
      ['response_time', 'p(95)<300', true, 120],
      ['response_time{name:/items/[id]}', 'p(99)<200', false, 260],
      ['fail_ratio', 'value<0.05', true, 0.01],
      ['requests{name:/never}', 'count>0', true, null],
    ]);
    assert.deepEqual(body.thresholds[1], { metric: 'response_time{name:/items/[id]}', expression: 'p(99)<200', ok: false, observed: 260, unit: 'ms', tags: { name: '/items/[id]' }, abort_on_fail: true });
  });

  it('GET /stats/checks gives a viewer each check per request with passes, fails, pass ratio and last error', async () => {
    const res = await call(server, 'GET', '/stats/checks', { cookie: viewer.cookie });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      checks: [
        { name: 'status is 200', request: '/items/[id]', passes: 370, fails: 10, pass_ratio: 370 / 380 },
        { name: 'status is 200', request: '/', passes: 600, fails: 0, pass_ratio: 1 },
        { name: 'has an id', request: '/items/[id]', passes: 379, fails: 1, pass_ratio: 379 / 380, last_error: "TypeError: Cannot read properties of null (reading 'id')" },
      ],
    });
  });

  it('refuses both to a caller without a session (401)', async () => {
    for (const url of ['/stats/thresholds', '/stats/checks']) assert.equal((await call(server, 'GET', url)).statusCode, 401, url);
  });

  it('answers empty lists for a run without thresholds or checks', async () => {
    report = () => {
      const data = gatedReportData();
      delete data.thresholds;
      delete data.snapshot.checks;
      return data;
    };
    try {
      assert.deepEqual((await call(server, 'GET', '/stats/thresholds', { cookie: viewer.cookie })).json(), { thresholds: [], failed: 0 });
      assert.deepEqual((await call(server, 'GET', '/stats/checks', { cookie: viewer.cookie })).json(), { checks: [] });
    } finally {
      report = gatedReportData;
    }
  });

  it('sends hostile names as JSON strings, unchanged', async () => {
    report = hostileGatedReportData;
    try {
      const checks = (await call(server, 'GET', '/stats/checks', { cookie: viewer.cookie })).json<{ checks: { name: string; last_error?: string }[] }>().checks;
      assert.ok(checks.every((c) => c.name === HOSTILE));
      const res = await call(server, 'GET', '/stats/thresholds', { cookie: viewer.cookie });
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.equal(res.json<{ thresholds: { tags: { name: string } }[] }>().thresholds[1]?.tags.name, HOSTILE);
    } finally {
      report = gatedReportData;
    }
  });

  it('each /stream event carries the thresholds, the failed count and the checks', async () => {
    const listening = await server.listen();
    const res = await fetch(`${listening}/stream`, { headers: { cookie: viewer.cookie } });
    assert.equal(res.status, 200);
    const event = await firstStatsEvent(res);
    assert.equal(event.thresholds_failed, 1);
    const thresholds = (await call(server, 'GET', '/stats/thresholds', { cookie: viewer.cookie })).json<{ thresholds: unknown }>().thresholds;
    assert.deepEqual(event.thresholds, thresholds);
    assert.deepEqual(event.checks, (await call(server, 'GET', '/stats/checks', { cookie: viewer.cookie })).json<{ checks: unknown }>().checks);
    assert.ok(Array.isArray(event.stats) && Array.isArray(event.history), 'the statistics are still there');
  });
});
