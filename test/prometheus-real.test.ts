// Against a real Prometheus 2.42: remote write from a headless run, the dashboard's queries, and an HTTPS scrape with a bearer token.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { makeTlsFixtures, type TlsFixtures } from '../src/transport/tls-fixtures.test-helper.ts';
import { fixture, freePort, repoRoot, runCli, startCli, startCountingTarget, until, type CliResult, type CountingTarget } from './helpers.ts';
import { PROMTOOL, byLabel, requirePrometheus, startPrometheus, type Prometheus } from './prometheus-helpers.ts';

const FIXTURE = fixture('remote-write.ts');
/** A few seconds of load: enough for several 1 s pushes and scrapes, bounded by the CLI's own timeout. */
const load = (seconds: number): string[] => ['--headless', '--only-summary', '-u', '3', '-r', '30', '-t', `${seconds}s`, '--metrics-interval', '1', '--threshold', 'response_time p(95)<5000'];
const BOUNDED = { timeoutMs: 30_000 };

/** What the counting target received, by the request names the fixture gives (`GET /delay/20` is named /slow). */
function targetByName(target: CountingTarget): Record<string, number> {
  const names: Record<string, string> = { 'GET /fast': '/fast', 'GET /delay/20': '/slow' };
  return Object.fromEntries([...target.counts].map(([k, n]) => [names[k] ?? k, n]));
}

/** The run pushed, and every point arrived (the summary line of the remote-write output). */
function assertPushedAll(result: CliResult): void {
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /Prometheus remote write to \S+: \d+ points sent$/m, `no remote-write summary, or points NOT sent (is --prometheus-remote-write wired into the run's outputs?)\n${result.stderr}`);
}

/** Every `expr` of a Grafana dashboard, with its panel's title. */
function dashboardExprs(dashboard: unknown): { title: string; expr: string }[] {
  const panels = (dashboard as { panels: { title: string; targets?: { expr?: string }[] }[] }).panels;
  return panels.flatMap((p) => (p.targets ?? []).flatMap((t) => (t.expr === undefined ? [] : [{ title: p.title, expr: t.expr }])));
}

/** Grafana's template variables as a query of all runs and names would expand them. */
function substitute(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '15s').replace(/\$\{(run_id|name)[^}]*\}/g, '.*').replace(/\$(run_id|name)\b/g, '.*');
}

