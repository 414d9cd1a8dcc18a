// A real master fed by 500 simulated workers (each: a heartbeat and a 20-entry cumulative stats report per second).
// Measures registration time, the master's CPU (% of one core) and event-loop delay p99, and checks its totals.
// Run by hand:  node --import tsx bench/master-500-workers.ts   (BENCH_WORKERS, BENCH_SIM_PROCESSES, BENCH_SAMPLE_SECONDS)
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { loadCicadafiles } from '../src/cli/load-cicadafile.ts';
import { cpuSeconds, median, root, sleep } from './bench-util.ts';

const WORKERS = Number(process.env.BENCH_WORKERS ?? 500);
const SIM_PROCESSES = Number(process.env.BENCH_SIM_PROCESSES ?? 2);
const SAMPLE_SECONDS = Number(process.env.BENCH_SAMPLE_SECONDS ?? 30);
const WARMUP_SECONDS = 5;
/** How long the workers have to register before the master starts with those it has. */
const REGISTER_SECONDS = 60;
const PORT = 15559;
const CICADAFILE = 'bench/fixtures/no-wait.ts';
const PROBE = path.join(root, 'bench/fixtures/loop-delay-probe.mjs');
const SIMULATOR = 'bench/fixtures/simulated-workers.ts';

/** A child whose output lines are kept with the time they arrived. */
interface Watched {
  child: ChildProcess;
  lines: { at: number; text: string }[];
  stdout: string;
  /** Resolves with the first line matching `re`. */
  waitFor(re: RegExp): Promise<string>;
  exited: Promise<void>;
}

