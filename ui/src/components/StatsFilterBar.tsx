// Above the statistics table: a name filter, the threshold whose rows are shown, and "Clear filter".
import { isFiltering, type StatsFilter } from '../stats-filter';

interface Props {
  filter: StatsFilter;
  onFilter(filter: StatsFilter): void;
  /** Rows shown and rows in all (without the Aggregated row). */
  shown: number;
  total: number;
  /** The threshold names a scenario the rows are not split by (one scenario ran). */
  scenarioIgnored: boolean;
}

export function StatsFilterBar({ filter, onFilter, shown, total, scenarioIgnored }: Props) {
  const active = isFiltering(filter);
  const t = filter.threshold;
  return (
    <div class="filter-bar" id="stats-filter" data-testid="stats-filter">
      <label class="filter-field">
        <span>Filter by name</span>
        <input
          type="search"
          value={filter.text}
          data-testid="stats-filter-text"
          onInput={(e) => onFilter({ ...filter, text: e.currentTarget.value })}
        />
      </label>
      {t && (
        <p class="filter-threshold" data-testid="stats-filter-threshold">
          Rows of the threshold <code>{t.metric}</code> <code>{t.expression}</code>
          {scenarioIgnored && (
            <span class="muted"> (the rows are not split by scenario, so its scenario tag does not narrow them)</span>
          )}
        </p>
      )}
      {active && (
        <p class="filter-count muted" role="status" data-testid="stats-filter-count">
          {shown} of {total} rows
        </p>
      )}
      {active && (
        <button type="button" class="btn secondary small" data-testid="stats-filter-clear" onClick={() => onFilter({ text: '', threshold: null })}>
          Clear filter
        </button>
      )}
    </div>
  );
}