describe('remote write into a real Prometheus', { concurrency: 1 }, () => {
  let prom: Prometheus;
  let target: CountingTarget;
  before(async () => {
    requirePrometheus();
    target = await startCountingTarget();
    prom = await startPrometheus();
  });
  after(async () => {
    await prom?.stop();
    await target?.close();
  });

  it('stores exactly what the target counted, per name, and the histogram gives sane quantiles', async () => {
    const result = await runCli(['-f', FIXTURE, '-H', target.url, ...load(3), '--prometheus-remote-write', `${prom.url}/api/v1/write`], BOUNDED);
    assertPushedAll(result);
    const counted = targetByName(target);
    assert.ok((counted['/fast'] ?? 0) > 0 && (counted['/slow'] ?? 0) > 0, `the target got both names: ${JSON.stringify(counted)}`);
    assert.deepEqual(byLabel(await prom.query('sum by (name) (cicada_requests_total)'), 'name'), counted, prom.log());
    assert.deepEqual(byLabel(await prom.query('sum by (name) (cicada_request_failures_total)'), 'name'), { '/fast': 0, '/slow': 0 });
    // Every series of a histogram: buckets, _sum and _count agree with the request count.
    assert.deepEqual(byLabel(await prom.query('sum by (name) (cicada_response_time_seconds_count)'), 'name'), counted);
    assert.deepEqual(byLabel(await prom.query('sum by (name) (cicada_response_time_seconds_bucket{le="+Inf"})'), 'name'), counted);
    const p50 = byLabel(await prom.query('histogram_quantile(0.5, sum by (le, name) (rate(cicada_response_time_seconds_bucket[1m])))'), 'name');
    // /slow waits 20 ms on the target; /fast answers at once on loopback.
    assert.ok(p50['/slow']! >= 0.018 && p50['/slow']! < 0.5, `p50 of /slow is ${p50['/slow']} s`);
    assert.ok(p50['/fast']! > 0 && p50['/fast']! < p50['/slow']!, `p50 of /fast is ${p50['/fast']} s`);
    const mean = byLabel(await prom.query('sum by (name) (cicada_response_time_seconds_sum) / sum by (name) (cicada_response_time_seconds_count)'), 'name');
    assert.ok(mean['/slow']! >= 0.02 && mean['/slow']! < 0.5, `mean of /slow is ${mean['/slow']} s`);
    // Several pushes arrived, not only the final one: rate() needs two samples or more.
    const pushes = await prom.query('count_over_time(cicada_users[5m])');
    assert.ok(Number(pushes[0]?.value[1]) >= 3, `pushes stored: ${JSON.stringify(pushes)}`);
    assert.deepEqual(byLabel(await prom.query('cicada_checks_total'), 'result'), { pass: counted['/fast'], fail: 0 });
    assert.deepEqual((await prom.query('cicada_threshold_passed')).map((r) => [r.metric.threshold, r.value[1]]), [['response_time p(95)<5000', '1']]);
  });

  it('answers every query of dashboards/cicada.json with data', async () => {
    // A second run, open-model, so the scenario series (iterations, dropped) exist too; the dashboard then holds two runs.
    const open = await runCli(['-f', FIXTURE, '-H', target.url, '--headless', '--only-summary', '--arrival-rate', '30', '--max-users', '2', '-t', '2s', '--metrics-interval', '1',
      '--prometheus-remote-write', `${prom.url}/api/v1/write`], BOUNDED);
    assertPushedAll(open);
    const dashboard = JSON.parse(readFileSync(path.join(repoRoot, 'dashboards', 'cicada.json'), 'utf8')) as {
      schemaVersion: number; __inputs: { name: string }[]; templating: { list: { name: string; query: { query: string } }[] };
    };
    assert.ok(dashboard.schemaVersion >= 36, `schemaVersion ${dashboard.schemaVersion}`);
    assert.deepEqual(dashboard.__inputs.map((i) => i.name), ['DS_PROMETHEUS']);
    const exprs = dashboardExprs(dashboard);
    assert.ok(exprs.length >= 10, `${exprs.length} queries`);
    const empty: string[] = [];
    for (const { title, expr } of exprs) {
      const results = await prom.query(substitute(expr)); // rejects on a PromQL error
      if (results.length === 0) empty.push(`${title}: ${expr}`);
    }
    assert.deepEqual(empty, [], 'queries that returned no data');
    // The variables' label_values(SELECTOR, LABEL) as Prometheus' label-values API answers them.
    for (const variable of dashboard.templating.list) {
      const m = /^label_values\((.+), (\w+)\)$/.exec(variable.query.query);
      assert.ok(m, `variable ${variable.name}: ${variable.query.query}`);
      const answer = (await prom.get(`/api/v1/label/${m[2]}/values?match[]=${encodeURIComponent(substitute(m[1]!))}`)) as { data: string[] };
      assert.ok(answer.data.length > 0, `variable ${variable.name} has no values`);
    }
  });
});

