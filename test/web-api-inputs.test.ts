// The web API through fastify.inject: /swarm input validation, security headers, errors, static files, downloads.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { sleep } from '../src/core/clock.ts';
import { parseScenario } from '../src/runners/executors/index.ts';
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
    ['arrival_rate 0', { arrival_rate: 0 }, 'arrival_rate'],
    ['arrival_rate -5', { arrival_rate: -5 }, 'arrival_rate'],
    ['arrival_rate "abc"', { arrival_rate: 'abc' }, 'arrival_rate'],
    ['arrival_rate "1e3"', { arrival_rate: '1e3' }, 'arrival_rate'],
    ['arrival_rate "Infinity"', { arrival_rate: 'Infinity' }, 'arrival_rate'],
    ['arrival_rate true', { arrival_rate: true }, 'arrival_rate'],
    ['arrival_rate over 1,000,000', { arrival_rate: 1_000_001 }, 'arrival_rate'],
    ['arrival_rate with user_count', { arrival_rate: 10, user_count: 5 }, 'user_count'],
    ['arrival_rate with spawn_rate', { arrival_rate: 10, spawn_rate: 5 }, 'spawn_rate'],
    ['max_users without arrival_rate', { user_count: 1, spawn_rate: 1, max_users: 5 }, 'max_users'],
    ['max_users alone', { max_users: 5 }, 'max_users'],
    ['max_users 0', { arrival_rate: 10, max_users: 0 }, 'max_users'],
    ['max_users 2.5', { arrival_rate: 10, max_users: 2.5 }, 'max_users'],
    ['max_users over 1,000,000', { arrival_rate: 10, max_users: 1_000_001 }, 'max_users'],
    ['arrival_rate with an unknown class', { arrival_rate: 10, user_classes: ['Nope'] }, 'user_classes'],
    ['scenarios when none are declared', { scenarios: 'all' }, 'scenarios'],
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

  it('refuses a form that gives arrival_rate twice', async () => {
    const res = await call(server, 'POST', '/swarm', { cookie: operator.cookie, token: operator.token, form: 'arrival_rate=1&arrival_rate=1000' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json<{ field: string }>().field, 'arrival_rate');
    assert.equal(server.runner.state, 'ready');
  });

  it('refuses an arrival rate when the cicadafile has a LoadShape', async () => {
    const shaped = await startTestServer({ withUsers: true, facts: { shapeClass: 'Curve' } });
    const s = await login(shaped, 'operator');
    const res = await call(shaped, 'POST', '/swarm', { cookie: s.cookie, token: s.token, body: { arrival_rate: 10 } });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json<{ field: string }>().field, 'arrival_rate');
    assert.match(message(res), /LoadShape/);
    assert.equal(shaped.runner.state, 'ready');
    await shaped.close();
  });

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

interface ScenarioRow {
  name: string;
  executor: string | null;
  iterations: number;
  failed_iterations: number;
  dropped_iterations: number;
  interrupted_iterations: number;
  iteration_duration_percentiles: Record<string, number | null>;
  start_lateness_p99: number | null;
}
interface LiveStats {
  state: string;
  stats: { name: string; num_requests: number; response_time_percentiles: Record<string, number | null> }[];
  scenarios: ScenarioRow[];
  dropped_iterations: number;
  current_arrival_rate: number | null;
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('web API: arrival rates and declared scenarios from POST /swarm', () => {
  const DECLARED = [
    { name: 'steady', raw: { executor: 'constant-arrival-rate', rate: 40, duration: '1s', preAllocatedUsers: 2, userClasses: ['Browser'] } },
    { name: 'batch', raw: { executor: 'shared-iterations', users: 2, iterations: 5, userClasses: ['Shopper'] } },
  ];
  let server: TestServer;
  let auth: { cookie: string; token: string };
  const started: (readonly string[])[] = [];
  before(async () => {
    const configs = DECLARED.map((d) => parseScenario(d.name, d.raw, 'test', { stopTimeoutMs: 0 }));
    server = await startTestServer({
      withUsers: true,
      facts: { scenarios: [{ name: 'steady', executor: 'constant-arrival-rate', description: '40 iterations per 1 s for 1 s' }, { name: 'batch', executor: 'shared-iterations', description: '5 iterations over 2 users' }] },
    });
    // As the CLI wires it: the declared scenarios of these names (all when none) on the real runner.
    server.run.startScenarios = (names, runTime) => {
      started.push(names);
      server.runner.startScenarios(names.length === 0 ? configs : configs.filter((c) => names.includes(c.name)), runTime);
    };
    const s = await login(server, 'operator');
    auth = { cookie: s.cookie, token: s.token };
  });
  after(async () => {
    await server.runner.stop();
    await server.close();
  });
  const stats = async (): Promise<LiveStats> => (await call(server, 'GET', '/stats/requests', { cookie: auth.cookie })).json<LiveStats>();

  it('/config lists the declared scenarios with executor and description', async () => {
    const config = (await call(server, 'GET', '/config', { cookie: auth.cookie })).json<{ scenarios: unknown }>();
    assert.deepEqual(config.scenarios, [
      { name: 'steady', executor: 'constant-arrival-rate', description: '40 iterations per 1 s for 1 s' },
      { name: 'batch', executor: 'shared-iterations', description: '5 iterations over 2 users' },
    ]);
  });

  it('arrival_rate starts an open-model run: iterations are counted, and /stats/requests shows the scenario and its rate', async () => {
    const res = await call(server, 'POST', '/swarm', { ...auth, body: { arrival_rate: 20, max_users: 3, run_time: '30s', user_classes: ['Browser'] } });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { success: true, message: 'Swarming started', host: 'http://127.0.0.1:9', arrival_rate: 20, max_users: 3, run_time: 30, user_classes: ['Browser'] });
    assert.ok(server.runner.targetUserCount >= 1 && server.runner.targetUserCount <= 3, `the pool is capped by max_users: ${server.runner.targetUserCount}`);
    await until(() => (server.runner.snapshot().scenarios?.[0]?.iterations ?? 0) >= 5, 'iterations');
    assert.deepEqual(server.runner.userClassCounts(), { Browser: server.runner.userCount });
    const first = await stats();
    assert.equal(first.current_arrival_rate, null, 'one sample is not a rate');
    await sleep(1500);
    const live = await stats();
    const row = live.scenarios.find((s) => s.name === 'default')!;
    assert.equal(row.executor, 'constant-arrival-rate');
    assert.ok(row.iterations >= 20, `iterations: ${row.iterations}`);
    assert.equal(row.failed_iterations, 0);
    assert.deepEqual(Object.keys(row.iteration_duration_percentiles), Object.keys(live.stats.at(-1)!.response_time_percentiles));
    assert.equal(typeof row.iteration_duration_percentiles['0.5'], 'number');
    assert.equal(typeof row.start_lateness_p99, 'number');
    assert.equal(live.dropped_iterations, row.dropped_iterations);
    assert.ok(live.current_arrival_rate !== null && live.current_arrival_rate > 8 && live.current_arrival_rate < 40, `about 20/s: ${live.current_arrival_rate}`);
    const change = await call(server, 'POST', '/swarm', { ...auth, body: { user_count: 2, spawn_rate: 1 } });
    assert.equal(change.statusCode, 409, 'an arrival-rate run is not turned into a user count');
    await call(server, 'POST', '/stop', auth);
    assert.equal((await stats()).current_arrival_rate, 0, 'nothing starts once stopped');
  });

  it('scenarios start the declared ones named: only those run, with their executor in /stats/requests', async () => {
    const res = await call(server, 'POST', '/swarm', { ...auth, body: { scenarios: ['batch'] } });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { success: true, message: 'Swarming started', host: 'http://127.0.0.1:9', scenarios: ['batch'] });
    assert.deepEqual(started.at(-1), ['batch']);
    await server.runner.whenStopped();
    const done = await stats();
    assert.deepEqual(done.scenarios.map((s) => [s.name, s.executor, s.iterations, s.dropped_iterations]), [['batch', 'shared-iterations', 5, 0]]);
  });

