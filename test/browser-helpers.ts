// Debian's chromium driven by playwright-core, with the flags this sandbox needs (no network beyond loopback).
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { repoRoot } from './helpers.ts';
import { hashPassword } from '../src/web/password.ts';

export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Why browser tests cannot run here, or undefined when they can. In CI a missing browser is a failure, not a skip. */
export function browserMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: .ci/run installs it (apt-get install -y chromium)`);
  return `${CHROMIUM} is not installed (apt-get install -y chromium); browser tests skipped`;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 30_000 });
}

/** A page whose console errors and uncaught exceptions are collected (the UI should have none). */
export async function newPage(context: BrowserContext): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    // The page asks GET /session first: its 401 (not logged in yet) is expected, Chrome logs it anyway.
    if (message.type() === 'error' && !/status of 401/.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.setDefaultTimeout(15_000);
  return { page, problems };
}

/** Where screenshots go (git-ignored); printed so a person can look at them. */
export async function screenshotPath(name: string): Promise<string> {
  const dir = path.join(repoRoot, 'out', 'screenshots');
  await mkdir(dir, { recursive: true });
  return path.join(dir, name);
}

export const WEB_USERS = { admin: ['ada', 'admin password 1'], operator: ['otto', 'operator password 2'], viewer: ['vic', 'viewer password 3'] } as const;

/** A users file with one user per role, in a temp folder. */
export async function writeUsersFile(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cicada-web-users-'));
  const parts: string[] = [];
  for (const [role, [name, password]] of Object.entries(WEB_USERS)) {
    parts.push(`[[users]]\nname = "${name}"\nrole = "${role}"\npassword_hash = "${await hashPassword(password)}"\n`);
  }
  const file = path.join(dir, 'users.toml');
  await writeFile(file, parts.join('\n'));
  return file;
}

/** An "attacker" page on another site (127.0.0.2) that auto-submits a form to `action`. */
export async function startAttackerSite(action: string, fields: Record<string, string>): Promise<{ url: string; close(): Promise<void> }> {
  const inputs = Object.entries(fields).map(([k, v]) => `<input name="${k}" value="${v}">`).join('');
  const html = `<!doctype html><form id="f" method="POST" action="${action}">${inputs}</form><script>document.getElementById('f').submit()</script>`;
  const server = http.createServer((_req, res) => res.end(html));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.2:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
