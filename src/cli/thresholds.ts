// The run's thresholds: gathered from the cicadafile, cicada.toml, --threshold and CICADA_THRESHOLD, and the output that aborts on one.
import { didYouMean } from '../core/did-you-mean.ts';
import type { Logger } from '../core/logger.ts';
import type { Output } from '../exporters/output.ts';
import { formatObserved } from '../exporters/format.ts';
import type { ReportData } from '../exporters/report-data.ts';
import { evaluateThresholds, splitScenarioName, type ThresholdScope } from '../stats/thresholds/evaluate.ts';
import { parseThresholdFlag, readThresholds, type ThresholdRules, type ThresholdSpec } from '../stats/thresholds/parse.ts';
import type { StatsSnapshot, ThresholdResult } from '../stats/types.ts';
import type { LoadedCicadafiles } from './load-cicadafile.ts';
import type { CicadaOptions, OptionSources } from './options.ts';
import { configTable } from './scenarios.ts';

const TOML_EXAMPLE = "  [thresholds]\n  response_time = ['p(95)<300']\n  'response_time{name:/login}' = [{ threshold = 'p(99)<1000', abortOnFail = true }]";

/**
 * Every threshold of the run, checked before any load (a bad one is a usage error, exit 2). The sources
 * add up: the cicadafiles' `export const thresholds`, `[thresholds]` in the config file, CICADA_THRESHOLD
 * and `--threshold` (both, when both are set: the flag does not replace the variable).
 */
export async function buildThresholds(input: {
  options: CicadaOptions;
  sources: OptionSources;
  loaded: Pick<LoadedCicadafiles, 'thresholds'>;
  env: Record<string, string | undefined>;
  cwd: string;
  rules: ThresholdRules;
}): Promise<ThresholdSpec[]> {
  const { options, sources, loaded, env, rules } = input;
  const specs: ThresholdSpec[] = [];
  for (const { file, raw } of loaded.thresholds) specs.push(...readThresholds(raw, file, rules));
  const toml = await configTable(options, input.cwd, 'thresholds', TOML_EXAMPLE);
  if (toml !== undefined) specs.push(...readThresholds(toml.tables, toml.display, rules));
  const fromEnv = env.CICADA_THRESHOLD;
  if (sources.threshold === 'cli' && fromEnv !== undefined && fromEnv.trim() !== '') {
    for (const text of fromEnv.split(/[;\n]/).filter((t) => t.trim() !== '')) specs.push(parseThresholdFlag(text, 'CICADA_THRESHOLD', rules));
  }
  const flagSource = sources.threshold === 'env' ? 'CICADA_THRESHOLD' : sources.threshold === 'config' ? 'threshold in the config file' : '--threshold';
  for (const text of options.threshold) specs.push(parseThresholdFlag(text, flagSource, rules));
  return specs;
}

/** How this run's request names carry scenarios: `name [scenario]` once more than one scenario runs. */
export function thresholdScope(scenarios: readonly string[], snapshot: StatsSnapshot): ThresholdScope {
  const tagged = scenarios.length > 1 && snapshot.entries.some((e) => splitScenarioName(e.name, { scenarios, scenarioTagged: true }).scenario !== undefined);
  return { scenarios, scenarioTagged: tagged };
}

/** The report with its thresholds evaluated (every output, the web UI and the API see the same verdicts). */
export function withThresholds(data: ReportData, specs: readonly ThresholdSpec[], scenarios: readonly string[]): ReportData {
  if (specs.length === 0) return data;
  return { ...data, thresholds: evaluateThresholds(specs, data.snapshot, thresholdScope(scenarios, data.snapshot)) };
}

function describe(t: ThresholdResult): string {
  return `${t.metric} ${t.expression} (observed ${formatObserved(t.observed, t.unit)})`;
}

/**
 * Acts on the thresholds evaluated in each second's report: the first `abortOnFail` threshold found
 * failed, once its `delayAbortEval` has passed, stops the run gracefully (`stop`), with the reason
 * logged. At the end it logs the failed ones and warns about filters that matched no request.
 */
export function thresholdsOutput(specs: readonly ThresholdSpec[], settings: { logger: Logger; stop: (reason: string) => void }): Output {
  const { logger } = settings;
  let aborted: string | undefined;
  return {
    name: 'thresholds',
    intervalMs: 1000,
    tick: ({ data, progress }) => {
      if (aborted !== undefined) return;
      const crossed = (data.thresholds ?? []).find((t, i) => !t.ok && t.abortOnFail && progress.elapsedMs >= (specs[i]?.delayAbortEvalMs ?? 0));
      if (crossed === undefined) return;
      aborted = describe(crossed);
      logger.error(`threshold crossed: ${aborted}; stopping the run (abortOnFail)`);
      settings.stop(aborted);
    },
    stop: (data) => {
      const results = data.thresholds ?? [];
      warnUnmatched(results, data, logger);
      const failed = results.filter((t) => !t.ok);
      if (aborted !== undefined) logger.info(`the run was stopped early by the threshold ${aborted}`);
      if (failed.length > 0) logger.error(`${failed.length} of ${results.length} thresholds failed: ${failed.map(describe).join('; ')}`);
    },
  } satisfies Output;
}

/** A name filter no request matched is most likely a typo (names are dynamic, so it is a warning, not an error). */
function warnUnmatched(results: readonly ThresholdResult[], data: ReportData, logger: Logger): void {
  const names = [...new Set(data.snapshot.entries.map((e) => e.name))];
  const checkNames = [...new Set((data.snapshot.checks ?? []).map((c) => c.name))];
  for (const t of results) {
    const name = t.tags.name;
    if (name !== undefined && !t.metric.startsWith('checks') && !names.some((n) => n === name || n.startsWith(`${name} [`))) {
      const guess = didYouMean(name, names);
      logger.warning(`threshold ${t.metric}: no request named '${name}' was made${guess !== undefined ? ` (did you mean ${guess}?)` : ''}`);
    }
    const check = t.tags.check;
    if (check !== undefined && !checkNames.includes(check)) {
      const guess = didYouMean(check, checkNames);
      logger.warning(`threshold ${t.metric}: no check named '${check}' ran${guess !== undefined ? ` (did you mean ${guess}?)` : ''}`);
    }
  }
}
