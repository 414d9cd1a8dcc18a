// The web API through fastify.inject: /swarm input validation, security headers, errors, static files, downloads.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { sleep } from '../src/core/clock.ts';
import { call, HOST, HOSTILE_NAME, login, message, startTestServer, type Login, type TestServer } from './web-helpers.ts';

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

