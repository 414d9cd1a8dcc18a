// The composition root: parses options, loads cicadafiles, wires a run, and maps errors to exit codes.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CicadafileError, CicadaError, ExitCode, UsageError } from '../core/errors.ts';
import { setListenerErrorHandler } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import { configureSecrets, registerUrlPassword } from '../core/secrets.ts';
import { startDemoTarget } from '../demo/target-server.ts';
import { HttpUser } from '../protocols/http/http-user.ts';
import { loadCicadafiles } from './load-cicadafile.ts';
import { createLogger, redactWrites, toLogLevel } from './logger.ts';
import { parseOptions, unavailableFlags, webUiFlags, type CicadaOptions, type OptionSources } from './options.ts';
import { checkHosts, selectClasses } from './prepare.ts';
import { buildScenarios, configScenarios, warnAboutFileLimit } from './scenarios.ts';
import { buildThresholds } from './thresholds.ts';
import { driveHeadless, runLocal } from './run-headless.ts';
import type { Drive } from './run-setup.ts';
import { driveWeb } from './run-web.ts';
import { hashPasswordCommand } from './hash-password.ts';
import { runMaster, runProcesses, runWorker, runWorkerProcesses } from './distributed.ts';
import { newSecret, takeLaunchSecrets, type LaunchSecrets } from './cluster-auth.ts';
import { formatTaskRatios, taskRatios } from './task-ratios.ts';
import { cicadaVersion } from './version.ts';

const DEMO_FILE = fileURLToPath(new URL('../../examples/cicadafile.ts', import.meta.url));

function printError(error: CicadaError): void {
  process.stderr.write(`cicada: ${error.message}\n`);
  if (error.hint) process.stderr.write(`  hint: ${error.hint}\n`);
}

/** The file `name` in the --secrets-dir folder, for secret('NAME'); undefined when there is none. */
function readSecretsFile(dir: string, name: string): string | undefined {
  const file = path.join(dir, name);
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new CicadafileError(`secret('${name}'): cannot read ${file} (${code ?? String(error)})`, 'check the file\'s permissions in the --secrets-dir folder');
  }
}

/** Where secret('NAME') reads (the environment, then --secrets-dir), and the -H password masked; before any cicadafile runs. */
function setUpSecrets(options: CicadaOptions, logger: Logger): void {
  const dir = options.secretsDir;
  if (dir !== undefined && statSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) {
    throw new UsageError(`--secrets-dir ${dir}: no such folder`, 'give the folder the secrets are mounted in (one file per secret, named after it)');
  }
  configureSecrets({ env: process.env, dir, readFile: readSecretsFile, warn: (m) => logger.warning(m) });
  if (options.host !== undefined && registerUrlPassword(options.host) === 'short') {
    logger.warning('the password in -H/--host is shorter than 4 characters: it is masked in URLs, but not where it shows on its own');
  }
}

async function run(options: CicadaOptions, sources: OptionSources, logger: Logger, launch: LaunchSecrets): Promise<number> {
  const loaded = await loadCicadafiles(options.cicadafiles, process.cwd());
  const selection = selectClasses(loaded, options, logger);
  if (options.list) {
    process.stdout.write(`${[...selection.classes.keys()].join('\n')}\n`);
    return ExitCode.ok;
  }
  if (options.showTaskRatio) {
    process.stdout.write(`${formatTaskRatios(taskRatios(selection.classes, selection.plan, options.equalWeights))}\n`);
    return ExitCode.ok;
  }
  if (options.worker) {
    // The master writes the reports, judges the thresholds and exports (one series per run): a worker's copies would double them.
    const masterOnly = unavailableFlags(options, sources, ['csv', 'html', 'jsonFile', 'junit', 'summaryJson', 'threshold', 'metricsPort', 'prometheusRemoteWrite', 'otel', 'graphite']);
    if (masterOnly.length > 0) logger.warning(`${masterOnly.join(', ')} ${masterOnly.length > 1 ? 'have' : 'has'} no effect on a worker: the master writes the reports, judges thresholds and exports the metrics`);
    return options.processes !== undefined ? runWorkerProcesses(options, logger, launch) : runWorker(options, loaded, selection, logger, launch);
  }
  if (options.headless) {
    const ignored = unavailableFlags(options, sources, webUiFlags);
    if (ignored.length > 0) logger.warning(`${ignored.join(', ')} ${ignored.length > 1 ? 'have' : 'has'} no effect with --headless (there is no web UI)`);
  }
  if (!options.master && options.processes === undefined) {
    const clusterOnly = unavailableFlags(options, sources, ['masterBindHost', 'masterBindPort', 'expectWorkers', 'expectWorkersMaxWait', 'masterHost', 'masterPort', 'heartbeatLiveness']);
    if (clusterOnly.length > 0) logger.warning(`${clusterOnly.join(', ')} ${clusterOnly.length > 1 ? 'have' : 'has'} no effect without --master or --processes`);
  }
  if (loaded.shapeClass && Object.keys(loaded.scenarios).length === 0 && options.arrivalRate === undefined && options.iterations === undefined && (sources.users === 'cli' || sources.spawnRate === 'cli')) {
    logger.warning(`-u/-r are ignored: the LoadShape ${loaded.shapeClass.name} sets the user count and spawn rate`);
  }
  // A master's workers may bring their own -H, and the web UI's start form can give one; everyone else needs a host now.
  if (!options.master && options.processes === undefined && (options.headless || options.autostart)) {
    checkHosts(selection.classes, options.host, (cls) => cls.prototype instanceof HttpUser);
  }
  const drive: Drive = options.headless ? driveHeadless : (r, s) => driveWeb(r, s, launch);
  const scenarios = buildScenarios({ options, sources, loaded, selection, toml: await configScenarios(options, process.cwd()) }, logger);
  const shortcut = options.arrivalRate !== undefined || options.iterations !== undefined;
  if (scenarios !== undefined && !options.master && options.processes === undefined) warnAboutFileLimit(scenarios, logger);
  const thresholds = await buildThresholds({ options, sources, loaded, env: process.env, cwd: process.cwd(), rules: { scenarios: (scenarios ?? []).map((s) => s.name) } });
  const headless = {
    options, loaded, selection, logger, out: options.json ? process.stderr : process.stdout, scenarios,
    scenarioRunTime: shortcut ? undefined : options.runTime, thresholds,
  };
  if (options.processes !== undefined) return runProcesses(headless, launch, drive);
  if (options.master) return runMaster(headless, launch, drive);
  return runLocal(headless, drive);
}

