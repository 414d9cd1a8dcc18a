// The web API through fastify.inject: roles on every route, sessions, CSRF, origins, inputs, headers, downloads.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { sleep } from '../src/core/clock.ts';
import type { Access, Role } from '../src/web/roles.ts';
import { HOSTILE_NAME, PASSWORDS, startTestServer, USER_OF, type TestServer } from './web-helpers.ts';

const HOST = '127.0.0.1:8089';

interface Call {
  cookie?: string;
  token?: string;
  body?: unknown;
  form?: string;
  headers?: Record<string, string>;
}

function call(server: TestServer, method: string, url: string, c: Call = {}): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { host: HOST, ...(c.cookie ? { cookie: c.cookie } : {}), ...(c.token ? { 'x-csrf-token': c.token } : {}), ...c.headers };
  if (c.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  return server.app.inject({
    method: method as 'GET',
    url,
    headers,
    ...(c.form !== undefined ? { payload: c.form } : c.body !== undefined ? { payload: c.body as object } : {}),
  });
}

interface Login {
  cookie: string;
  token: string;
  setCookie: string;
}

async function login(server: TestServer, role: Role): Promise<Login> {
  const res = await call(server, 'POST', '/login', { body: { username: USER_OF[role], password: PASSWORDS[role] } });
  assert.equal(res.statusCode, 200, res.body);
  const setCookie = String(res.headers['set-cookie']);
  return { cookie: setCookie.split(';')[0]!, token: res.json<{ csrfToken: string }>().csrfToken, setCookie };
}

function message(res: LightMyRequestResponse): string {
  return res.json<{ message: string }>().message;
}

