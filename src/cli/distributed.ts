// Distributed runs: the master (headless), a worker, and --processes (a master plus local worker processes).
import { attachLiveErrors } from './live-errors.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism, hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ExitCode, UsageError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { events } from '../index.ts';
import { MasterRunner } from '../runners/master-runner.ts';
import { masterMessage, parse, PROTOCOL_VERSION, workerMessage, type MasterMessage } from '../runners/messages.ts';
import { WorkerRunner } from '../runners/worker-runner.ts';
import { ClusterStats } from '../stats/cluster-stats.ts';
import { AllowList, connectWithRetry, TransportAuthError, TransportServer, type PeerConnection } from '../transport/index.ts';
import { checkMasterBind, loadClusterAuth, newSecret, type LaunchSecrets } from './cluster-auth.ts';
import type { LoadedCicadafiles } from './load-cicadafile.ts';
import type { CicadaOptions } from './options.ts';
import { driveHeadless } from './run-headless.ts';
import { createEnvironment, createRequestStats, startLoad, type Drive, type HeadlessRun } from './run-setup.ts';
import type { Selection } from './prepare.ts';
import { cicadaVersion } from './version.ts';

const BIN = fileURLToPath(new URL('../../bin/cicada.mjs', import.meta.url));

/** What a worker tells the master in the handshake, so mismatches are refused with a clear reason. */
function helloMeta(loaded: LoadedCicadafiles): Record<string, unknown> {
  return { version: cicadaVersion, cicadafileHash: loaded.contentHash };
}

/** Runs the master (headless, or driven by the web UI) until it is done; returns the exit code. */
export async function runMaster(run: HeadlessRun, launch: LaunchSecrets, drive: Drive = driveHeadless): Promise<number> {
  const { options, loaded, selection, logger } = run;
  const allow = AllowList.parse(options.masterAllow); // a bad --master-allow entry: exit 2 with a hint, before anything starts
  const auth = await loadClusterAuth(options, launch);
  checkMasterBind(options, auth, (m) => logger.warning(m));
  const environment = createEnvironment(options, logger);
  const stats = new ClusterStats();
  const runner = new MasterRunner({
    environment,
    classes: [...selection.classes].map(([name, cls]) => ({ name, weight: cls.weight, fixedCount: cls.fixedCount })),
    stats,
    stopTimeout: options.stopTimeout,
    drainTimeout: options.drainTimeout,
    equalWeights: options.equalWeights,
    shape: loaded.shapeClass ? new loaded.shapeClass() : undefined,
    // Past the stop timeout and the drain, workers need their last report interval (and a margin) to confirm.
    timing: { heartbeatIntervalMs: options.heartbeatInterval * 1000, heartbeatLiveness: options.heartbeatLiveness, stopWaitMs: options.heartbeatInterval * 1000 + 3000 },
  });
  const expected = helloMeta(loaded);
  // Until the headless driver installs its own handlers, Ctrl+C must still stop cleanly (not kill the process).
  const early = (): void => void runner.stop();
  process.on('SIGINT', early);
  process.on('SIGTERM', early);
  const server = new TransportServer({
    host: options.masterBindHost,
    port: options.masterBindPort,
    ...(auth.secret ? { secret: auth.secret } : {}),
    ...(auth.tls?.cert && auth.tls.key ? { tls: { cert: auth.tls.cert, key: auth.tls.key, ...(auth.tls.ca ? { ca: auth.tls.ca } : {}) } } : {}),
    ...(allow ? { allow } : {}),
    protocolVersion: PROTOCOL_VERSION,
    logger,
    onHandshake: (hello) => {
      if (hello.meta.version !== expected.version) {
        return { accept: false, reason: `the worker runs Cicada ${String(hello.meta.version)} but the master runs ${cicadaVersion}: install the same version on both` };
      }
      if (hello.meta.cicadafileHash !== expected.cicadafileHash) {
        return { accept: false, reason: 'the worker\'s cicadafile differs from the master\'s: give both the same files (same content, same -f order)' };
      }
      return { accept: true };
    },
    onConnection: (conn, hello) => {
      const id = hello.workerId;
      const link = { send: (m: MasterMessage) => conn.send(m) };
      runner.workerConnected(id, link);
      conn.onMessage((raw) => {
        const parsed = parse(workerMessage, raw);
        if (parsed.ok) runner.handle(id, parsed.message);
        else logger.warning(`ignored an invalid message from worker ${id}: ${parsed.reason}`);
      });
      conn.onClose((reason) => {
        logger.info(`worker ${id} disconnected (${reason})`);
        runner.workerDisconnected(id, link);
      });
    },
  });
  let address: { host: string; port: number };
  try {
    address = await server.listen();
  } catch (error) {
    process.off('SIGINT', early);
    process.off('SIGTERM', early);
    runner.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `the master cannot listen on ${options.masterBindHost}:${options.masterBindPort}: ${code === 'EADDRINUSE' ? 'the port is already in use' : code === 'EADDRNOTAVAIL' ? 'no such address on this machine' : String(error)}`,
      'choose another port with --master-bind-port (and give the workers the same --master-port), or stop what uses it',
    );
  }
  logger.info(`master listening on ${address.host}:${address.port}${auth.secret ? ' (shared-secret handshake, sealed link)' : ''}${auth.tls?.ca ? ' (mutual TLS)' : auth.tls ? ' (TLS)' : ''}${allow ? ` (only from ${allow.entries.join(', ')})` : ''}`);
  try {
    return await drive(run, {
      runner,
      environment,
      workers: () => runner.workerInfo(),
      begin: async () => {
        logger.info(`waiting for ${options.expectWorkers} workers`);
        const ok = await runner.waitForWorkers(options.expectWorkers, options.expectWorkersMaxWait * 1000);
        if (runner.state === 'stopped') return;
        if (!ok && runner.readyWorkers === 0) {
          // Nothing could generate load: a run would "pass" with no requests at all.
          throw new UsageError(
            `no worker connected within ${options.expectWorkersMaxWait} s (--expect-workers-max-wait; ${options.expectWorkers} expected)`,
            'check that the workers run, reach this master (host, port, network policy) and use the same secret, Cicada version and cicadafile: their logs say why',
          );
        }
        if (!ok) {
          logger.warning(`only ${runner.readyWorkers} of ${options.expectWorkers} workers connected within ${options.expectWorkersMaxWait} s; starting anyway`);
        }
        startLoad(run, runner, loaded.shapeClass !== undefined, ` over ${runner.readyWorkers} workers`);
      },
      beforeReport: async () => {
        await runner.quit();
      },
    });
  } finally {
    process.off('SIGINT', early);
    process.off('SIGTERM', early);
    runner.close();
    await server.close();
  }
}

