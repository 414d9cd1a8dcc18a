// GET /metrics: on the web server (a viewer's session or the bearer token) and on --metrics-port for headless runs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeTlsFixtures, type TlsFixtures } from '../src/transport/tls-fixtures.test-helper.ts';
import { fixture, freePort, runCli, startCli, startCountingTarget, until, type CountingTarget } from './helpers.ts';
import { call, login, startTestServer } from './web-helpers.ts';

const TOKEN = 'metrics-token-0123456789';

describe('GET /metrics on the web server', () => {
  it('answers a viewer in the text format, refuses anonymous callers, and takes the bearer token instead of a session', async () => {
    const server = await startTestServer({ withUsers: true, metricsToken: TOKEN });
    try {
      assert.equal((await call(server, 'GET', '/metrics')).statusCode, 401);
      const viewer = await login(server, 'viewer');
      const res = await call(server, 'GET', '/metrics', { cookie: viewer.cookie });
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      assert.match(res.body, /^# TYPE cicada_requests_total counter$/m);
      assert.match(res.body, /^cicada_users\{run_id="\d+"\} \d+$/m);
      const bearer = await call(server, 'GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(bearer.statusCode, 200);
      const wrong = await call(server, 'GET', '/metrics', { headers: { authorization: 'Bearer nope' } });
      assert.equal(wrong.statusCode, 401);
      // The token opens /metrics only.
      assert.equal((await call(server, 'GET', '/stats/requests', { headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 401);
    } finally {
      await server.app.close();
    }
  });
});

describe('--metrics-port for headless runs', { concurrency: 1 }, () => {
  let target: CountingTarget;
  let dir: string;
  let tls: TlsFixtures;
  before(async () => {
    target = await startCountingTarget();
    dir = await mkdtemp(path.join(tmpdir(), 'cicada-metrics-'));
    tls = makeTlsFixtures();
  });
  after(async () => {
    await target.close();
    await rm(dir, { recursive: true, force: true });
    tls.cleanup();
  });

  it('serves the live counts while the run goes, on loopback without a token', async () => {
    const port = await freePort();
    const run = startCli(['-f', fixture('metrics.ts'), '-H', target.url, '--headless', '-u', '2', '-r', '10', '-t', '3s', '--only-summary', '--metrics-port', String(port)]);
    await run.waitFor('ramp complete');
    let text = '';
    await until(async () => {
      text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /cicada_requests_total\{method="GET",name="\/fast"/.test(text);
    }, 'requests in /metrics');
    assert.match(text, /^cicada_users\{run_id="\d+"\} 2$/m);
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status, 405);
    const { code, stderr } = await run.done;
    assert.equal(code, 0, stderr);
    assert.match(stderr, new RegExp(`metrics: http://127\\.0\\.0\\.1:${port}/metrics`));
  });

  it('over HTTPS with a bearer token: 401 without it, 200 with it', async () => {
    const port = await freePort();
    await writeFile(path.join(dir, 'cert.pem'), tls.serverCert);
    await writeFile(path.join(dir, 'key.pem'), tls.serverKey);
    await writeFile(path.join(dir, 'token'), `${TOKEN}\n`);
    const run = startCli(['-f', fixture('metrics.ts'), '-H', target.url, '--headless', '-u', '1', '-r', '10', '-t', '2s', '--only-summary', '--metrics-port', String(port),
      '--tls-cert', path.join(dir, 'cert.pem'), '--tls-key', path.join(dir, 'key.pem'), '--metrics-token-file', path.join(dir, 'token')]);
    await run.waitFor('metrics: https://');
    const get = (headers: Record<string, string>): Promise<{ status: number; body: string }> => new Promise((resolve, reject) => {
      https.get({ host: '127.0.0.1', port, path: '/metrics', ca: tls.ca, headers }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });
    assert.equal((await get({})).status, 401);
    assert.equal((await get({ authorization: 'Bearer wrong' })).status, 401);
    const ok = await get({ authorization: `Bearer ${TOKEN}` });
    assert.equal(ok.status, 200);
    assert.match(ok.body, /^# TYPE cicada_response_time_seconds histogram$/m);
    assert.equal((await run.done).code, 0);
  });

  it('refuses a non-loopback bind without a token, and an unreadable token file, before any load (exit 2)', async () => {
    const before = target.total();
    const open = await runCli(['-f', fixture('metrics.ts'), '-H', target.url, '--headless', '-t', '2s', '--metrics-port', String(await freePort()), '--metrics-host', '0.0.0.0']);
    assert.equal(open.code, 2, open.stderr);
    assert.match(open.stderr, /refusing to serve \/metrics on 0\.0\.0\.0 without a token[\s\S]*hint: add --metrics-token-file/);
    const missing = await runCli(['-f', fixture('metrics.ts'), '-H', target.url, '--headless', '-t', '2s', '--metrics-port', String(await freePort()), '--metrics-token-file', path.join(dir, 'nope')]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /--metrics-token-file .*nope: cannot read it \(ENOENT\)/);
    assert.equal(target.total(), before, 'no request was sent');
  });
});
