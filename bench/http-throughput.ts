// End-to-end throughput: nginx on CPU 0, each load generator on CPU 1; wrk, Cicada, Locust, autocannon.
// Run by hand as root (needs nginx, wrk; python3-locust optional):  node --import tsx bench/http-throughput.ts
import { existsSync } from 'node:fs';
import path from 'node:path';
import { has, median, root, run, startNginx, succeeds } from './bench-util.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const USERS = 50;
const PORT = 18080;
const URL_ = `http://127.0.0.1:${PORT}`;

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

async function main(): Promise<void> {
  if (!has('nginx') || !has('taskset')) throw new Error('needs nginx and taskset: apt-get install -y nginx wrk python3-locust');
  const stop = startNginx(PORT);
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
