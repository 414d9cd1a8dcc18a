// A run driven from the web UI: auth set-up, the server, --autostart/--autoquit, and reports when the process quits.
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { ReportData } from '../exporters/report-data.ts';
import { historyHeader, historyRows } from '../exporters/csv.ts';
import { handleStopSignals } from './signals.ts';
import { HttpUser } from '../protocols/http/http-user.ts';
import { events } from '../index.ts';
import type { WorkerInfo } from '../runners/master-runner.ts';
import { OidcClient } from '../web/oidc.ts';
import type { Role } from '../web/roles.ts';
import { createWebServer, type WebServer } from '../web/server.ts';
import { loadUsersFile, type WebUser } from '../web/users-file.ts';
import type { WebRun, WorkerView } from '../web/web-run.ts';
import { isLoopback, type LaunchSecrets } from './cluster-auth.ts';
import { registerSecret } from '../core/secrets.ts';
import type { CicadaOptions } from './options.ts';
import { connectedWorkers, endRun, guardStrayErrors, progressOf, reportContext, reportMaker, runOutputs, type HeadlessRun, type HeadlessSetup } from './run-setup.ts';
import { readTokenFile } from './metrics-listener.ts';
import { RunLifecycle } from './run-lifecycle.ts';
import type { Output } from '../exporters/output.ts';
import { cicadaVersion } from './version.ts';
import type { RunnerControl } from '../core/contracts.ts';
import type { ScenarioCommon } from '../core/executor.ts';
import type { StatsSnapshot } from '../stats/types.ts';
import { scenarioMeta } from './scenarios.ts';

export const UI_DIR = fileURLToPath(new URL('../../dist/ui', import.meta.url));

interface WebAuth {
  users?: ReadonlyMap<string, WebUser>;
  oidc?: OidcClient;
  tls?: { cert: Buffer; key: Buffer };
}

