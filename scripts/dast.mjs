// `npm run dast`: Debian's wapiti scans a real Cicada web UI on 127.0.0.1 as it is deployed beyond loopback (HTTPS with
// a throwaway certificate, a users file, an admin session, a run going against a local target) and the command fails on any finding of medium severity or more that is not a known false
// positive (FALSE_POSITIVES below, each with its reason; docs/security.md lists them too).
//   node scripts/dast.mjs [--if-available] [--keep]
// --if-available: without wapiti, skip with a message (under CI=true, fail instead). --keep: keep the report folder.
// Every request goes to 127.0.0.1: wapiti gets --no-bugreport, local endpoints, an empty Wappalyzer database (it would
// download one at start, selected or not), and only modules that need no outside endpoint or download.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Agent, request } from 'undici';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const BIN = path.join(root, 'bin', 'cicada.mjs');
const MEDIUM = 2; // wapiti's levels: 0 info, 1 low, 2 medium, 3 high, 4 critical

// The modules that apply to a single-page app over a JSON API. Left out: ssrf and xxe (they need wapiti's outside
// endpoint; and no route parses XML: only JSON and forms are accepted), nikto and wapp (they download their databases),
// buster (31,545 guessed paths: the UI server only serves the names it found in dist/ui at start), shellshock (no CGI),
// brute_login_form (the SPA has no HTML form; the login rate limit is tested in test/web-api.test.ts).
const MODULES = ['xss', 'permanentxss', 'exec', 'file', 'sql', 'blindsql', 'crlf', 'redirect', 'http_headers', 'csp', 'cookieflags', 'methods', 'csrf', 'backup', 'htaccess'];

// GET routes of docs/web-api.md: the crawler cannot find them in an SPA (it reads no JavaScript), so they are start URLs.
const ROUTES = ['/', '/session', '/config', '/stats/requests', '/stats/history', '/stats/thresholds', '/stats/checks',
  '/exceptions', '/tasks', '/worker-count', '/metrics', '/stats/requests/csv', '/stats/failures/csv', '/exceptions/csv',
  '/stats/requests_full_history/csv', '/stats/report?download=1', '/auth/oidc/callback?code=x&state=y&error=z&error_description=w'];

/**
 * The POST routes as HTML forms, since forms are the only way to tell wapiti 3.0.4 about a request body (Cicada takes
 * url-encoded bodies as well as JSON). The page is served by the local target, so the scan's scope is "domain"
 * (127.0.0.1, any port: nothing else). Each form carries the session's CSRF token, so the payloads reach the validation
 * behind it (but /login's: it takes none, there is no session yet). Hidden inputs, so that wapiti keeps their values
 * (it fills a text input whose name holds "user" with "alice"). No `host` field: a payload that happened to be a valid URL would point the run's users at it.
 */
function formsPage(base, csrf) {
  const form = (route, fields, token = csrf) => `<form method="post" action="${base}${route}">${Object.entries(token ? { ...fields, _csrf: token } : fields)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`).join('')}<button>go</button></form>`;
  return `<!doctype html><title>Cicada POST routes</title>
${form('/login', { username: 'ada', password: 'not the password' }, null)}
${form('/swarm', { user_count: '1', spawn_rate: '1', run_time: '30s' })}
${form('/swarm', { arrival_rate: '1', max_users: '2', run_time: '30s' })}
${form('/stop', {})}
${form('/stats/reset', {})}`;
}

/**
 * Findings of medium or more that are not vulnerabilities here. Each has its reason (docs/security.md repeats it) and a
 * proof the scan runs against the same server: a false positive whose proof fails is a finding after all.
 */
const FALSE_POSITIVES = [
  {
    category: 'Cross Site Request Forgery',
    path: /^\/login$/,
    reason: 'POST /login has no session yet, so it takes no CSRF token; a cross-site login is refused by the Origin and ' +
      'Sec-Fetch-Site check that every POST passes (browsers send them; wapiti sends neither)',
    async proof(base, dispatcher) {
      const body = { username: 'ada', password: 'any' };
      const foreign = await post(base, dispatcher, '/login', body, { origin: 'https://attacker.example' });
      const crossSite = await post(base, dispatcher, '/login', body, { 'sec-fetch-site': 'cross-site' });
      return foreign.status === 403 && crossSite.status === 403 ? null : `a cross-site login got ${foreign.status} and ${crossSite.status}, not 403`;
    },
  },
];

function log(line) {
  process.stdout.write(`dast: ${line}\n`);
}

/** A reason to stop, with the exit code; thrown so that the finally block still stops cicada and the target. */
class Failure extends Error {
  constructor(message, code = 1) {
    super(message);
    this.code = code;
  }
}

function fail(message, code = 1) {
  throw new Failure(message, code);
}

async function listen(server) {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server.address().port;
}

async function freePort() {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function hashPassword(password) {
  const result = spawnSync(process.execPath, [BIN, 'hash-password'], { cwd: root, input: password, encoding: 'utf8' });
  if (result.status !== 0) fail(`cicada hash-password failed: ${result.stderr}`);
  return result.stdout.trim().split('\n').at(-1);
}

/** Starts `cicada` with the web UI and resolves once it prints its URL. */
async function startCicada(args, env) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cicada did not start within 30 s:\n${output}`)), 30_000);
    const onData = (chunk) => {
      output += chunk;
      if (/web UI: http/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`cicada exited (${code}) before it served:\n${output}`)));
  });
  await ready;
  return { child, output: () => output };
}

