// The run's scenarios: from `export const scenarios`, `[scenarios.NAME]` in cicada.toml, or the shortcuts --arrival-rate and -i.
import { readFileSync } from 'node:fs';
import { didYouMean } from '../core/did-you-mean.ts';
import { UsageError } from '../core/errors.ts';
import type { ScenarioCommon } from '../core/executor.ts';
import type { Logger } from '../core/logger.ts';
import { DEFAULT_SCENARIO, executorOf, parseScenario } from '../runners/executors/index.ts';
import { readConfigFile } from './config-file.ts';
import type { LoadedCicadafiles } from './load-cicadafile.ts';
import type { CicadaOptions, OptionSources } from './options.ts';
import type { Selection } from './prepare.ts';
import type { ScenarioMeta } from '../exporters/report-data.ts';

/**
 * A table of the config file that is not an option (`[scenarios.NAME]`, `[thresholds]`), if the file has it;
 * `example` is shown when the key is not a table.
 */
export async function configTable(options: CicadaOptions, cwd: string, key: string, example: string): Promise<{ tables: Record<string, unknown>; display: string } | undefined> {
  if (options.config === undefined) return undefined;
  const config = await readConfigFile(options.config, cwd);
  const tables = config.values[key];
  if (tables === undefined) return undefined;
  if (typeof tables !== 'object' || tables === null || Array.isArray(tables)) {
    throw new UsageError(`${config.display}: '${key}' must be a table`, `e.g.\n${example}`);
  }
  return { tables: tables as Record<string, unknown>, display: config.display };
}

/** The `[scenarios.NAME]` tables of the config file that was read, if any. */
export function configScenarios(options: CicadaOptions, cwd: string): Promise<{ tables: Record<string, unknown>; display: string } | undefined> {
  return configTable(options, cwd, 'scenarios', "  [scenarios.browse]\n  executor = 'constant-arrival-rate'\n  rate = 50\n  duration = '1m'");
}

/**
 * The scenarios to run, checked, or undefined for Locust's model (`-u/-r/-t`, or a LoadShape), which
 * the runners start as before. The shortcuts `--arrival-rate` and `-i` make one scenario and replace
 * defined ones; `--scenario` picks among the defined ones.
 */
export function buildScenarios(
  input: { options: CicadaOptions; sources: OptionSources; loaded: LoadedCicadafiles; selection: Selection; toml?: { tables: Record<string, unknown>; display: string } | undefined },
  logger: Logger,
): ScenarioCommon[] | undefined {
  const { options, loaded, selection, toml } = input;
  const defaults = { stopTimeoutMs: options.stopTimeout * 1000 };
  const shortcut = shortcutScenario(options, defaults);
  const defined = new Map<string, { raw: unknown; source: string }>();
  for (const [name, raw] of Object.entries(loaded.scenarios)) defined.set(name, { raw, source: 'the cicadafile' });
  for (const [name, raw] of Object.entries(toml?.tables ?? {})) {
    if (defined.has(name)) {
      throw new UsageError(`scenario '${name}' is defined twice: in the cicadafile and in ${toml!.display}`, 'give each scenario its own name (or define it in one place)');
    }
    defined.set(name, { raw, source: toml!.display });
  }
  for (const flag of ['maxUsers', 'preAllocatedUsers'] as const) {
    if (options[flag] !== undefined && options.arrivalRate === undefined) {
      throw new UsageError(`--${flag === 'maxUsers' ? 'max-users' : 'pre-allocated-users'} needs --arrival-rate`, 'add --arrival-rate N (and -t), or set maxUsers/preAllocatedUsers in a scenario');
    }
  }
  if (shortcut !== undefined) {
    if (defined.size > 0) logger.warning(`${options.arrivalRate !== undefined ? '--arrival-rate' : '-i/--iterations'} replaces the ${defined.size} defined scenarios (${[...defined.keys()].join(', ')})`);
    if (options.scenario.length > 0) throw new UsageError('--scenario picks defined scenarios; it cannot be combined with --arrival-rate or -i', 'drop one of them');
    return [narrow(shortcut, selection, loaded)];
  }
  if (defined.size === 0) {
    if (options.scenario.length > 0) throw new UsageError(`--scenario ${options.scenario.join(', ')}: no scenario is defined`, 'define scenarios with `export const scenarios = { … }` in the cicadafile or [scenarios.NAME] in cicada.toml');
    return undefined;
  }
  const names = options.scenario.length > 0 ? options.scenario : [...defined.keys()];
  for (const name of names) {
    if (!defined.has(name)) {
      const guess = didYouMean(name, [...defined.keys()]);
      throw new UsageError(`--scenario ${name}: no such scenario`, `${guess !== undefined ? `did you mean ${guess}? ` : ''}defined: ${[...defined.keys()].join(', ')}`);
    }
  }
  if (input.sources.users === 'cli' || input.sources.spawnRate === 'cli') logger.warning('-u/-r are ignored: the scenarios set the load (use --scenario to pick some)');
  return names.map((name) => {
    const { raw, source } = defined.get(name)!;
    const config = parseScenario(name, raw, source, defaults);
    if (config.executor === 'shape' && loaded.shapeClass === undefined) throw new UsageError(`scenario '${name}' (${source}): the shape executor needs a LoadShape class in the cicadafile`, 'export a class that extends LoadShape');
    return narrow(config, selection, loaded);
  });
}