/** Who may call each route: the test fails when a route is added without a line here (deny by default). */
const EXPECTED: Record<string, Access> = {
  'GET /': 'public', 'HEAD /': 'public', 'GET /login': 'public', 'HEAD /login': 'public',
  'GET /assets/:file': 'public', 'HEAD /assets/:file': 'public', 'POST /login': 'public',
  'GET /session': 'public', 'HEAD /session': 'public', 'POST /logout': 'viewer',
  'POST /swarm': 'operator', 'POST /stop': 'operator', 'POST /stats/reset': 'admin',
  'GET /config': 'viewer', 'HEAD /config': 'viewer', 'GET /stats/requests': 'viewer', 'HEAD /stats/requests': 'viewer',
  'GET /stats/history': 'viewer', 'HEAD /stats/history': 'viewer', 'GET /exceptions': 'viewer', 'HEAD /exceptions': 'viewer',
  'GET /tasks': 'viewer', 'HEAD /tasks': 'viewer', 'GET /worker-count': 'viewer', 'HEAD /worker-count': 'viewer',
  'GET /stream': 'viewer',
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

describe('web API: POST /swarm input', () => {
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

  const bad: [string, unknown, string][] = [
    ['users -1', { user_count: -1, spawn_rate: 1 }, 'user_count'],
    ['users 1.5', { user_count: 1.5, spawn_rate: 1 }, 'user_count'],
    ['users 1e9', { user_count: 1e9, spawn_rate: 1 }, 'user_count'],
    ['users "abc"', { user_count: 'abc', spawn_rate: 1 }, 'user_count'],
    ['users []', { user_count: [], spawn_rate: 1 }, 'user_count'],
    ['users missing', { spawn_rate: 1 }, 'user_count'],
    ['rate 0', { user_count: 1, spawn_rate: 0 }, 'spawn_rate'],
    ['rate -1', { user_count: 1, spawn_rate: -1 }, 'spawn_rate'],
    ['rate "NaN"', { user_count: 1, spawn_rate: 'NaN' }, 'spawn_rate'],
    ['rate "Infinity"', { user_count: 1, spawn_rate: 'Infinity' }, 'spawn_rate'],
    ['rate missing', { user_count: 1 }, 'spawn_rate'],
    ['run_time -5s', { user_count: 1, spawn_rate: 1, run_time: '-5s' }, 'run_time'],
    ['run_time 1e309', { user_count: 1, spawn_rate: 1, run_time: '1e309' }, 'run_time'],
    ['run_time 999999h', { user_count: 1, spawn_rate: 1, run_time: '999999h' }, 'run_time'],
    ['host javascript:', { user_count: 1, spawn_rate: 1, host: 'javascript:alert(1)' }, 'host'],
    ['host file:', { user_count: 1, spawn_rate: 1, host: 'file:///etc/passwd' }, 'host'],
    ['host CRLF', { user_count: 1, spawn_rate: 1, host: 'http://a.example\r\nX-Evil: 1' }, 'host'],
    ['host 10 kB', { user_count: 1, spawn_rate: 1, host: `http://${'a'.repeat(10_000)}.example` }, 'host'],
    ['unknown class', { user_count: 1, spawn_rate: 1, user_classes: ['Nope'] }, 'user_classes'],
    ['class twice', { user_count: 1, spawn_rate: 1, user_classes: ['Shopper', 'Shopper'] }, 'user_classes'],
    ['unknown key', { user_count: 1, spawn_rate: 1, headless: true }, 'headless'],
    ['mass assignment of an option', { user_count: 1, spawn_rate: 1, stop_timeout: 99 }, 'stop_timeout'],
  ];
  for (const [label, body, field] of bad) {
    it(`refuses ${label} with 400 naming ${field}, and starts nothing`, async () => {
      const res = await call(server, 'POST', '/swarm', { cookie: operator.cookie, token: operator.token, body });
      assert.equal(res.statusCode, 400, res.body);
      const json = res.json<{ success: boolean; field: string; message: string }>();
      assert.equal(json.success, false);
      assert.equal(json.field, field);
      assert.ok(json.message.startsWith(field), json.message);
      assert.equal(server.runner.state, 'ready');
    });
  }

  it('refuses a start without a host when the user classes have none and -H was not given', async () => {
    const hostless = await startTestServer({ withUsers: true, facts: { hostRequired: true, host: '' } });
    const s = await login(hostless, 'operator');
    const res = await call(hostless, 'POST', '/swarm', { cookie: s.cookie, token: s.token, body: { user_count: 1, spawn_rate: 1 } });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json<{ field: string }>().field, 'host');
    assert.equal(hostless.runner.state, 'ready');
    const ok = await call(hostless, 'POST', '/swarm', { cookie: s.cookie, token: s.token, body: { user_count: 1, spawn_rate: 1, host: 'http://127.0.0.1:9' } });
    assert.equal(ok.statusCode, 200);
    const change = await call(hostless, 'POST', '/swarm', { cookie: s.cookie, token: s.token, body: { user_count: 2, spawn_rate: 1 } });
    assert.equal(change.statusCode, 200, 'the host given once stays');
    await hostless.runner.stop();
    await hostless.close();
  });

  it('explains a negative count, a multipart body and bad JSON', async () => {
    const auth = { cookie: operator.cookie, token: operator.token };
    const negative = await call(server, 'POST', '/swarm', { ...auth, form: 'user_count=-1&spawn_rate=1' });
    assert.equal(negative.statusCode, 400);
    assert.match(message(negative), /user_count: must be a whole number from 0 to 1,000,000/);
    const multipart = await server.app.inject({ method: 'POST', url: '/swarm', headers: { host: HOST, cookie: auth.cookie, 'x-csrf-token': auth.token, 'content-type': 'multipart/form-data; boundary=x' }, payload: '--x--' });
    assert.equal(multipart.statusCode, 415);
    assert.match(message(multipart), /curl -d/);
    const broken = await server.app.inject({ method: 'POST', url: '/swarm', headers: { host: HOST, cookie: auth.cookie, 'x-csrf-token': auth.token, 'content-type': 'application/json' }, payload: '{"user_count": 1,' });
    assert.equal(broken.statusCode, 400);
    assert.match(message(broken), /not valid JSON/);
  });

  it('refuses duplicate form fields, __proto__ keys, and a body over 64 KiB', async () => {
    const auth = { cookie: operator.cookie, token: operator.token };
    const dup = await call(server, 'POST', '/swarm', { ...auth, form: 'user_count=1&user_count=1000&spawn_rate=1' });
    assert.equal(dup.statusCode, 400);
    assert.equal(dup.json<{ field: string }>().field, 'user_count');
    const proto = await server.app.inject({ method: 'POST', url: '/swarm', headers: { host: HOST, cookie: auth.cookie, 'x-csrf-token': auth.token, 'content-type': 'application/json' }, payload: '{"user_count":1,"spawn_rate":1,"__proto__":{"admin":true}}' });
    assert.equal(proto.statusCode, 400);
    const big = await call(server, 'POST', '/swarm', { ...auth, body: { user_count: 1, spawn_rate: 1, host: 'x'.repeat(65 * 1024) } });
    assert.equal(big.statusCode, 413);
    assert.equal(server.runner.state, 'ready');
  });

  it('starts, changes, stops and starts again with fresh statistics; Locust\'s answer shape', async () => {
    const auth = { cookie: operator.cookie, token: operator.token };
    const res = await call(server, 'POST', '/swarm', { ...auth, body: { user_count: 2, spawn_rate: 100, run_time: '1m', user_classes: ['Browser'], host: 'http://127.0.0.1:9/' } });
    assert.deepEqual(res.json(), { success: true, message: 'Swarming started', host: 'http://127.0.0.1:9', run_time: 60, user_classes: ['Browser'] });
    const deadline = Date.now() + 5000;
    while (server.runner.userCount < 2 && Date.now() < deadline) await sleep(20);
    assert.deepEqual(server.runner.userClassCounts(), { Browser: 2 });
    await sleep(200);
    const stats = (await call(server, 'GET', '/stats/requests', { cookie: auth.cookie })).json<{ stats: { name: string; num_requests: number }[]; state: string; user_count: number }>();
    assert.equal(stats.state, 'running');
    assert.equal(stats.user_count, 2);
    assert.ok(stats.stats.find((e) => e.name === 'Aggregated')!.num_requests > 0);
    const stop = await call(server, 'POST', '/stop', auth);
    assert.deepEqual(stop.json(), { success: true, message: 'Test stopped' });
    assert.equal(server.runner.state, 'stopped');
    await call(server, 'POST', '/swarm', { ...auth, body: { user_count: 1, spawn_rate: 100 } });
    const fresh = (await call(server, 'GET', '/stats/requests', { cookie: auth.cookie })).json<{ stats: { name: string; num_requests: number }[] }>();
    assert.ok(fresh.stats.find((e) => e.name === 'Aggregated')!.num_requests < stats.stats.find((e) => e.name === 'Aggregated')!.num_requests + 5, 'a new run starts from clean statistics');
    await call(server, 'POST', '/stop', auth);
  });
});

