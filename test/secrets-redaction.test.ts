// End to end: a secret read by secret() and a -H password never leave a process (files, console, web API, /stream, /metrics, worker reports).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { uncompress } from 'snappyjs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { fixture, freePort, runCli, startCli, until } from './helpers.ts';
import { clearSecrets, registerSecret } from '../src/core/secrets.ts';
import { redactResponses } from '../src/web/redact-hook.ts';
import { metricFamilies } from '../src/exporters/metrics/model.ts';
import { entrySnapshot, reportData } from '../src/exporters/fixtures.test-helper.ts';

/** A quote and a space (JSON-escaped, CSV-doubled, URL-encoded forms differ), a slash and a plus (encoded in paths and queries). */
const TOKEN = 'QzX9kL "tok en"/+7';
const HOST_PASSWORD = 'Pw9hunter2';
const CLUSTER_SECRET = 'cluster-secret-long-enough-0123456789';

/** Every form in which the secret would betray itself; the fragment catches any other encoding and a cut-off one. */
const FORMS: Record<string, string> = {
  'the secret': TOKEN,
  'the URL-encoded secret': encodeURIComponent(TOKEN),
  'the JSON-escaped secret': JSON.stringify(TOKEN).slice(1, -1),
  'a piece of the secret': 'QzX9',
  'the -H password': HOST_PASSWORD,
  'CICADA_SECRET': CLUSTER_SECRET,
};

/** Fails naming `what` and the leaked form, with the text around it. */
function assertClean(what: string, text: string, masked = true): void {
  for (const [form, value] of Object.entries(FORMS)) {
    const at = text.indexOf(value);
    assert.equal(at, -1, `${what} contains ${form}: …${text.slice(Math.max(0, at - 80), at + 80)}…`);
  }
  if (masked) assert.ok(text.includes('***'), `${what} shows *** where the secret was:\n${text.slice(0, 2000)}`);
}

async function assertFilesClean(dir: string, unmasked: readonly string[] = []): Promise<string[]> {
  const names = await readdir(dir);
  for (const name of names) assertClean(name, await readFile(path.join(dir, name), 'utf8'), !unmasked.includes(name));
  return names;
}

/** The target: /echo/… answers 500 with the URL and the x-token header it got, in JSON; the rest 200. */
let target: { url: string; tokens: Set<string>; close(): Promise<void> };
before(async () => {
  const tokens = new Set<string>();
  const server = http.createServer((req, res) => {
    req.resume();
    const header = req.headers['x-token'];
    if (typeof header === 'string') tokens.add(header);
    if (req.url?.startsWith('/echo/')) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url, token: header }));
    } else {
      res.end('ok');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  target = {
    url: `127.0.0.1:${port}`,
    tokens,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
});
after(() => target.close());

const hostWithPassword = (): string => `http://ann:${HOST_PASSWORD}@${target.url}`;

