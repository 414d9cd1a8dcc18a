// End-to-end throughput: nginx on CPU 0, each load generator on CPU 1; wrk, Cicada, Locust, autocannon.
// Run by hand as root (needs nginx, wrk; python3-locust optional):  node --import tsx bench/http-throughput.ts
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const USERS = 50;
const PORT = 18080;
const URL_ = `http://127.0.0.1:${PORT}`;

/** True when the shell command succeeds. */
function succeeds(command: string): boolean {
  try {
    execFileSync('sh', ['-c', command], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const has = (cmd: string): boolean => succeeds(`command -v ${cmd}`);

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ stdout, stderr, code }));
  });
}

function startNginx(): () => void {
  const dir = mkdtempSync(path.join(tmpdir(), 'cicada-bench-nginx-'));
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(conf, `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  keepalive_requests 100000000;
  server { listen 127.0.0.1:${PORT}; location / { return 200 'ok'; } }
}
`);
  const child = spawn('taskset', ['-c', '0', 'nginx', '-c', conf, '-p', dir], { stdio: 'ignore' });
  return () => child.kill('SIGTERM');
}

type Tool = { name: string; available: boolean; measure: () => Promise<number> };

const cicada: Tool = {
  name: 'cicada',
  available: true,
  measure: async () => {
    const r = await run('taskset', ['-c', '1', process.execPath, 'bin/cicada.mjs', '-f', 'bench/fixtures/no-wait.ts', '-H', URL_, '-u', String(USERS), '-r', '1000', '-t', `${SECONDS}s`, '--headless', '--only-summary', '--json']);
    const entries = JSON.parse(r.stdout) as { num_requests: number }[];
    return entries.reduce((s, e) => s + e.num_requests, 0) / SECONDS;
  },
};

const wrk: Tool = {
  name: 'wrk',
  available: has('wrk'),
  measure: async () => {
    const r = await run('taskset', ['-c', '1', 'wrk', '-t1', `-c${USERS}`, `-d${SECONDS}s`, URL_]);
    return Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
  },
};

const locust: Tool = {
  name: 'locust (FastHttpUser)',
  available: existsSync('/usr/bin/python3') && succeeds('/usr/bin/python3 -c "import locust"'),
  measure: async () => {
    const r = await run('taskset', ['-c', '1', '/usr/bin/python3', '-m', 'locust', '-f', 'bench/fixtures/locustfile.py', '--headless', '-u', String(USERS), '-r', '1000', '-t', `${SECONDS}s`, '-H', URL_, '--only-summary']);
    // The first Aggregated row is the stats table's (# reqs); the percentile table's comes later.
    const line = (r.stdout + r.stderr).split('\n').find((l) => /^\s*Aggregated\s+\d/.test(l));
    return Number(/Aggregated\s+(\d+)/.exec(line ?? '')?.[1] ?? NaN) / SECONDS;
  },
};

const autocannonBin = path.join(root, 'node_modules', '.bin', 'autocannon');
const autocannon: Tool = {
  name: 'autocannon',
  available: existsSync(autocannonBin) || has('autocannon'),
  measure: async () => {
    const bin = existsSync(autocannonBin) ? autocannonBin : 'autocannon';
    const r = await run('taskset', ['-c', '1', bin, '-c', String(USERS), '-d', String(SECONDS), '-j', URL_]);
    return (JSON.parse(r.stdout) as { requests: { average: number } }).requests.average;
  },
};

async function idleMemory(): Promise<string> {
  const r = await run(process.execPath, ['--expose-gc', 'bin/cicada.mjs', '-f', 'bench/fixtures/idle.ts', '-H', URL_, '-u', '10000', '-r', '5000', '-t', '12s', '--headless', '--only-summary']);
  return /IDLE_USERS=\d+ IDLE_RSS_MB=[\d.]+/.exec(r.stderr)?.[0] ?? `not measured (exit ${r.code}): ${r.stderr.slice(-500)}`;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (!has('nginx') || !has('taskset')) throw new Error('needs nginx and taskset: apt-get install -y nginx wrk python3-locust');
  const stop = startNginx();
  await new Promise((r) => setTimeout(r, 500));
  try {
    const tools = [wrk, cicada, locust, autocannon];
    for (const t of tools) if (!t.available) console.log(`${t.name}: not installed, skipped`);
    const results = new Map<string, number[]>();
    for (let i = 0; i < RUNS; i++) {
      // Interleaved, so drift of the shared host hits every tool alike.
      for (const t of tools.filter((x) => x.available)) {
        const rps = await t.measure();
        results.set(t.name, [...(results.get(t.name) ?? []), rps]);
        console.log(`run ${i + 1}/${RUNS} ${t.name}: ${rps.toFixed(0)} req/s`);
      }
    }
    const wrkRps = median(results.get('wrk') ?? [NaN]);
    console.log(`\n${USERS} connections/users, ${SECONDS} s, median of ${RUNS} runs; nginx on CPU 0, generator on CPU 1`);
    for (const [name, xs] of results) console.log(`${name.padEnd(24)} ${median(xs).toFixed(0).padStart(8)} req/s   ${(median(xs) / wrkRps).toFixed(3)} × wrk`);
    console.log(`\nCicada ≥ 0.30 × wrk target: ${median(results.get('cicada')!) / wrkRps >= 0.3 ? 'met' : 'NOT met'}`);
    console.log(`10,000 idle users: ${await idleMemory()}`);
  } finally {
    stop();
  }
}

await main();