describe('web API: headers, errors, static files, downloads', () => {
  let server: TestServer;
  let admin: Login;
  before(async () => {
    server = await startTestServer({ withUsers: true });
    admin = await login(server, 'admin');
    await call(server, 'POST', '/swarm', { cookie: admin.cookie, token: admin.token, body: { user_count: 2, spawn_rate: 100 } });
    await sleep(400);
    await server.runner.stop();
  });
  after(() => server.close());

  function assertSecurityHeaders(res: LightMyRequestResponse, label: string): void {
    const csp = String(res.headers['content-security-policy']);
    for (const directive of ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]) assert.ok(csp.includes(directive), `${label}: CSP has ${directive}: ${csp}`);
    assert.doesNotMatch(csp, /script-src[^;]*'unsafe-inline'/, `${label}: no inline script`);
    assert.equal(res.headers['x-content-type-options'], 'nosniff', label);
    assert.equal(res.headers['referrer-policy'], 'no-referrer', label);
    assert.match(String(res.headers['content-type']), /charset=utf-8/i, `${label}: content type with charset`);
    assert.equal(res.headers['x-powered-by'], undefined, label);
    assert.equal(res.headers['access-control-allow-origin'], undefined, label);
    assert.equal(res.headers['strict-transport-security'], undefined, `${label}: no HSTS over plain http`);
  }

  it('sends the security headers on pages, API answers, 401, 403, 404, 405, 413 and static files', async () => {
    const viewer = await login(server, 'viewer');
    const cases: [string, Promise<LightMyRequestResponse>][] = [
      ['index', call(server, 'GET', '/')],
      ['asset', call(server, 'GET', '/assets/app-1234.js')],
      ['api', call(server, 'GET', '/config', { cookie: admin.cookie })],
      ['401', call(server, 'GET', '/config')],
      ['403', call(server, 'POST', '/stats/reset', { cookie: viewer.cookie, token: viewer.token })],
      ['404', call(server, 'GET', '/nothing/here')],
      ['405', call(server, 'GET', '/stop')],
      ['413', call(server, 'POST', '/login', { body: { username: 'x', password: 'y'.repeat(70_000) } })],
      ['csv', call(server, 'GET', '/stats/requests/csv', { cookie: admin.cookie })],
    ];
    for (const [label, pending] of cases) assertSecurityHeaders(await pending, label);
  });

  it('answers an internal error with 500, a generic message and the same headers', async () => {
    const broken = await startTestServer({});
    broken.run.report = () => {
      throw new Error('secret detail from deep inside');
    };
    const res = await call(broken, 'GET', '/stats/requests');
    assert.equal(res.statusCode, 500);
    assert.doesNotMatch(res.body, /secret detail/);
    assertSecurityHeaders(res, '500');
    await broken.close();
  });

  it('serves only the built files: traversal attempts get 404 and never a file from outside', async () => {
    for (const attempt of ['../index.html', '..%2f..%2fetc%2fpasswd', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '..%252f..%252fetc%252fpasswd', '..\\..\\etc\\passwd', '%2Fetc%2Fpasswd', 'app-1234.js%00.png', 'a'.repeat(5000)]) {
      const res = await call(server, 'GET', `/assets/${attempt}`);
      assert.ok(res.statusCode === 404 || res.statusCode === 414, `${attempt}: ${res.statusCode}`);
      assert.doesNotMatch(res.body, /root:|<title>Cicada/);
    }
    assert.equal((await call(server, 'GET', '/assets/app-1234.js')).body, 'console.log("ui");');
  });

  it('downloads CSVs and the report with server-chosen names; the report runs no script', async () => {
    const csv = await call(server, 'GET', '/stats/requests/csv', { cookie: admin.cookie });
    assert.equal(csv.statusCode, 200);
    assert.match(String(csv.headers['content-disposition']), /^attachment; filename="requests_[\d-T]+\.csv"$/);
    assert.match(csv.body, /^Type,Name,Request Count,Failure Count,Median Response Time/);
    assert.ok(csv.body.includes(HOSTILE_NAME), 'CSV keeps the data');
    const failures = await call(server, 'GET', '/stats/failures/csv', { cookie: admin.cookie });
    assert.match(failures.body, /^Method,Name,Error,Occurrences/);
    const history = await call(server, 'GET', '/stats/requests_full_history/csv', { cookie: admin.cookie });
    assert.match(history.body, /^Timestamp,User Count,Type,Name/);
    const exceptions = await call(server, 'GET', '/exceptions/csv', { cookie: admin.cookie });
    assert.match(exceptions.body, /^Count,Message,Traceback,Nodes/);
    const report = await call(server, 'GET', '/stats/report?download=1', { cookie: admin.cookie });
    assert.match(String(report.headers['content-disposition']), /^attachment; filename="cicada_report_[\d-T]+\.html"$/);
    assert.match(String(report.headers['content-security-policy']), /default-src 'none'/);
    assert.doesNotMatch(report.body, /<script/i);
    assert.ok(!report.body.includes(HOSTILE_NAME), 'the hostile name is escaped in the report');
    const inline = await call(server, 'GET', '/stats/report', { cookie: admin.cookie });
    assert.equal(inline.headers['content-disposition'], undefined);
  });

  it('serves Locust\'s JSON: /stats/requests entries, errors, /exceptions, /tasks, /config, /worker-count, /stats/history', async () => {
    const stats = (await call(server, 'GET', '/stats/requests', { cookie: admin.cookie })).json<Record<string, unknown> & { stats: Record<string, unknown>[]; errors: Record<string, unknown>[] }>();
    for (const key of ['stats', 'errors', 'total_rps', 'total_fail_per_sec', 'fail_ratio', 'current_rps', 'current_fail_per_sec', 'current_response_time_percentiles', 'state', 'user_count']) assert.ok(key in stats, key);
    const entry = stats.stats.find((e) => e.name === HOSTILE_NAME)!;
    for (const key of ['method', 'name', 'num_requests', 'num_failures', 'min_response_time', 'max_response_time', 'current_rps', 'current_fail_per_sec', 'avg_response_time', 'median_response_time', 'total_rps', 'total_fail_per_sec', 'response_time_percentile_0.95', 'response_time_percentile_0.99', 'avg_content_length']) assert.ok(key in entry, key);
    assert.equal(stats.stats.at(-1)!.name, 'Aggregated');
    assert.deepEqual(Object.keys(stats.errors[0]!).sort(), ['error', 'first_seen', 'last_seen', 'method', 'name', 'occurrences']);
    assert.equal(stats.errors[0]!.error, '</script><script>window.__xss=1</script>');
    const config = (await call(server, 'GET', '/config', { cookie: admin.cookie })).json<Record<string, unknown>>();
    assert.deepEqual(config.user_classes, ['Shopper', 'Browser']);
    assert.equal(config.distributed, false);
    assert.deepEqual((await call(server, 'GET', '/worker-count', { cookie: admin.cookie })).json(), { worker_count: 0 });
    assert.deepEqual((await call(server, 'GET', '/exceptions', { cookie: admin.cookie })).json(), { exceptions: [] });
    const history = (await call(server, 'GET', '/stats/history', { cookie: admin.cookie })).json<{ history: Record<string, unknown>[] }>();
    assert.ok(history.history.length > 0);
    assert.deepEqual(Object.keys(history.history[0]!).sort(), ['current_fail_per_sec', 'current_rps', 'response_time_percentiles', 'time', 'total_failures', 'total_requests', 'user_count']);
    const tasks = (await call(server, 'GET', '/tasks', { cookie: admin.cookie })).json<Record<string, unknown>>();
    assert.deepEqual(Object.keys(tasks).sort(), ['per_class', 'total']);
  });

  it('POST /stats/reset clears the statistics (admin)', async () => {
    const res = await call(server, 'POST', '/stats/reset', { cookie: admin.cookie, token: admin.token });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, 'ok');
    const stats = (await call(server, 'GET', '/stats/requests', { cookie: admin.cookie })).json<{ stats: { name: string; num_requests: number }[] }>();
    assert.equal(stats.stats.find((e) => e.name === 'Aggregated')!.num_requests, 0);
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
