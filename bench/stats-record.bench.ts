// Micro benchmark of the stats hot path: ns per RequestStats.log call (run: node --import tsx bench/stats-record.bench.ts).
import { RequestStats } from '../src/stats/request-stats.ts';

const ROUNDS = 5;
const CALLS = 2_000_000;

/** Response times spread over 1 ms … 2 s (log-uniform), precomputed so the loop measures only log(). */
const times = new Float64Array(4096);
let seed = 12345;
for (let i = 0; i < times.length; i++) {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  times[i] = Math.pow(2000, seed / 2147483648);
}

function run(label: string, names: readonly string[], withTime: boolean): void {
  const stats = new RequestStats();
  const mask = times.length - 1;
  const n = names.length;
  const t0 = Date.now();
  // With a time, as attach() passes the request's end time; without, log() reads the clock itself.
  const loop = withTime
    ? (calls: number): void => {
      for (let i = 0; i < calls; i++) stats.log('GET', names[i % n]!, times[i & mask]!, 512, t0 + i / 1000);
    }
    : (calls: number): void => {
      for (let i = 0; i < calls; i++) stats.log('GET', names[i % n]!, times[i & mask]!, 512);
    };
  loop(CALLS); // warm-up: JIT and histogram pages
  const results: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    loop(CALLS);
    results.push(Number(process.hrtime.bigint() - start) / CALLS);
  }
  results.sort((a, b) => a - b);
  const median = results[Math.floor(results.length / 2)]!;
  console.log(`${label.padEnd(28)} ${median.toFixed(1).padStart(6)} ns/call  (best ${results[0]!.toFixed(1)}, ${ROUNDS} × ${CALLS.toLocaleString('en')} calls)`);
}

const fifty = Array.from({ length: 50 }, (_, i) => `/endpoint/${i}`);
const sixHundred = Array.from({ length: 600 }, (_, i) => `/endpoint/${i}`);
run('1 name, end time given', ['/items/[id]'], true);
run('1 name, clock read', ['/items/[id]'], false);
run('50 names, end time given', fifty, true);
run('600 names (cap 500), given', sixHundred, true);
