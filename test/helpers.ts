// Test helpers: a counting HTTP target on 127.0.0.1 and a runner for the real `cicada` command.
import { spawn } from 'node:child_process';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '..');
export const fixture = (name: string): string => path.join(repoRoot, 'test', 'fixtures', name);

export interface CountingTarget {
  url: string;
  /** Requests received per `METHOD /path` (query stripped). */
  counts: Map<string, number>;
  total(): number;
  close(): Promise<void>;
}

/**
 * A target that counts every request it receives. Routes: `/delay/<ms>` answers after ms,
 * `/status/<code>` answers with that status, `/bytes/<n>` sends n bytes, anything else 200 "ok".
 */
export async function startCountingTarget(): Promise<CountingTarget> {
  const counts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const key = `${req.method} ${url.pathname}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    req.resume();
    const [, kind, arg] = url.pathname.split('/');
    const n = Number(arg);
    if (kind === 'delay') {
      setTimeout(() => res.end('ok'), n);
    } else if (kind === 'status') {
      res.statusCode = n;
      res.end(`status ${n}`);
    } else if (kind === 'bytes') {
      res.end(Buffer.alloc(n, 97));
    } else {
      res.end('ok');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  done: Promise<CliResult>;
  kill(signal: NodeJS.Signals): void;
  /** Resolves once stdout or stderr contains `text`. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
}

/** Starts `cicada <args>` as a child process; it is killed if still running after `timeoutMs`. */
export function startCli(args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): CliRun {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'cicada.mjs'), ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { test: (s: string) => boolean; resolve: () => void; reject: (e: Error) => void }[] = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      if (w.test(stdout + stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); check(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); check(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      for (const w of waiters.splice(0)) w.reject(new Error(`the command exited (code ${code}) before printing what was awaited:\n${stdout}\n${stderr}`));
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    done,
    kill: (signal) => child.kill(signal),
    waitFor: (text, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const test = (s: string): boolean => (typeof text === 'string' ? s.includes(text) : text.test(s));
        if (test(stdout + stderr)) return resolve();
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${String(text)}; output so far:\n${stdout}\n${stderr}`)), timeoutMs);
        waiters.push({ test, resolve: () => { clearTimeout(t); resolve(); }, reject: (e) => { clearTimeout(t); reject(e); } });
      }),
  };
}

/** Runs `cicada <args>` to completion. */
export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Parses a CSV file's text into rows of cells (handles quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(cell); cell = ''; }
    else if (ch === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; }
    else if (ch !== '\r') cell += ch;
  }
  if (cell !== '' || row.length > 0) { row.push(cell); rows.push(row); }
  return rows;
}

/** A port that was free a moment ago on 127.0.0.1 (for a master whose workers must know its port in advance). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` every 50 ms until it holds; fails after `ms` with what was awaited (no fixed sleeps). */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
