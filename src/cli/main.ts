// The composition root: parses options, loads cicadafiles, wires a run, and maps errors to exit codes.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CicadaError, ExitCode } from '../core/errors.ts';
import { setListenerErrorHandler } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import { startDemoTarget } from '../demo/target-server.ts';
import { HttpUser } from '../protocols/http/http-user.ts';
import { loadCicadafiles } from './load-cicadafile.ts';
import { createLogger, toLogLevel } from './logger.ts';
import { parseOptions, unavailableFlags, webUiFlags, type CicadaOptions, type OptionSources } from './options.ts';
import { checkHosts, selectClasses } from './prepare.ts';
import { buildScenarios, configScenarios, warnAboutFileLimit } from './scenarios.ts';
import { buildThresholds } from './thresholds.ts';
import { driveHeadless, runLocal } from './run-headless.ts';
import { driveWeb } from './run-web.ts';
import { hashPasswordCommand } from './hash-password.ts';
import { runMaster, runProcesses, runWorker, runWorkerProcesses } from './distributed.ts';
import { newSecret } from './cluster-auth.ts';
import { formatTaskRatios, taskRatios } from './task-ratios.ts';
import { cicadaVersion } from './version.ts';

const DEMO_FILE = fileURLToPath(new URL('../../examples/cicadafile.ts', import.meta.url));

function printError(error: CicadaError): void {
  process.stderr.write(`cicada: ${error.message}\n`);
  if (error.hint) process.stderr.write(`  hint: ${error.hint}\n`);
}

async function run(options: CicadaOptions, sources: OptionSources, logger: Logger): Promise<number> {
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
    return options.processes !== undefined ? runWorkerProcesses(options, logger) : runWorker(options, loaded, selection, logger, process.env);
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
  const drive = options.headless ? driveHeadless : driveWeb;
  const scenarios = buildScenarios({ options, sources, loaded, selection, toml: await configScenarios(options, process.cwd()) }, logger);
  const shortcut = options.arrivalRate !== undefined || options.iterations !== undefined;
  if (scenarios !== undefined && !options.master && options.processes === undefined) warnAboutFileLimit(scenarios, logger);
  const thresholds = await buildThresholds({ options, sources, loaded, env: process.env, cwd: process.cwd(), rules: { scenarios: (scenarios ?? []).map((s) => s.name) } });
  const headless = {
    options, loaded, selection, logger, out: options.json ? process.stderr : process.stdout, scenarios,
    scenarioRunTime: shortcut ? undefined : options.runTime, thresholds,
  };
  if (options.processes !== undefined) return runProcesses(headless, process.env, drive);
  if (options.master) return runMaster(headless, process.env, drive);
  return runLocal(headless, drive);
}

async function demo(options: CicadaOptions, sources: OptionSources, logger: Logger): Promise<number> {
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
    const code = await run(demoOptions, sources, logger);
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
        return parsed.command === 'demo' ? await demo(options, sources, logger) : await run(options, sources, logger);
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