/** Extra Node flags for the master only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to find its hot spots. */
const MASTER_NODE_FLAGS = (process.env.BENCH_MASTER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const DEBUG_LOG = process.env.BENCH_DEBUG_LOG; // a file that gets every line of every child, for post-mortems

function watch(child: ChildProcess, keepStdout: boolean, name: string): Watched {
  const lines: { at: number; text: string }[] = [];
  const waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  const w: Watched = {
    child,
    lines,
    stdout: '',
    waitFor: (re) => {
      const seen = lines.find((l) => re.test(l.text));
      return seen ? Promise.resolve(seen.text) : new Promise((resolve) => waiters.push({ re, resolve }));
    },
    exited: new Promise((resolve) => child.once('exit', () => resolve())),
  };
  const onLine = (text: string): void => {
    lines.push({ at: performance.now(), text });
    if (DEBUG_LOG !== undefined) appendFileSync(DEBUG_LOG, `${(performance.now() / 1000).toFixed(3)} ${name}: ${text}\n`);
    for (const waiter of waiters.filter((x) => x.re.test(text))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(text);
    }
  };
  createInterface({ input: child.stderr! }).on('line', onLine);
  if (keepStdout) child.stdout!.on('data', (d: Buffer) => (w.stdout += d.toString()));
  else createInterface({ input: child.stdout! }).on('line', onLine);
  return w;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  // An unref'd timer: a pending timeout must not keep the benchmark alive once it is done.
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: nothing after ${ms / 1000} s`)), ms).unref());
  return Promise.race([promise, timeout]);
}

const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

async function main(): Promise<void> {
  process.chdir(root); // the cicadafile hash covers esbuild's output, whose source map paths are relative to the cwd
  const secret = randomBytes(32).toString('base64url');
  const { contentHash } = await loadCicadafiles([CICADAFILE], root);
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };

  const children: ChildProcess[] = [];
  const watched: { name: string; w: Watched }[] = [];
  try {
    const master = watch(spawn(process.execPath, [...MASTER_NODE_FLAGS, 'bin/cicada.mjs', '-f', CICADAFILE, '-H', 'http://127.0.0.1:9', '--master', '--master-bind-host', '127.0.0.1',
      '--master-bind-port', String(PORT), '--expect-workers', String(WORKERS), '--expect-workers-max-wait', `${REGISTER_SECONDS}s`, '--headless', '-u', '0', '-r', '1', '-t', '60s', '--only-summary', '--json'], {
      cwd: root,
      env: { ...process.env, CICADA_SECRET: secret, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${PROBE}`.trim() },
      stdio: ['ignore', 'pipe', 'pipe'],
    }), true, 'master');
    children.push(master.child);
    watched.push({ name: 'master', w: master });

    const perProcess = Math.ceil(WORKERS / SIM_PROCESSES);
    const sims = Array.from({ length: SIM_PROCESSES }, (_, i) => {
      const count = Math.min(perProcess, WORKERS - i * perProcess);
      const child = spawn(process.execPath, ['--import', 'tsx', SIMULATOR], {
        cwd: root,
        env: { ...process.env, CICADA_SECRET: secret, BENCH_MASTER_PORT: String(PORT), BENCH_CICADAFILE_HASH: contentHash, BENCH_VERSION: version,
          BENCH_COUNT: String(count), BENCH_FIRST: String(i * perProcess) },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      children.push(child);
      const w = watch(child, false, `sim${i + 1}`);
      watched.push({ name: `simulator ${i + 1}`, w });
      return w;
    });
    const ready = await withTimeout(Promise.all(sims.map((s) => s.waitFor(/^READY/))), 120_000, 'simulated workers');
    await withTimeout(master.waitFor(/master listening/), 30_000, 'master');
    const buckets = ready.map((l) => Number(l.split(' ')[1]));

    // Registration: every simulated worker connects at once, as a fleet started together would (with the real retry loop).
    // A master that cannot keep up never sees them all: then it starts anyway after REGISTER_SECONDS and we measure that.
    const t0 = performance.now();
    for (const s of sims) s.child.stdin!.write('go\n');
    const connected = await Promise.race([Promise.all(sims.map((s) => s.waitFor(/^CONNECTED/))), sleep(REGISTER_SECONDS * 1000).then(() => undefined)]);
    const registrationMs = performance.now() - t0;
    const retries = connected?.reduce((n, l) => n + Number(l.split(' ')[2]), 0);
    await withTimeout(master.waitFor(/starting 0 users/), 30_000, 'master start');
    const masterStarted = master.lines.find((l) => /starting 0 users/.test(l.text))!;
    const joined = Number(/over (\d+) workers/.exec(masterStarted.text)?.[1]);

    await sleep(WARMUP_SECONDS * 1000);
    const pids = [master.child.pid!, ...sims.map((s) => s.child.pid!)];
    const cpu0 = pids.map(cpuSeconds);
    const w0 = performance.now();
    await sleep(SAMPLE_SECONDS * 1000);
    const cpu1 = pids.map(cpuSeconds);
    const w1 = performance.now();
    const percent = cpu1.map((c, i) => ((c - cpu0[i]!) / ((w1 - w0) / 1000)) * 100);
    const masterRss = rssMb(master.child.pid!);
    // The probe prints every 5 s for the 5 s before: keep the lines whose interval lies inside the window.
    const p99s = master.lines
      .filter((l) => l.at >= w0 + 5000 && l.at <= w1 + 100)
      .map((l) => /LOOP_DELAY_P99_MS=([\d.]+) LOOP_DELAY_MAX_MS=([\d.]+)/.exec(l.text))
      .filter((m) => m !== null)
      .map((m) => ({ p99: Number(m[1]), max: Number(m[2]) }));

    master.child.kill('SIGINT');
    await withTimeout(master.exited, 90_000, 'master exit');
    await sleep(1000);
    for (const s of sims) s.child.stdin!.write('end\n'); // workers still retrying to connect give up
    const done = await withTimeout(Promise.all(sims.map((s) => s.waitFor(/^DONE/))), 30_000, 'simulated workers exit');
    const sent = done.map((l) => JSON.parse(l.slice(5)) as { connections: number; finalReports: number; requests: number; failures: number });
    const entries = JSON.parse(master.stdout) as { num_requests: number; num_failures: number }[];
    const got = { requests: entries.reduce((s, e) => s + e.num_requests, 0), failures: entries.reduce((s, e) => s + e.num_failures, 0) };
    const want = { requests: sent.reduce((s, x) => s + x.requests, 0), failures: sent.reduce((s, x) => s + x.failures, 0) };
    const warnings = master.lines.filter((l) => /WARNING|ERROR/.test(l.text)).map((l) => l.text);

    const worstP99 = p99s.length > 0 ? Math.max(...p99s.map((x) => x.p99)) : NaN;
    console.log(`${WORKERS} simulated workers in ${SIM_PROCESSES} processes; each second per worker: a heartbeat + a stats report of 20 entries`);
    console.log(`(≈${median(buckets)} non-empty histogram buckets per entry at the start), ${SAMPLE_SECONDS} s sample after ${WARMUP_SECONDS} s warm-up`);
    const masterSaw = `master started the run with ${joined} workers after ${((masterStarted.at - t0) / 1000).toFixed(2)} s`;
    if (connected) console.log(`registration of all ${WORKERS}: ${(registrationMs / 1000).toFixed(2)} s (workers' view, ${retries} retried connects); ${masterSaw}`);
    else console.log(`registration NOT complete after ${REGISTER_SECONDS} s: ${masterSaw}`);
    const missing = master.lines.filter((l) => /is missing/.test(l.text)).length;
    const rejected = master.lines.filter((l) => /rejected|handshakes already pending/.test(l.text)).length;
    if (missing + rejected > 0) console.log(`master log: ${missing} "worker is missing" and ${rejected} rejected/shed-connection lines`);
    console.log(`master CPU: ${percent[0]!.toFixed(1)} % of one core   (target < 50 %: ${percent[0]! < 50 ? 'met' : 'NOT met'}); RSS ${masterRss.toFixed(0)} MB`);
    console.log(`master event-loop delay p99: worst 5 s window ${worstP99.toFixed(1)} ms, median ${(p99s.length > 0 ? median(p99s.map((x) => x.p99)) : NaN).toFixed(1)} ms, max ${Math.max(...p99s.map((x) => x.max)).toFixed(1)} ms ` +
      `over ${p99s.length} windows   (target < 50 ms: ${worstP99 < 50 ? 'met' : 'NOT met'})`);
    console.log(`simulated workers' CPU: ${percent.slice(1).map((p) => `${p.toFixed(1)} %`).join(', ')} of one core${percent.slice(1).some((p) => p > 90) ? '   — a simulator saturates a core: it competes with the master' : ''}`);
    console.log(`totals: master ${got.requests} requests / ${got.failures} failures; simulated workers sent ${want.requests} / ${want.failures} ` +
      `(${sent.reduce((s, x) => s + x.finalReports, 0)}/${WORKERS} final reports, ${sent.reduce((s, x) => s + x.connections, 0)} reported at all): ${got.requests === want.requests && got.failures === want.failures ? 'equal' : 'DIFFERENT'}`);
    if (warnings.length > 0) console.log(`master warnings (${warnings.length}):\n  ${warnings.slice(0, 5).join('\n  ')}`);
  } catch (error) {
    // What each process said last is usually the reason.
    for (const { name, w } of watched) console.error(`--- ${name}, last lines:\n${w.lines.slice(-15).map((l) => l.text).join('\n')}`);
    throw error;
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

await main();