async function demo(options: CicadaOptions, sources: OptionSources, logger: Logger, launch: LaunchSecrets): Promise<number> {
  const target = await startDemoTarget();
  logger.info(`demo target listening on ${target.url} (127.0.0.1 only)`);
  const set = (key: keyof CicadaOptions): boolean => sources[key] !== 'default';
  const demoOptions: CicadaOptions = {
    ...options,
    cicadafiles: set('cicadafiles') ? options.cicadafiles : [DEMO_FILE],
    host: set('host') ? options.host : target.url,
    users: set('users') ? options.users : 20,
    spawnRate: set('spawnRate') ? options.spawnRate : 5,
    runTime: set('runTime') ? options.runTime : 30,
    html: options.html ?? 'cicada-demo-report.html',
    headless: true,
  };
  try {
    const code = await run(demoOptions, sources, logger, launch);
    // With --json, stdout carries only the JSON document.
    (options.json ? process.stderr : process.stdout).write(`\nDemo finished. Open the report: ${path.resolve(demoOptions.html!)}\n`);
    // The demo target has a small error rate on purpose: failures there are expected.
    return code === demoOptions.exitCodeOnError ? ExitCode.ok : code;
  } finally {
    await target.close();
  }
}

/** Runs the `cicada` command with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  // First of all, before any cicadafile (or what it imports) can read them: Cicada's secrets leave the
  // environment, and everything this process prints is masked from here on (a cicadafile's console.log too).
  const launch = takeLaunchSecrets(process.env);
  redactWrites(process.stdout);
  redactWrites(process.stderr);
  let logger: Logger = createLogger({ level: 'info' });
  if (argv[0] === 'secret' && argv.length === 1) {
    process.stdout.write(`${newSecret()}\n`);
    return ExitCode.ok;
  }
  if (argv[0] === 'hash-password' && !argv.includes('--help') && !argv.includes('-h')) {
    try {
      return await hashPasswordCommand(argv.slice(1), process.stdin, process.stdout);
    } catch (error) {
      if (!(error instanceof CicadaError)) throw error;
      printError(error);
      return error.exitCode;
    }
  }
  try {
    const parsed = await parseOptions(argv, process.env, process.cwd());
    switch (parsed.command) {
      case 'help':
        process.stdout.write(parsed.text.endsWith('\n') ? parsed.text : `${parsed.text}\n`);
        return ExitCode.ok;
      case 'version':
        process.stdout.write(`cicada ${cicadaVersion}\n`);
        return ExitCode.ok;
      case 'run':
      case 'demo': {
        const { options, sources } = parsed;
        logger = createLogger({ level: toLogLevel(options.loglevel), file: options.logfile });
        const log = logger;
        setListenerErrorHandler((error, event) => log.error(`a listener of '${event}' threw: ${error instanceof Error ? error.message : String(error)}`));
        setUpSecrets(options, logger);
        return parsed.command === 'demo' ? await demo(options, sources, logger, launch) : await run(options, sources, logger, launch);
      }
    }
  } catch (error) {
    if (error instanceof CicadaError) {
      printError(error);
      return error.exitCode;
    }
    process.stderr.write(`cicada: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.stderr.write('  this is a bug in Cicada; please report it with the command you ran\n');
    return ExitCode.internal;
  }
}
