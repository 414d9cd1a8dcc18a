// Test support for the web layer: a real LocalRunner whose users fire recorded requests, a built-UI stand-in, users.
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultClientDefaults, type Environment } from '../src/core/environment.ts';
import { Events } from '../src/core/events.ts';
import { silentLogger, type Logger } from '../src/core/logger.ts';
import { TaskPlan } from '../src/core/task-plan.ts';
import { task } from '../src/core/tasks.ts';
import { User } from '../src/core/user.ts';
import { constant } from '../src/core/wait-time.ts';
import { buildReportData } from '../src/exporters/build-report.ts';
import { LocalRunner } from '../src/runners/local-runner.ts';
import { RequestStats } from '../src/stats/request-stats.ts';
import type { LightMyRequestResponse } from 'fastify';
import assert from 'node:assert/strict';
import { hashPassword } from '../src/web/password.ts';
import type { Role } from '../src/web/roles.ts';
import { createWebServer, type WebServer, type WebServerOptions } from '../src/web/server.ts';
import { parseUsersFile } from '../src/web/users-file.ts';
import type { RunFacts, WebRun } from '../src/web/web-run.ts';

/** Names a hostile user could give requests; the UI must show them as text. */
export const HOSTILE_NAME = '<img src=x onerror=window.__xss=1>';

class Shopper extends User {
  waitTime = constant(0.05);
  @task async browse() {
    this.environment.events.request.fire({ requestType: 'GET', name: '/items', responseTime: 3, responseLength: 10, error: null, startTime: Date.now() });
  }
  @task async hostile() {
    this.environment.events.request.fire({ requestType: 'GET', name: HOSTILE_NAME, responseTime: 5, responseLength: 1, error: new Error('</script><script>window.__xss=1</script>'), startTime: Date.now() });
  }
}
class Browser extends User {
  waitTime = constant(0.05);
  @task async look() {
    this.environment.events.request.fire({ requestType: 'GET', name: '/', responseTime: 1, responseLength: 5, error: null, startTime: Date.now() });
  }
}

export function testRun(): { run: WebRun; runner: LocalRunner; stats: RequestStats } {
  const events = new Events();
  const environment: Environment = { events, host: 'http://127.0.0.1:9', logger: silentLogger, clientDefaults: defaultClientDefaults, parsedOptions: {}, runner: undefined };
  const stats = new RequestStats();
  stats.attach(events);
  const runner = new LocalRunner({
    environment,
    userClasses: new Map<string, typeof Shopper | typeof Browser>([['Shopper', Shopper], ['Browser', Browser]]),
    plan: new TaskPlan(),
    stats,
    stopTimeout: 0,
    drainTimeout: 1,
    tickMs: 100,
  });
  const context = { host: 'http://127.0.0.1:9', cicadafiles: ['cicadafile.ts'], startTime: Date.now(), cicadaVersion: 'test' };
  const run: WebRun = {
    runner,
    report: () => buildReportData(runner, { ...context, host: environment.host ?? context.host }),
    facts: { userClasses: ['Shopper', 'Browser'], shapeClass: null, host: context.host, users: 10, spawnRate: 1, runTime: null, distributed: false, version: 'test' },
  };
  return { run, runner, stats };
}

/** A folder shaped like dist/ui: index.html and one asset. */
export async function fakeUiDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cicada-ui-'));
  await mkdir(path.join(dir, 'assets'));
  await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>Cicada</title><script type="module" src="/assets/app-1234.js"></script>');
  await writeFile(path.join(dir, 'assets', 'app-1234.js'), 'console.log("ui");');
  return dir;
}

export const PASSWORDS: Record<Role, string> = { viewer: 'viewer password 1', operator: 'operator password 2', admin: 'admin password 3' };
export const USER_OF: Record<Role, string> = { viewer: 'vic', operator: 'otto', admin: 'ada' };

let usersText: Promise<string> | undefined;
/** A users file with one user per role (hashed once per test process: scrypt is slow on purpose). */
export function usersFileText(): Promise<string> {
  usersText ??= (async () => {
    const parts = await Promise.all((Object.keys(USER_OF) as Role[]).map(async (role) => `[[users]]\nname = "${USER_OF[role]}"\nrole = "${role}"\npassword_hash = "${await hashPassword(PASSWORDS[role])}"\n`));
    return parts.join('\n');
  })();
  return usersText;
}

export interface TestServer extends WebServer {
  runner: LocalRunner;
  run: WebRun;
}

/** A web server on a real LocalRunner; with `users: true` the users file above is used. */
export async function startTestServer(extra: Partial<WebServerOptions> & { withUsers?: boolean; logger?: Logger; facts?: Partial<RunFacts> } = {}): Promise<TestServer> {
  const { run, runner } = testRun();
  const { withUsers, facts, ...options } = extra;
  Object.assign(run.facts, facts);
  const server = await createWebServer({
    host: '127.0.0.1',
    port: 0,
    run,
    uiDir: await fakeUiDir(),
    logger: silentLogger,
    loginRateLimit: { max: 1000, windowMs: 60_000 },
    streamIntervalMs: 100,
    ...(withUsers ? { users: parseUsersFile(await usersFileText(), 'users.toml') } : {}),
    ...options,
  });
  return { ...server, runner, run };
}

// fastify.inject helpers for the API tests: one call, a login per role, an error's message.

/** The Host header API tests send (a loopback name, as the server's DNS-rebinding check wants). */
export const HOST = '127.0.0.1:8089';

export interface Call {
  cookie?: string;
  token?: string;
  body?: unknown;
  form?: string;
  headers?: Record<string, string>;
}

export function call(server: TestServer, method: string, url: string, c: Call = {}): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { host: HOST, ...(c.cookie ? { cookie: c.cookie } : {}), ...(c.token ? { 'x-csrf-token': c.token } : {}), ...c.headers };
  if (c.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  return server.app.inject({
    method: method as 'GET',
    url,
    headers,
    ...(c.form !== undefined ? { payload: c.form } : c.body !== undefined ? { payload: c.body as object } : {}),
  });
}

export interface Login {
  cookie: string;
  token: string;
  setCookie: string;
}

export async function login(server: TestServer, role: Role): Promise<Login> {
  const res = await call(server, 'POST', '/login', { body: { username: USER_OF[role], password: PASSWORDS[role] } });
  assert.equal(res.statusCode, 200, res.body);
  const setCookie = String(res.headers['set-cookie']);
  return { cookie: setCookie.split(';')[0]!, token: res.json<{ csrfToken: string }>().csrfToken, setCookie };
}

export function message(res: LightMyRequestResponse): string {
  return res.json<{ message: string }>().message;
}

/** Who may call each route: the test fails when a route is added without a line here (deny by default). */