async function readSecretFile(file: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new UsageError(`${flag} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'give the path of a readable file');
  }
}

/** The OIDC callback URL the browser will be sent back to. */
function redirectUrl(options: CicadaOptions): string {
  if (options.webOidcRedirectUrl !== undefined) return options.webOidcRedirectUrl;
  if (['0.0.0.0', '::', '*', ''].includes(options.webHost)) {
    throw new UsageError(`--web-oidc-issuer with --web-host ${options.webHost} needs --web-oidc-redirect-url`, 'give the URL browsers use to reach Cicada, e.g. --web-oidc-redirect-url https://cicada.example.com/auth/oidc/callback');
  }
  const host = options.webHost.includes(':') ? `[${options.webHost}]` : options.webHost;
  return `http${options.tlsCert ? 's' : ''}://${host}:${options.webPort}/auth/oidc/callback`;
}

/**
 * Reads the users file, discovers the OIDC provider and loads the TLS files; refuses an unauthenticated public bind.
 * The OIDC client secret comes from its file, else from CICADA_WEB_OIDC_CLIENT_SECRET as main took it out of the environment.
 */
export async function loadWebAuth(options: CicadaOptions, launch: LaunchSecrets, logger: Logger): Promise<WebAuth> {
  const auth: WebAuth = {};
  if (options.webUsers !== undefined) auth.users = await loadUsersFile(options.webUsers);
  if (options.webOidcIssuer !== undefined) {
    const secret = options.webOidcClientSecretFile !== undefined
      ? (await readSecretFile(options.webOidcClientSecretFile, '--web-oidc-client-secret-file')).toString('utf8').trim()
      : launch.oidcClientSecret;
    if (secret) registerSecret(secret);
    if (!secret) {
      throw new UsageError('--web-oidc-issuer needs the client secret', 'set CICADA_WEB_OIDC_CLIENT_SECRET or give --web-oidc-client-secret-file (never on the command line)');
    }
    const roleMap: Record<string, Role> = {};
    for (const pair of options.webOidcRoles) {
      const at = pair.lastIndexOf('=');
      roleMap[pair.slice(0, at)] = pair.slice(at + 1) as Role;
    }
    auth.oidc = await OidcClient.discover({
      issuer: options.webOidcIssuer,
      clientId: options.webOidcClientId ?? '',
      clientSecret: secret,
      redirectUri: redirectUrl(options),
      roleClaim: options.webOidcRoleClaim,
      roleMap,
    });
  }
  if (options.tlsCert !== undefined && options.tlsKey !== undefined) {
    auth.tls = { cert: await readSecretFile(options.tlsCert, '--tls-cert'), key: await readSecretFile(options.tlsKey, '--tls-key') };
    try {
      createSecureContext(auth.tls);
    } catch (error) {
      const reason = (error as Error).message.replace(/^error:[0-9A-F]+:/, '');
      throw new UsageError(
        `--tls-cert ${options.tlsCert} / --tls-key ${options.tlsKey} cannot serve HTTPS: ${reason}`,
        /mismatch/i.test(reason) ? 'the key is not the certificate\'s key: give the matching pair' : 'give a PEM certificate with --tls-cert and its PEM private key with --tls-key (not swapped)',
      );
    }
  }
  if (!auth.users && !auth.oidc && !isLoopback(options.webHost)) {
    if (!options.insecure) {
      throw new UsageError(
        `refusing to serve the web UI on ${options.webHost} without authentication: anyone who can reach it could start load from this machine`,
        'add --web-users FILE (see `cicada hash-password`) or --web-oidc-issuer, and preferably --tls-cert/--tls-key; --insecure overrides this',
      );
    }
    logger.warning(`the web UI listens on ${options.webHost} WITHOUT authentication (--insecure): anyone who can reach it can start load from this machine`);
  } else if (!auth.tls && !isLoopback(options.webHost)) {
    logger.warning(`the web UI listens on ${options.webHost} without TLS: passwords and session cookies cross the network in clear text; add --tls-cert and --tls-key`);
  }
  return auth;
}

/** Turns the master's cumulative CPU milliseconds per worker into percent of one core since the last look. */
function workerViews(source: () => WorkerInfo[]): () => WorkerView[] {
  const last = new Map<string, { cpu: number; at: number; percent: number }>();
  return () => {
    const now = Date.now();
    return source().map((w) => {
      const prev = last.get(w.id);
      let percent = prev?.percent ?? 0;
      if (prev && now - prev.at >= 1000) percent = Math.max(0, Math.min(100 * 64, ((w.cpu - prev.cpu) / (now - prev.at)) * 100));
      if (!prev || now - prev.at >= 1000) last.set(w.id, { cpu: w.cpu, at: now, percent });
      return { id: w.id, state: w.missing ? 'missing' : w.state, userCount: w.userCount, cpu: Math.round(percent * 10) / 10, memory: w.memory, missing: w.missing };
    });
  };
}

/** The history CSV rows of the current run, one set per second while it runs; a new run (or a reset) starts over. */
function historyKeeper(run: HeadlessRun): { rows: string[]; record(data: ReportData, now: number): void } {
  // Six hours of one-per-second rows (Aggregated only) is a few MB; older rows are dropped.
  const MAX_ROWS = 6 * 3600;
  const rows: string[] = [];
  let startTime = -1;
  return {
    rows,
    record(data, now) {
      if (data.snapshot.startTime !== startTime) {
        startTime = data.snapshot.startTime;
        rows.length = 0;
      }
      rows.push(historyRows(data, run.options.csvFullHistory, Math.floor(now / 1000)));
      if (rows.length > MAX_ROWS) rows.splice(0, rows.length - MAX_ROWS);
    },
  };
}

/** Starts the declared scenarios the web UI names (all when it names none). */
function scenarioStarter(scenarios: readonly ScenarioCommon[], runner: RunnerControl<StatsSnapshot>): (names: readonly string[], runTime?: number) => void {
  return (names, runTime) => {
    for (const name of names) {
      if (!scenarios.some((s) => s.name === name)) throw new UsageError(`no scenario named '${name}'`, `declared: ${scenarios.map((s) => s.name).join(', ')}`);
    }
    runner.startScenarios(names.length === 0 ? scenarios : scenarios.filter((s) => names.includes(s.name)), runTime);
  };
}

/** Serves the web UI until the process is told to quit (Ctrl+C, SIGTERM, or --autoquit); returns the exit code. */
export async function driveWeb(run: HeadlessRun, setup: HeadlessSetup, launch: LaunchSecrets): Promise<number> {
  const { options, logger, out } = run;
  const { runner, environment } = setup;
  const auth = await loadWebAuth(options, launch, logger);
  const context = reportContext(run);
  const report = reportMaker(run, setup, context);
  const history = historyKeeper(run);
  const active = (): boolean => runner.state === 'spawning' || runner.state === 'running';
  // The in-memory history the web UI downloads, one row set a second while a run goes.
  const historyOutput = { name: 'web history', intervalMs: 1000, tick: ({ data, now }) => history.record(data, now) } satisfies Output;
  const lifecycle = new RunLifecycle({
    outputs: [historyOutput, ...runOutputs(run, { options, logger, out, live: options.printStats }, { stopRun: () => void runner.stop(), report, workers: connectedWorkers(setup) })],
    report,
    progress: progressOf(run, runner, context.startTime),
    active,
    logger,
  });
  await lifecycle.start();
  const webRun: WebRun = {
    runner,
    report,
    facts: {
      userClasses: [...run.selection.classes.keys()],
      shapeClass: run.loaded.shapeClass?.name ?? null,
      host: context.host,
      users: options.users ?? null,
      spawnRate: options.spawnRate ?? null,
      runTime: options.runTime ?? null,
      distributed: setup.workers !== undefined,
      version: cicadaVersion,
      hostRequired: options.host === undefined && [...run.selection.classes.values()].some((c) => c.prototype instanceof HttpUser && !c.host),
      scenarios: run.scenarios !== undefined ? scenarioMeta(run.scenarios) : [],
    },
    ...(setup.workers ? { workers: workerViews(setup.workers) } : {}),
    historyCsv: () => `${historyHeader()}${history.rows.join('')}`,
    ...(run.scenarios !== undefined ? { startScenarios: scenarioStarter(run.scenarios, runner) } : {}),
  };
  const metricsToken = options.metricsTokenFile !== undefined ? await readTokenFile(options.metricsTokenFile, '--metrics-token-file') : undefined;
  const server: WebServer = await createWebServer({
    host: options.webHost, port: options.webPort, ...(auth.tls ? { tls: auth.tls } : {}), ...auth, run: webRun, uiDir: UI_DIR, logger,
    ...(metricsToken !== undefined ? { metricsToken } : {}),
    ...(options.webTrustProxy.length > 0 ? { trustProxy: options.webTrustProxy } : {}),
  });
  let resolveQuit: (reason: string) => void = () => undefined;
  const quitting = new Promise<string>((resolve) => {
    resolveQuit = resolve;
  });
  const quit = { resolve: (reason: string) => resolveQuit(reason), promise: quitting };
  // Handlers first: a Ctrl+C right after the URL is printed must still end in reports, not a dead process.
  const unsignal = handleStopSignals(runner, logger, (signal) => quit.resolve(`${signal} received`));
  let url: string;
  try {
    url = await server.listen();
  } catch (error) {
    unsignal();
    await server.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `the web UI cannot listen on ${options.webHost}:${options.webPort}: ${code === 'EADDRINUSE' ? 'the port is already in use' : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' ? 'no such address on this machine' : String(error)}`,
      code === 'EADDRINUSE' ? 'choose another port with -P/--web-port, or stop what uses it (or run with --headless)' : 'give --web-host an address of this machine, e.g. 127.0.0.1 or 0.0.0.0',
    );
  }
  logger.info(`web UI: ${url}/${auth.users || auth.oidc ? '' : isLoopback(options.webHost) ? ' (no login needed: loopback only)' : ' (no login: --insecure)'}`);

  const timers: NodeJS.Timeout[] = [];
  const unguard = guardStrayErrors(logger);

  events.init.fire({ environment });
  if (options.autostart) {
    void setup.begin().catch((error: unknown) => quit.resolve(`could not start: ${String(error)}`));
    if (options.autoquit !== undefined) {
      const seconds = options.autoquit;
      void runner.whenStopped().then(() => {
        logger.info(`the run ended; quitting in ${seconds} s (--autoquit)`);
        timers.push(setTimeout(() => quit.resolve('--autoquit'), seconds * 1000));
      });
    }
  }
  const reason = await quit.promise;
  logger.info(`${reason}: stopping the run and writing the final reports (Ctrl+C again cuts the requests in flight)`);
  try {
    await runner.stop();
    await setup.beforeReport?.();
    for (const t of timers) clearInterval(t);
    return await endRun(run, lifecycle, environment);
  } finally {
    unsignal();
    unguard();
    await server.close();
  }
}