describe('an HTTPS scrape with a bearer token, and remote write over HTTPS', { concurrency: 1 }, () => {
  const TOKEN = 'scrape-token-0123456789abcdef';
  let tls: TlsFixtures;
  let dir: string;
  let target: CountingTarget;
  let prom: Prometheus;
  let run: ReturnType<typeof startCli> | undefined;
  let metricsPort: number;
  before(async () => {
    requirePrometheus();
    tls = makeTlsFixtures();
    dir = await mkdtemp(path.join(tmpdir(), 'cicada-scrape-'));
    for (const [name, content] of [['ca.pem', tls.ca], ['cert.pem', tls.serverCert], ['key.pem', tls.serverKey], ['token', `${TOKEN}\n`], ['wrong-token', 'not-the-token\n']] as const) {
      await writeFile(path.join(dir, name), content);
    }
    target = await startCountingTarget();
    metricsPort = await freePort();
    const job = (name: string, token: string): string => [
      `  - job_name: ${name}`, '    scheme: https', `    tls_config: { ca_file: ${path.join(dir, 'ca.pem')} }`,
      `    authorization: { credentials_file: ${path.join(dir, token)} }`, `    static_configs: [{ targets: ['127.0.0.1:${metricsPort}'] }]`,
    ].join('\n');
    prom = await startPrometheus({ tls: { cert: tls.serverCert, key: tls.serverKey, ca: tls.ca }, config: () => `scrape_configs:\n${job('cicada', 'token')}\n${job('cicada-wrong-token', 'wrong-token')}\n` });
  });
  after(async () => {
    run?.kill('SIGKILL');
    await prom?.stop();
    await target?.close();
    await rm(dir, { recursive: true, force: true });
    tls?.cleanup();
  });

  it('is scraped while the run goes (and refused with a wrong token), with text that promtool passes', async () => {
    run = startCli(['-f', FIXTURE, '-H', target.url, ...load(6),
      '--metrics-port', String(metricsPort), '--tls-cert', path.join(dir, 'cert.pem'), '--tls-key', path.join(dir, 'key.pem'), '--metrics-token-file', path.join(dir, 'token'),
      '--prometheus-remote-write', `${prom.url}/api/v1/write`, '--export-ca-file', path.join(dir, 'ca.pem')], BOUNDED);
    await run.waitFor('metrics: https://', 15_000);
    // Prometheus discovers static targets ~5 s after its start, then scrapes each job at its own offset.
    let names: Record<string, number> = {};
    let up: Record<string, number> = {};
    await until(async () => {
      names = byLabel(await prom.query('sum by (name) (cicada_requests_total{job="cicada"})'), 'name');
      up = byLabel(await prom.query('up'), 'job');
      return (names['/fast'] ?? 0) > 0 && (names['/slow'] ?? 0) > 0 && 'cicada-wrong-token' in up;
    }, `both names scraped over HTTPS and both jobs tried (so far ${JSON.stringify(names)}, up ${JSON.stringify(up)})\n${prom.log()}`, 10_000);
    assert.deepEqual(up, { cicada: 1, 'cicada-wrong-token': 0 });
    const targets = (await prom.get('/api/v1/targets')) as { data: { activeTargets: { labels: { job: string }; lastError: string }[] } };
    const wrong = targets.data.activeTargets.find((t) => t.labels.job === 'cicada-wrong-token');
    assert.match(wrong?.lastError ?? '', /401/);

    const agent = new Agent({ connect: { ca: tls.ca } });
    const res = await request(`https://127.0.0.1:${metricsPort}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` }, dispatcher: agent });
    const text = await res.body.text();
    await agent.close();
    assert.equal(res.statusCode, 200);
    // promtool passes empty input too, so the series that matter are asserted as well.
    for (const series of [/^cicada_requests_total\{method="GET",name="\/fast",run_id="\d+"\} \d+$/m, /^cicada_response_time_seconds_bucket\{.*name="\/slow".*le="\+Inf"\} \d+$/m, /^cicada_users\{run_id="\d+"\} 3$/m]) {
      assert.match(text, series);
    }
    const lint = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 10_000 });
    assert.equal(lint.status, 0, `promtool check metrics: ${lint.stdout}${lint.stderr}`);
    assert.equal(`${lint.stdout}${lint.stderr}`.trim(), '', 'promtool has no lint remarks');
  });

  it('took the remote write over HTTPS, trusting --export-ca-file: the pushed series equal the target', async () => {
    const result = await run!.done;
    assertPushedAll(result);
    // Pushed series carry no job label (a scrape adds one): the two stores are told apart by it.
    assert.deepEqual(byLabel(await prom.query('sum by (name) (cicada_requests_total{job=""})'), 'name'), targetByName(target), prom.log());
  });
});
