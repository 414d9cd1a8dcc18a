// The statistics table's filter: free text on the name, and a threshold's tags (name, method, scenario) for "show its rows".
import type { StatsEntry, Threshold } from './types';

export interface StatsFilter {
  /** Part of the name, any case; '' for none. */
  text: string;
  /** The threshold whose rows are shown, or null. */
  threshold: Pick<Threshold, 'metric' | 'expression' | 'tags'> | null;
}

export const NO_FILTER: StatsFilter = { text: '', threshold: null };

export function isFiltering(f: StatsFilter): boolean {
  return f.text.trim() !== '' || f.threshold !== null;
}

/** `/login [browse]` → { base: '/login', scenario: 'browse' }: how rows are named when several scenarios run. */
export function splitScenario(name: string): { base: string; scenario: string | null } {
  const m = /^(.*) \[([^\]]*)\]$/s.exec(name);
  return m ? { base: m[1] ?? '', scenario: m[2] ?? '' } : { base: name, scenario: null };
}

export interface FilterResult {
  rows: StatsEntry[];
  /**
   * The threshold names a scenario but the rows are not split by scenario (one scenario ran, so the rows
   * carry no `[scenario]`): its scenario tag could not narrow them.
   */
  scenarioIgnored: boolean;
}

/**
 * The rows `filter` keeps. A threshold's `name` matches a row of that name, or with several scenarios
 * running, `name [any scenario]`; `scenario` matches rows named `… [scenario]`; `method` the row's method.
 * Other tags (`check`) do not describe request rows and are left out. The rows count as split by scenario
 * when one of them ends in ` [S]` for the threshold's scenario or a scenario in `scenarios` (the run's).
 */
export function applyFilter(rows: readonly StatsEntry[], filter: StatsFilter, scenarios: readonly string[]): FilterResult {
  const text = filter.text.trim().toLowerCase();
  const tags = filter.threshold?.tags ?? {};
  const { name, method, scenario } = tags;
  const known = new Set(scenarios);
  if (scenario !== undefined) known.add(scenario);
  const split =
    scenario !== undefined &&
    rows.some((r) => {
      const s = splitScenario(r.name).scenario;
      return s !== null && known.has(s);
    });
  const kept = rows.filter((r) => {
    if (text !== '' && !r.name.toLowerCase().includes(text)) return false;
    if (method !== undefined && (r.method ?? '').toUpperCase() !== method.toUpperCase()) return false;
    const parts = splitScenario(r.name);
    if (split && parts.scenario !== scenario) return false;
    if (name !== undefined && r.name !== name && parts.base !== name) return false;
    return true;
  });
  return { rows: kept, scenarioIgnored: scenario !== undefined && !split };
}