describe('secrets are masked in everything that leaves Cicada', () => {
  it('headless, the secret from the environment: every report file, the log file, stdout and stderr', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cicada-secrets-'));
    const out = (name: string): string => path.join(dir, name);
    const result = await runCli(['-f', fixture('secrets.ts'), '--headless', '-H', hostWithPassword(), '-u', '3', '-r', '30', '-t', '2s',
      '--csv', out('run'), '--csv-full-history', '--html', out('report.html'), '--json-file', out('stats'), '--junit', out('junit.xml'),
      '--summary-json', out('summary.json'), '--logfile', out('cicada.log')], { env: { API_TOKEN: TOKEN, CICADA_SECRET: CLUSTER_SECRET }, timeoutMs: 40_000 });
    assert.equal(result.code, 1, `failures were recorded: exit 1\n${result.stderr}`);
    assert.ok(target.tokens.has(TOKEN), 'the target got the real secret (the run used it)');
    const files = await assertFilesClean(dir);
    assert.deepEqual(files.sort(), ['cicada.log', 'junit.xml', 'report.html', 'run_exceptions.csv', 'run_failures.csv', 'run_stats.csv', 'run_stats_history.csv', 'stats.json', 'summary.json']);
    assertClean('stdout', result.stdout);
    assertClean('stderr', result.stderr, false);
    assert.match(result.stdout, /top level read the token: \*\*\*\n/);
    assert.match(result.stdout, /a task logs \*\*\*\n/);
    assert.match(result.stderr, /CICADA_SECRET visible at the top level: false\n/, 'CICADA_SECRET left process.env before the cicadafile ran');
    const summary = await readFile(out('summary.json'), 'utf8');
    assert.ok(summary.includes(`"http://ann:***@${target.url}"`), 'the host keeps its user, not its password');
    assert.ok(summary.includes('/named/***'), 'a request name');
    assert.ok((await readFile(out('run_failures.csv'), 'utf8')).includes('echo: {""url"":""/echo/***?token=***""'), 'the echoed URL, path and query');
    assert.match(await readFile(out('run_exceptions.csv'), 'utf8'), /boom with \*\*\*/);
    assert.match(await readFile(out('junit.xml'), 'utf8'), /sees \*\*\*/);
    assert.match(await readFile(out('cicada.log'), 'utf8'), /boom with \*\*\*/);
  });

  it('--processes 2, the secret from --secrets-dir read by the workers only: their reports arrive masked', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cicada-secrets-'));
    const secrets = await mkdtemp(path.join(tmpdir(), 'cicada-secrets-dir-'));
    await writeFile(path.join(secrets, 'API_TOKEN'), `${TOKEN}\n`);
    target.tokens.clear();
    // The host by environment: nothing on any process's command line holds the password.
    const result = await runCli(['-f', fixture('secrets.ts'), '--headless', '--processes', '2', '--master-bind-port', String(await freePort()),
      '-u', '4', '-r', '40', '-t', '3s', '--secrets-dir', secrets, '--csv', path.join(dir, 'run'), '--summary-json', path.join(dir, 'summary.json')],
    { env: { SECRET_IN_ONSTART: '1', CICADA_HOST: hostWithPassword(), CICADA_SECRET: CLUSTER_SECRET }, timeoutMs: 60_000 });
    assert.equal(result.code, 1, result.stderr);
    assert.deepEqual([...target.tokens], [TOKEN], 'the workers read the file, without its trailing newline');
    await assertFilesClean(dir, ['run_stats_history.csv']);
    assertClean('stdout', result.stdout);
    assertClean('stderr', result.stderr, false);
    assert.equal(result.stderr.match(/CICADA_SECRET visible at the top level: false/g)?.length, 3, `master and both workers:\n${result.stderr}`);
    assert.equal(result.stderr.match(/argv carries a URL password: false/g)?.length, 3, 'no process got the -H password in argv');
    assert.doesNotMatch(result.stderr, /: true\n/);
    const summary = await readFile(path.join(dir, 'summary.json'), 'utf8');
    for (const masked of ['/named/***', 'boom with ***', 'sees ***', 'the check saw ***', '/echo/***?token=***']) assert.ok(summary.includes(masked), masked);
  });

  it('a web run: the API, the HTML report, CSV downloads, /stream, /metrics and error pages', async () => {
    const port = await freePort();
    const run = startCli(['-f', fixture('secrets.ts'), '-H', hostWithPassword(), '-u', '2', '-r', '20', '--autostart', '-P', String(port)],
      { env: { API_TOKEN: TOKEN }, timeoutMs: 60_000 });
    try {
      await run.waitFor(`web UI: http://127.0.0.1:${port}/`);
      const url = `http://127.0.0.1:${port}`;
      const get = async (p: string): Promise<{ status: number; text: string }> => {
        const res = await fetch(`${url}${p}`);
        return { status: res.status, text: await res.text() };
      };
      await until(async () => {
        const stats = JSON.parse((await get('/stats/requests')).text) as { errors: unknown[] };
        const exceptions = JSON.parse((await get('/exceptions')).text) as { exceptions: unknown[] };
        // Tasks are picked at random: wait until every kind has run (regression: /stats/checks was empty once in CI).
        const checks = JSON.parse((await get('/stats/checks')).text) as { checks: unknown[] };
        const named = (await get('/metrics')).text.includes('name="/named/');
        return stats.errors.length > 0 && exceptions.exceptions.length > 0 && checks.checks.length > 0 && named;
      }, 'failures, exceptions, checks and the named requests to be recorded');
      for (const p of ['/stats/requests', '/stats/report', '/stats/requests/csv', '/stats/failures/csv', '/exceptions', '/exceptions/csv',
        '/stats/checks', '/stats/requests_full_history/csv', '/config', '/metrics']) {
        const { status, text } = await get(p);
        assert.equal(status, 200, `${p}: ${text.slice(0, 200)}`);
        assertClean(p, text, p !== '/stats/requests_full_history/csv' || text.includes('/named/'));
      }
      assert.ok((await get('/config')).text.includes(`http://ann:***@${target.url}`), 'the host as /config shows it');
      assert.match((await get('/metrics')).text, /name="\/named\/\*\*\*"/, 'a label value of /metrics');
      const notFound = await get(`/nope/${encodeURIComponent(TOKEN)}`);
      assert.equal(notFound.status, 404);
      assertClean('a 404 naming the path', notFound.text);
      assertClean('/stream', await streamEvents(`${url}/stream`));
    } finally {
      run.kill('SIGTERM');
    }
    const result = await run.done;
    assertClean('stdout', result.stdout);
    assertClean('stderr', result.stderr, false);
  });

  it('stops with exit 2 and a message naming the variable and the folder when the secret is missing', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'cicada-secrets-dir-'));
    const result = await runCli(['-f', fixture('secrets.ts'), '--headless', '-H', `http://${target.url}`, '-t', '1s', '--secrets-dir', empty]);
    assert.equal(result.code, 2, result.stderr);
    assert.ok(result.stderr.includes(`secret('API_TOKEN') not found: the environment variable API_TOKEN is not set and the --secrets-dir folder ${empty} has no file API_TOKEN`), result.stderr);
    assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
  });

  it('every push export: Graphite lines, the remote-write protobuf and OTLP JSON carry no secret', async () => {
    const received = { graphite: '', remoteWrite: '', otlp: '' };
    const graphite = net.createServer((socket) => socket.on('data', (d: Buffer) => (received.graphite += d.toString())));
    const collector = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        // Remote write is snappy-compressed protobuf: its strings are plain bytes once uncompressed.
        if (req.url === '/api/v1/write') received.remoteWrite += Buffer.from(uncompress(body)).toString('latin1');
        else received.otlp += body.toString();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await Promise.all([new Promise<void>((r) => graphite.listen(0, '127.0.0.1', r)), new Promise<void>((r) => collector.listen(0, '127.0.0.1', r))]);
    try {
      const port = (server: net.Server): number => (server.address() as AddressInfo).port;
      const result = await runCli(['-f', fixture('secrets.ts'), '--headless', '-H', hostWithPassword(), '-u', '3', '-r', '30', '-t', '2s', '--only-summary',
        '--metrics-interval', '1', '--graphite', `127.0.0.1:${port(graphite)}`, '--prometheus-remote-write', `http://127.0.0.1:${port(collector)}/api/v1/write`, '--otel'],
      { env: { API_TOKEN: TOKEN, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port(collector)}`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, timeoutMs: 40_000 });
      assert.equal(result.code, 1, result.stderr);
      assert.match(received.graphite, /\.GET\.named\.count \d+ /, 'Graphite got the masked name (sanitised: /named/*** is named)');
      assertClean('the Graphite lines', received.graphite, false);
      assertClean('the remote-write series', received.remoteWrite);
      assertClean('the OTLP export', received.otlp);
      assert.ok(received.remoteWrite.includes('/named/***') && received.otlp.includes('/named/***'), 'the request name, masked');
    } finally {
      await Promise.all([new Promise((r) => graphite.close(r)), new Promise((r) => collector.close(r))]);
    }
  });
});

/** The text of /stream until it has sent two `stats` events (the second with failures recorded). */
async function streamEvents(url: string): Promise<string> {
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal });
  assert.equal(res.status, 200);
  let text = '';
  const decoder = new TextDecoder();
  const reader = res.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  try {
    while ((text.match(/event: stats/g)?.length ?? 0) < 2) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
  } finally {
    abort.abort();
  }
  return text;
}

describe('edges tested without a run', () => {
  after(() => clearSecrets());

  it('the metrics model masks its label values, for every exporter (push ones, the --metrics-port listener)', () => {
    registerSecret('tok-12345');
    const data = reportData({
      snapshot: {
        entries: [entrySnapshot('GET', '/a/tok-12345')],
        checks: [{ name: 'sees tok-12345', request: '/a/tok-12345', passes: 1, fails: 1 }],
      },
    });
    data.thresholds = [{ metric: 'response_time{name:/a/tok-12345}', expression: 'p(95)<100', ok: true, observed: 1, unit: 'ms', tags: { name: '/a/tok-12345' }, abortOnFail: false }];
    const text = JSON.stringify(metricFamilies(data, { workers: 0 }));
    assert.ok(!text.includes('tok-12345'), text);
    for (const masked of ['"name":"/a/***"', '"check":"sees ***"', '"threshold":"response_time{name:/a/***} p(95)<100"']) assert.ok(text.includes(masked), masked);
  });

  it('masks string and data bodies and leaves the built UI\'s files alone', async () => {
    registerSecret('tok-12345');
    const app = Fastify();
    redactResponses(app);
    app.get('/json', () => ({ name: '/a/tok-12345' }));
    app.get('/csv', (_req, reply) => reply.type('text/csv').send(Buffer.from('GET,/a/tok-12345\r\n')));
    app.get('/script.js', (_req, reply) => reply.type('text/javascript').send(Buffer.from('const tok-12345;')));
    assert.equal((await app.inject('/json')).body, '{"name":"/a/***"}');
    const csv = await app.inject('/csv');
    assert.equal(csv.body, 'GET,/a/***\r\n');
    assert.equal(csv.headers['content-length'], String(Buffer.byteLength(csv.body)));
    assert.equal((await app.inject('/script.js')).body, 'const tok-12345;');
    await app.close();
  });
});