  it('a form may repeat scenarios, and `all` starts every declared one', async () => {
    const res = await call(server, 'POST', '/swarm', { ...auth, form: 'scenarios=steady&scenarios=batch&run_time=20s' });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json<{ scenarios: string[] }>().scenarios, ['steady', 'batch']);
    assert.deepEqual(started.at(-1), ['steady', 'batch']);
    await server.runner.whenStopped();
    const both = await stats();
    assert.deepEqual(both.scenarios.map((s) => s.name).sort(), ['batch', 'steady']);
    const all = await call(server, 'POST', '/swarm', { ...auth, form: 'scenarios=all' });
    assert.equal(all.statusCode, 200, all.body);
    assert.deepEqual(started.at(-1), [], 'all: the starter gets no names');
    assert.deepEqual(all.json<{ scenarios: string[] }>().scenarios, ['steady', 'batch']);
    await server.runner.whenStopped();
  });

  const refused: [string, unknown, string, RegExp][] = [
    ['an unknown scenario, naming the declared ones', { scenarios: ['steady', 'nope'] }, 'scenarios', /unknown scenario 'nope'; declared: steady, batch/],
    ['a scenario named twice', { scenarios: ['batch', 'batch'] }, 'scenarios', /twice/],
    ['an empty list', { scenarios: [] }, 'scenarios', /at least one/],
    ['`all` among names', { scenarios: ['all', 'batch'] }, 'scenarios', /stands alone/],
    ['a list of numbers', { scenarios: [1, 2] }, 'scenarios', /list of scenario names/],
    ['scenarios with user_count', { scenarios: 'all', user_count: 5, spawn_rate: 1 }, 'user_count', /not with scenarios/],
    ['scenarios with arrival_rate', { scenarios: 'all', arrival_rate: 5 }, 'arrival_rate', /not with scenarios/],
    ['scenarios with user_classes', { scenarios: 'all', user_classes: ['Browser'] }, 'user_classes', /not with scenarios/],
    ['scenarios with a host', { scenarios: 'all', host: 'http://127.0.0.1:9' }, 'host', /not with scenarios/],
  ];
  for (const [label, body, field, text] of refused) {
    it(`refuses ${label} with 400 naming ${field}`, async () => {
      await server.runner.whenStopped();
      const before = started.length;
      const res = await call(server, 'POST', '/swarm', { ...auth, body });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json<{ field: string }>().field, field);
      assert.match(message(res), text);
      assert.equal(started.length, before, 'nothing was started');
      assert.equal(server.runner.state, 'stopped');
    });
  }
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
    assert.deepEqual([stats.scenarios, stats.dropped_iterations, stats.current_arrival_rate], [[], 0, null], 'a user-count run has no iteration scenarios');
    const config = (await call(server, 'GET', '/config', { cookie: admin.cookie })).json<Record<string, unknown>>();
    assert.deepEqual(config.user_classes, ['Shopper', 'Browser']);
    assert.deepEqual(config.scenarios, [], 'none declared');
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