/** `--arrival-rate` (with -t) or `-i`: one scenario named like Locust's default. */
function shortcutScenario(options: CicadaOptions, defaults: { stopTimeoutMs: number }): ScenarioCommon | undefined {
  if (options.arrivalRate !== undefined && options.iterations !== undefined) {
    throw new UsageError('--arrival-rate and -i/--iterations cannot be combined', 'an arrival rate runs for -t; an iteration count runs until its iterations are done');
  }
  if (options.arrivalRate !== undefined) {
    if (options.runTime === undefined) throw new UsageError('--arrival-rate needs -t/--run-time: how long to keep the rate', 'e.g. --arrival-rate 100 -t 1m');
    return parseScenario(DEFAULT_SCENARIO, {
      executor: 'constant-arrival-rate', rate: options.arrivalRate, duration: options.runTime,
      ...(options.maxUsers !== undefined ? { maxUsers: options.maxUsers } : {}),
      ...(options.preAllocatedUsers !== undefined ? { preAllocatedUsers: options.preAllocatedUsers } : {}),
    }, '--arrival-rate', defaults);
  }
  if (options.iterations !== undefined) {
    return parseScenario(DEFAULT_SCENARIO, {
      executor: 'shared-iterations', iterations: options.iterations, users: options.users ?? 1,
      ...(options.runTime !== undefined ? { maxDuration: options.runTime } : {}),
    }, '-i/--iterations', defaults);
  }
  return undefined;
}

/** Checks a scenario's classes against the cicadafile and narrows them to what -T/-E and the class list left. */
function narrow(config: ScenarioCommon, selection: Selection, loaded: LoadedCicadafiles): ScenarioCommon {
  const available = [...loaded.userClasses.keys()];
  for (const name of config.userClasses ?? []) {
    if (!loaded.userClasses.has(name)) {
      const guess = didYouMean(name, available);
      throw new UsageError(`scenario '${config.name}': no user class '${name}' in the cicadafile`, `${guess !== undefined ? `did you mean ${guess}? ` : ''}classes: ${available.join(', ')}`);
    }
  }
  const wanted = config.userClasses ?? [...selection.classes.keys()];
  const left = wanted.filter((name) => selection.classes.has(name));
  if (left.length === 0) {
    throw new UsageError(
      `scenario '${config.name}' has no user class left to run (${wanted.join(', ')} ${wanted.length === 1 ? 'is' : 'are'} left out by -T/-E or the class list)`,
      'check -T/--tags, -E/--exclude-tags and the user classes named on the command line, or the scenario\'s userClasses',
    );
  }
  return config.userClasses === undefined && left.length === selection.classes.size ? config : { ...config, userClasses: left };
}

/** This process's soft limit of open files (`ulimit -n`), where Linux says it; undefined elsewhere. */
export function openFileLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | undefined {
  try {
    const line = read().split('\n').find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s+/)[3]);
    return Number.isFinite(soft) && soft > 0 ? soft : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Warns before the run when the users the scenarios may grow to (each HttpUser has its own connection)
 * come near the open-file limit: past it, requests fail with EMFILE in the middle of the run.
 */
export function warnAboutFileLimit(scenarios: readonly ScenarioCommon[], logger: Logger, limit = openFileLimit()): void {
  if (limit === undefined) return;
  let users = 0;
  for (const s of scenarios) {
    const c = s as { maxUsers?: number; users?: number; stages?: { target: number }[] };
    users += c.maxUsers ?? Math.max(c.users ?? 0, ...(s.executor === 'ramping-users' ? (c.stages ?? []).map((st) => st.target) : [0]));
  }
  if (users <= limit * 0.9) return;
  logger.warning(
    `the scenarios may grow to ${users} users, each with its own connection, but this process may open only ${limit} files (ulimit -n): ` +
      'requests would fail with EMFILE. Raise the limit (ulimit -n 65536), lower maxUsers (--max-users), or spread the load with --processes',
  );
}

/** What the reports say about the scenarios. */
export function scenarioMeta(scenarios: readonly ScenarioCommon[]): ScenarioMeta[] {
  return scenarios.map((s) => ({
    name: s.name, executor: s.executor, description: executorOf(s).describe(s as never), ...(Object.keys(s.tags).length > 0 ? { tags: { ...s.tags } } : {}),
  }));
}
