// A real Prometheus for tests (Debian's `prometheus` package): started on 127.0.0.1 in a temp dir, queried, stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { freePort, until } from './helpers.ts';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

/** Fails with what to install (CI's .ci/run installs it) rather than skipping: a skipped real test proves nothing. */
export function requirePrometheus(): void {
  for (const tool of [PROMETHEUS, PROMTOOL]) {
    if (!existsSync(tool)) throw new Error(`${tool} is missing: these tests need Debian's "prometheus" package (apt-get install -y prometheus), which .ci/run installs`);
  }
}

export interface PrometheusOptions {
  /** prometheus.yml beyond `global` (e.g. `scrape_configs: …`); may name files in `dir`. */
  config?: (dir: string) => string;
  /** Serve HTTPS (web.config.file) with this certificate and key. */
  tls?: { cert: Buffer; key: Buffer; ca: Buffer };
}

export interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

export interface Prometheus {
  /** `http(s)://127.0.0.1:PORT`. */
  url: string;
  /** The temp dir holding the config, the TSDB, and any files a config names. */
  dir: string;
  /** GET a path of the HTTP API; rejects on a non-2xx answer, with its body. */
  get(pathAndQuery: string): Promise<unknown>;
  /** An instant query's vector (`/api/v1/query`); rejects when Prometheus reports an error. */
  query(promql: string): Promise<PromResult[]>;
  /** Prometheus' own log so far, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** Starts Prometheus with the remote-write receiver on, waits for /-/ready (≤ 20 s). Always `stop()` it (in `finally`/`after`). */
export async function startPrometheus(options: PrometheusOptions = {}): Promise<Prometheus> {
  requirePrometheus();
  const dir = await mkdtemp(path.join(tmpdir(), 'cicada-prom-'));
  const file = (name: string): string => path.join(dir, name);
  await writeFile(file('prometheus.yml'), `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n${options.config?.(dir) ?? ''}`);
  const args = [`--config.file=${file('prometheus.yml')}`, `--storage.tsdb.path=${file('tsdb')}`, '--web.enable-remote-write-receiver', '--log.level=warn'];
  if (options.tls !== undefined) {
    await writeFile(file('server.pem'), options.tls.cert);
    await writeFile(file('server.key'), options.tls.key);
    await writeFile(file('web.yml'), `tls_server_config:\n  cert_file: ${file('server.pem')}\n  key_file: ${file('server.key')}\n`);
    args.push(`--web.config.file=${file('web.yml')}`);
  }
  const port = await freePort();
  const url = `http${options.tls !== undefined ? 's' : ''}://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(PROMETHEUS, [...args, `--web.listen-address=127.0.0.1:${port}`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const agent = new Agent(options.tls !== undefined ? { connect: { ca: options.tls.ca } } : {});

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await agent.close();
    await rm(dir, { recursive: true, force: true });
  };
  const get = async (pathAndQuery: string): Promise<unknown> => {
    const res = await request(`${url}${pathAndQuery}`, { dispatcher: agent, signal: AbortSignal.timeout(5000) });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`Prometheus answered ${res.statusCode} to ${pathAndQuery}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as unknown;
  };
  const query = async (promql: string): Promise<PromResult[]> => {
    const answer = (await get(`/api/v1/query?query=${encodeURIComponent(promql)}`)) as { status: string; error?: string; data: { resultType: string; result: PromResult[] } };
    if (answer.status !== 'success') throw new Error(`query ${promql} failed: ${answer.error ?? answer.status}`);
    if (answer.data.resultType !== 'vector') throw new Error(`query ${promql} gave a ${answer.data.resultType}, not a vector`);
    return answer.data.result;
  };

  try {
    await until(async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}) before it was ready:\n${log}`);
      const res = await request(`${url}/-/ready`, { dispatcher: agent, signal: AbortSignal.timeout(1000) }).catch(() => undefined);
      await res?.body.dump();
      return res?.statusCode === 200;
    }, `Prometheus ready at ${url}`, 20_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, dir, get, query, log: () => log, stop };
}

/** `{ name → value }` of a query's series, keyed by one label. */
export function byLabel(results: PromResult[], label: string): Record<string, number> {
  return Object.fromEntries(results.map((r) => [r.metric[label] ?? '', Number(r.value[1])]));
}