/** A throwaway self-signed certificate for 127.0.0.1 (openssl, as the TLS tests make theirs). */
function makeCertificate(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const result = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { encoding: 'utf8' });
  if (result.status !== 0) fail(`openssl could not make a certificate: ${result.error?.message ?? result.stderr}`, 2);
  return { cert, key };
}

async function post(base, dispatcher, route, body, headers = {}) {
  const res = await request(`${base}${route}`, { method: 'POST', dispatcher, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

async function login(base, dispatcher, username, password) {
  const res = await post(base, dispatcher, '/login', { username, password });
  if (res.status !== 200) fail(`login failed: ${res.status} ${res.text}`);
  const setCookie = [res.headers['set-cookie'] ?? []].flat();
  const cookie = setCookie.map((c) => c.split(';')[0]).find((c) => c.includes('cicada_session'));
  return { cookie, csrfToken: JSON.parse(res.text).csrfToken };
}

function runWapiti(args, options) {
  return new Promise((resolve) => {
    const child = spawn('wapiti', args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => { output += chunk; });
    child.stderr.on('data', (chunk) => { output += chunk; });
    child.once('error', (error) => resolve({ code: -1, output: `${output}\n${error.message}` }));
    child.once('close', (code, signal) => resolve({ code: code ?? signal, output }));
  });
}

function findings(report) {
  const out = [];
  for (const kind of ['vulnerabilities', 'anomalies', 'additionals']) {
    for (const [category, list] of Object.entries(report[kind] ?? {})) {
      for (const f of list) out.push({ kind, category, level: Number(f.level), method: f.method, path: f.path, parameter: f.parameter, info: f.info });
    }
  }
  return out;
}

async function main() {
  const argv = process.argv.slice(2);
  if (spawnSync('wapiti', ['--version'], { encoding: 'utf8' }).error) {
    const message = 'wapiti is not installed (apt-get install wapiti)';
    if (argv.includes('--if-available') && !process.env.CI) {
      log(`skipped: ${message}`);
      return;
    }
    fail(message, 2);
  }
  const started = Date.now();
  const dir = mkdtempSync(path.join(tmpdir(), 'cicada-dast-'));
  const target = createServer((_req, res) => res.end('ok'));
  // The forms page has a server of its own, which knows no other path (wapiti probes for backups of what it finds).
  let forms = '';
  const formsServer = createServer((req, res) => {
    if (req.url === '/forms.html') res.setHeader('content-type', 'text/html; charset=utf-8').end(forms);
    else res.writeHead(404).end();
  });
  const targetPort = await listen(target);
  const formsPort = await listen(formsServer);
  let cicada;
  let keep = argv.includes('--keep');
  try {
    const password = 'dast admin password 1';
    writeFileSync(path.join(dir, 'users.toml'), `[[users]]\nname = "ada"\nrole = "admin"\npassword_hash = "${hashPassword(password)}"\n`);
    const tls = makeCertificate(dir);
    const dispatcher = new Agent({ connect: { ca: readFileSync(tls.cert) } });
    const webPort = await freePort();
    const base = `https://127.0.0.1:${webPort}`;
    const env = { ...process.env, NO_COLOR: '1' };
    cicada = await startCicada(['-f', 'examples/cicadafile.ts', '-H', `http://127.0.0.1:${targetPort}`, '--web-host', '127.0.0.1',
      '--web-port', String(webPort), '--web-users', path.join(dir, 'users.toml'), '--tls-cert', tls.cert, '--tls-key', tls.key], env);
    const session = await login(base, dispatcher, 'ada', password);
    // A run going, so the statistics, history and reports that wapiti reads hold rows (2 users against the local target).
    const swarm = await post(base, dispatcher, '/swarm', { user_count: 2, spawn_rate: 2, run_time: '10m' }, { cookie: session.cookie, 'x-csrf-token': session.csrfToken });
    if (swarm.status !== 200) fail(`POST /swarm failed: ${swarm.status} ${swarm.text}`);
    forms = formsPage(base, session.csrfToken);
    log(`cicada web UI at ${base} (HTTPS), logged in as admin, a run going; wapiti with ${MODULES.length} modules`);

    const reportFile = path.join(dir, 'wapiti.json');
    const configDir = path.join(dir, 'config');
    mkdirSync(configDir);
    writeFileSync(path.join(configDir, 'apps.json'), '{}');
    const args = ['-u', `${base}/`, '--scope', 'domain', '-m', MODULES.join(','), '-H', `Cookie: ${session.cookie}`,
      ...ROUTES.flatMap((r) => ['-s', `${base}${r}`]), '-s', `http://127.0.0.1:${formsPort}/forms.html`, '--skip', 'host',
      // No -x: wapiti 3.0.4's exclusions crash on Python 3.11 ("global flags not at the start"). Nothing needs one:
      // /logout is POST with a CSRF token (the scan has none to send), and /stream is cut by -t.
      '--flush-session', '--store-session', path.join(dir, 'session'), '--store-config', configDir,
      '--external-endpoint', `http://127.0.0.1:${targetPort}/`, '--internal-endpoint', `http://127.0.0.1:${targetPort}/`,
      '-t', '5', '-d', '4', '--max-scan-time', '240', '-f', 'json', '-o', reportFile, '--no-bugreport', '-v', '1'];
    // Asynchronously: the local target (and its forms page) must go on answering while wapiti runs.
    const scan = await runWapiti(args, { cwd: dir, env: { ...process.env, HOME: dir } });
    writeFileSync(path.join(dir, 'wapiti.log'), scan.output);
    if (scan.code !== 0) fail(`wapiti failed (exit ${scan.code}); its output: ${path.join(dir, 'wapiti.log')}\n${scan.output.slice(-2000)}`);
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));

    const all = findings(report);
    const blocking = [];
    for (const f of all) {
      let known = FALSE_POSITIVES.find((fp) => fp.category === f.category && fp.path.test(f.path));
      const disproved = known && f.level >= MEDIUM ? await known.proof(base, dispatcher) : null;
      if (disproved) {
        log(`  the proof that ${f.category} on ${f.path} is a false positive failed: ${disproved}`);
        known = undefined;
      }
      const mark = f.level >= MEDIUM ? (known ? 'false positive' : 'FAIL') : 'below medium';
      log(`  [${mark}] level ${f.level} ${f.kind}/${f.category}: ${f.method} ${f.path}${f.parameter ? ` (${f.parameter})` : ''}: ${f.info}${known ? ` — ${known.reason}` : ''}`);
      if (f.level >= MEDIUM && !known) blocking.push(f);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    log(`${all.length} findings, ${blocking.length} of them of medium severity or more and not a known false positive (${seconds} s)`);
    await dispatcher.close();
    if (blocking.length > 0) {
      keep = true;
      fail(`medium-or-higher findings: fix them, or list them with a reason in scripts/dast.mjs and docs/security.md (report: ${reportFile})`);
    }
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    keep = true;
    process.stderr.write(`dast: ${error.message}\n`);
    process.exitCode = error.code;
  } finally {
    cicada?.child.kill('SIGKILL');
    target.close();
    formsServer.close();
    if (keep) log(`report folder kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (error) {
  if (!(error instanceof Failure)) throw error;
  process.stderr.write(`dast: ${error.message}\n`);
  process.exitCode = error.code;
}