/** Runs a worker until the master says quit (or the worker is stopped); returns the exit code. */
export async function runWorker(options: CicadaOptions, loaded: LoadedCicadafiles, selection: Selection, logger: Logger, launch: LaunchSecrets): Promise<number> {
  const auth = await loadClusterAuth(options, launch);
  const environment = createEnvironment(options, logger);
  const stats = createRequestStats(options, logger);
  const detach = stats.attach(events);
  const detachErrors = attachLiveErrors(events, logger);
  const workerId = `${hostname()}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const runner = new WorkerRunner({
    environment,
    userClasses: selection.classes,
    plan: selection.plan,
    stats,
    timing: {
      reportIntervalMs: options.heartbeatInterval * 1000,
      heartbeatIntervalMs: options.heartbeatInterval * 1000,
      masterTimeoutMs: options.masterTimeout * 1000,
    },
  });
  events.init.fire({ environment });
  const stop = new AbortController();
  const onSignal = (): void => {
    if (stop.signal.aborted) {
      logger.info('cutting the requests still in flight');
      runner.cutInFlight();
      return;
    }
    logger.info('stopping this worker');
    stop.abort();
    void runner.shutdown();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let refused: Error | undefined;
  const connectLoop = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      let conn: PeerConnection;
      try {
        conn = await connectWithRetry(
          {
            host: options.masterHost,
            port: options.masterPort,
            workerId,
            meta: helloMeta(loaded),
            ...(auth.secret ? { secret: auth.secret } : {}),
            ...(auth.tls ? { tls: auth.tls } : {}),
            protocolVersion: PROTOCOL_VERSION,
          },
          { signal: stop.signal, onRetry: (attempt, error) => logger.info(`master ${options.masterHost}:${options.masterPort} not reachable (${error instanceof Error ? error.message : String(error)}); retry ${attempt}`) },
        );
      } catch (error) {
        if (stop.signal.aborted) return;
        refused = error as Error;
        stop.abort();
        void runner.shutdown();
        return;
      }
      logger.info(`connected to the master at ${options.masterHost}:${options.masterPort} as ${workerId}`);
      runner.attach({ send: (m) => conn.send(m) });
      conn.onMessage((raw) => {
        const parsed = parse(masterMessage, raw);
        if (parsed.ok) runner.handle(parsed.message);
        else logger.warning(`ignored an invalid message from the master: ${parsed.reason}`);
      });
      await new Promise<void>((resolve) => {
        conn.onClose((reason) => {
          runner.detach();
          if (!stop.signal.aborted) logger.warning(`lost the master (${reason}); reconnecting`);
          resolve();
        });
        void runner.whenFinished().then(() => {
          stop.abort();
          conn.close('worker done');
          resolve();
        });
      });
    }
  };
  await Promise.race([connectLoop(), runner.whenFinished()]);
  stop.abort();
  await runner.whenFinished();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  detachErrors();
  detach();
  if (refused) {
    // The transport's message already says which side refused and why; a secret mismatch has one fix.
    const hint = /protocol version mismatch/.test(refused.message)
      ? 'run the same Cicada version on the master and every worker (`cicada --version`); retrying cannot help'
      : refused instanceof TransportAuthError
        ? 'give the master and every worker the same secret (CICADA_SECRET or --secret-file); retrying cannot help'
        : 'fix the cause above; retrying cannot help';
    throw new UsageError(refused.message, hint);
  }
  return ExitCode.ok;
}

/**
 * What a worker process gets in its environment: the user's (a cicadafile may read it, and secret('NAME')
 * does; OTEL_* too, for an OpenTelemetry SDK of its own), without Cicada's own CICADA_* settings, which its
 * command line carries from the master's resolved options (an inherited CICADA_SECRET_FILE would even beat
 * the fresh secret). The cluster secret and the host (it may hold a password) go here rather than in argv,
 * which `ps` shows to every user of the machine.
 */
function workerEnv(clusterSecret: string | undefined, host: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('CICADA_') && key !== 'CICADA_CONFIG') continue;
    env[key] = value;
  }
  if (clusterSecret !== undefined) env.CICADA_SECRET = clusterSecret;
  if (host !== undefined) env.CICADA_HOST = host;
  return env;
}

/** `--processes N`: a master in this process plus N worker processes over loopback with a fresh secret. */
export async function runProcesses(run: HeadlessRun, launch: LaunchSecrets, drive: Drive = driveHeadless): Promise<number> {
  const { options, logger } = run;
  const count = options.processes === -1 ? availableParallelism() : options.processes ?? 1;
  AllowList.parse(options.masterAllow); // a bad entry is refused before any worker process starts
  const secret = newSecret();
  // Port 0 is not possible here (workers need to know it before they start), so use the configured port on loopback.
  // With an allow list (say from cicada.toml), its own local workers must still get in.
  const masterAllow = options.masterAllow.length > 0 ? [...options.masterAllow, '127.0.0.1'] : [];
  const masterOptions: CicadaOptions = { ...options, master: true, masterBindHost: '127.0.0.1', masterAllow, expectWorkers: count, secretFile: undefined };
  const workerArgs = workerArgv(options);
  const children: ChildProcess[] = [];
  const childEnv = workerEnv(secret, options.host);
  let finishing = false;
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, [BIN, ...workerArgs], { env: childEnv, stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('exit', (code, signal) => {
      if (finishing || code === 0) return;
      // A worker that cannot run would leave the master waiting for it forever: stop the run instead.
      logger.error(`worker process ${child.pid ?? '?'} exited early (${signal ?? `code ${code}`}); stopping the run`);
      process.kill(process.pid, 'SIGTERM');
    });
    children.push(child);
  }
  logger.info(`started ${count} worker processes`);
  try {
    return await runMaster({ ...run, options: masterOptions }, { ...launch, clusterSecret: secret }, drive);
  } finally {
    finishing = true;
    await Promise.all(children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
      c.once('exit', () => { clearTimeout(timer); resolve(); });
    })));
  }
}

/** `--worker --processes N`: N worker processes on this machine for a remote master; the exit code is the worst child's. */
export async function runWorkerProcesses(options: CicadaOptions, logger: Logger, launch: LaunchSecrets): Promise<number> {
  const count = options.processes === -1 ? availableParallelism() : options.processes ?? 1;
  const args = [...workerArgv(options), '--master-host', options.masterHost, '--master-port', String(options.masterPort)];
  if (options.secretFile !== undefined) args.push('--secret-file', options.secretFile);
  if (options.clusterTlsCert !== undefined) args.push('--cluster-tls-cert', options.clusterTlsCert);
  if (options.clusterTlsKey !== undefined) args.push('--cluster-tls-key', options.clusterTlsKey);
  if (options.clusterTlsCa !== undefined) args.push('--cluster-tls-ca', options.clusterTlsCa);
  // CICADA_SECRET was taken out of this process's environment at start: the children get it back explicitly.
  const env = workerEnv(launch.clusterSecret, options.host);
  const children = Array.from({ length: count }, () => spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'inherit', 'inherit'] }));
  logger.info(`started ${count} worker processes for the master at ${options.masterHost}:${options.masterPort}`);
  const forward = (signal: NodeJS.Signals): void => {
    for (const c of children) c.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const codes = await Promise.all(children.map((c) => new Promise<number>((resolve) => c.once('exit', (code) => resolve(code ?? ExitCode.internal)))));
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  return Math.max(...codes);
}

/** The worker command line for --processes: the cicadafile options, minus master/reporting flags (and minus -H: see workerEnv). */
function workerArgv(options: CicadaOptions): string[] {
  const out = ['--worker', '--master-host', '127.0.0.1', '--master-port', String(options.masterBindPort), '--loglevel', options.loglevel,
    '--heartbeat-interval', String(options.heartbeatInterval), '--master-timeout', String(options.masterTimeout), '--request-timeout', String(options.requestTimeout)];
  for (const f of options.cicadafiles) out.push('-f', f);
  for (const t of options.tags) out.push('-T', t);
  for (const t of options.excludeTags) out.push('-E', t);
  if (options.secretsDir !== undefined) out.push('--secrets-dir', options.secretsDir);
  if (options.equalWeights) out.push('--equal-weights');
  // Class names first: a variadic flag such as -T would swallow them if they came after it.
  return [...options.userClasses, ...out];
}
