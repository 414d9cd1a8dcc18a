// Distributed throughput on one 2-core box: nginx on CPU 0; Cicada --processes 2 vs Locust master + 2 workers, both unpinned.
// Run by hand (needs nginx, taskset, python3-locust):  node --import tsx bench/processes-throughput.ts   (BENCH_SECONDS, BENCH_RUNS)
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { has, median, root, run, sleep, startNginx, succeeds } from './bench-util.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const USERS = 50;
const PORT = 18081;
const URL_ = `http://127.0.0.1:${PORT}`;
const CICADA_MASTER_PORT = 15557;
const LOCUST_MASTER_PORT = 15558;
// Debian's python3-locust 2.12.1 has an empty version, which breaks master/worker; the launcher sets it.
const LOCUST = ['/usr/bin/python3', 'bench/fixtures/locust-launcher.py', '-f', 'bench/fixtures/locustfile.py'];

type Tool = { name: string; measure: () => Promise<number> };

/** Requests per second from Cicada's --json output (one row per entry, no Aggregated row). */
function cicadaRps(stdout: string, stderr: string): number {
  try {
    const entries = JSON.parse(stdout) as { num_requests: number }[];
    return entries.reduce((s, e) => s + e.num_requests, 0) / SECONDS;
  } catch {
    console.log(`cicada gave no JSON: ${stderr.slice(-500)}`);
    return NaN;
  }
}

const cicadaArgs = ['bin/cicada.mjs', '-f', 'bench/fixtures/no-wait.ts', '-H', URL_, '-u', String(USERS), '-r', '1000', '-t', `${SECONDS}s`, '--headless', '--only-summary', '--json'];

const cicadaProcesses: Tool = {
  name: 'cicada --processes 2',
  measure: async () => {
    const r = await run(process.execPath, [...cicadaArgs, '--processes', '2', '--master-bind-port', String(CICADA_MASTER_PORT)]);
    return cicadaRps(r.stdout, r.stderr);
  },
};

const cicadaSingle: Tool = {
  name: 'cicada (1 process)',
  measure: async () => {
    const r = await run(process.execPath, cicadaArgs);
    return cicadaRps(r.stdout, r.stderr);
  },
};

/** Waits for a child to exit; kills it (by its pid) when it has not after `ms`. */
function reap(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

// Locust 2.12.1 has no --processes (later versions added it): the same thing by hand, a master and 2 worker processes.
const locust: Tool = {
  name: 'locust master + 2 workers',
  measure: async () => {
    const workers = [0, 1].map(() => spawn(LOCUST[0]!, [...LOCUST.slice(1), '--worker', '--master-host', '127.0.0.1', '--master-port', String(LOCUST_MASTER_PORT)], { cwd: root, stdio: 'ignore' }));
    try {
      const r = await run(LOCUST[0]!, [...LOCUST.slice(1), '--master', '--master-bind-host', '127.0.0.1', '--master-bind-port', String(LOCUST_MASTER_PORT), '--expect-workers', '2',
        '--headless', '-u', String(USERS), '-r', '1000', '-t', `${SECONDS}s`, '-H', URL_, '--only-summary']);
      // The first Aggregated row is the stats table's (# reqs); the percentile table's comes later.
      const out = r.stdout + r.stderr;
      const line = out.split('\n').find((l) => /^\s*Aggregated\s+\d/.test(l));
      const rps = Number(/Aggregated\s+(\d+)/.exec(line ?? '')?.[1] ?? NaN) / SECONDS;
      if (Number.isNaN(rps)) console.log(`locust gave no Aggregated row (exit ${r.code}): ${out.slice(-500)}`);
      return rps;
    } finally {
      await Promise.all(workers.map((w) => reap(w, 5000)));
    }
  },
};

async function main(): Promise<void> {
  if (!has('nginx') || !has('taskset')) throw new Error('needs nginx and taskset: apt-get install -y nginx python3-locust');
  if (!existsSync('/usr/bin/python3') || !succeeds('/usr/bin/python3 -c "import locust"')) throw new Error('needs python3-locust (apt-get install -y python3-locust)');
  const stop = startNginx(PORT);
  await sleep(500);
  try {
    const tools = [cicadaProcesses, locust, cicadaSingle];
    const results = new Map<string, number[]>();
    for (let i = 0; i < RUNS; i++) {
      // Interleaved, so drift of the shared host hits every tool alike.
      for (const t of tools) {
        const rps = await t.measure();
        results.set(t.name, [...(results.get(t.name) ?? []), rps]);
        console.log(`run ${i + 1}/${RUNS} ${t.name}: ${rps.toFixed(0)} req/s`);
      }
    }
    const locustRps = median(results.get(locust.name)!);
    console.log(`\n${USERS} users, ${SECONDS} s, median of ${RUNS} runs; nginx on CPU 0, generators unpinned on the 2 cores`);
    for (const [name, xs] of results) console.log(`${name.padEnd(28)} ${median(xs).toFixed(0).padStart(8)} req/s   ${(median(xs) / locustRps).toFixed(2)} × locust`);
    console.log(`\nCicada --processes 2 / Locust (2 workers): ${(median(results.get(cicadaProcesses.name)!) / locustRps).toFixed(2)}`);
  } finally {
    stop();
  }
}

await main();
