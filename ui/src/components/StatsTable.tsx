// The statistics table: one row per request name, sortable by any column, filterable by name or a threshold's tags.
import { useState } from 'preact/hooks';
import { formatCount, formatMs, formatRps } from '../format';
import { applyFilter, isFiltering, type StatsFilter } from '../stats-filter';
import type { StatsEntry } from '../types';
import { EmptyRow } from './EmptyRow';
import { HScroll } from './HScroll';
import { StatsFilterBar } from './StatsFilterBar';

export type SortField = keyof StatsEntry & string;
export interface Sort {
  field: SortField;
  dir: 'asc' | 'desc';
}

interface Column {
  field: SortField;
  label: string;
  format?: (v: number | null) => string;
  /** Hidden on narrow screens unless "All columns" is on (never Name, # Requests, # Fails). */
  optional?: boolean;
}

const COLUMNS: Column[] = [
  { field: 'method', label: 'Type' },
  { field: 'name', label: 'Name' },
  { field: 'num_requests', label: '# Requests', format: formatCount },
  { field: 'num_failures', label: '# Fails', format: formatCount },
  { field: 'median_response_time', label: 'Median (ms)', format: formatMs },
  { field: 'response_time_percentile_0.95', label: '95%ile (ms)', format: formatMs },
  { field: 'response_time_percentile_0.99', label: '99%ile (ms)', format: formatMs, optional: true },
  { field: 'avg_response_time', label: 'Average (ms)', format: formatMs, optional: true },
  { field: 'min_response_time', label: 'Min (ms)', format: formatMs, optional: true },
  { field: 'max_response_time', label: 'Max (ms)', format: formatMs, optional: true },
  { field: 'avg_content_length', label: 'Average size (bytes)', format: formatCount, optional: true },
  { field: 'current_rps', label: 'Current RPS', format: formatRps },
  { field: 'current_fail_per_sec', label: 'Current failures/s', format: formatRps, optional: true },
];

const HIDDEN_WHEN_NARROW = COLUMNS.filter((c) => c.optional).length;

function compare(a: StatsEntry, b: StatsEntry, { field, dir }: Sort): number {
  const x = a[field];
  const y = b[field];
  let c: number;
  if (typeof x === 'number' || typeof y === 'number') {
    // Missing numbers (null min before the first request) sort as smallest.
    c = (typeof x === 'number' ? x : -Infinity) - (typeof y === 'number' ? y : -Infinity);
    if (Number.isNaN(c)) c = 0;
  } else {
    c = String(x ?? '').localeCompare(String(y ?? ''), 'en', { numeric: true, sensitivity: 'base' });
  }
  return dir === 'asc' ? c : -c;
}

/** Split the server's list into request rows and the trailing Aggregated row. */
export function splitTotal(stats: readonly StatsEntry[]): { rows: StatsEntry[]; total: StatsEntry | null } {
  const last = stats[stats.length - 1];
  if (last && last.name === 'Aggregated') return { rows: stats.slice(0, -1), total: last };
  return { rows: [...stats], total: null };
}

interface Props {
  stats: readonly StatsEntry[];
  sort: Sort | null;
  onSort(sort: Sort): void;
  filter: StatsFilter;
  onFilter(filter: StatsFilter): void;
  /** The run's scenario names: how the filter tells rows named `name [scenario]`. */
  scenarios: readonly string[];
}

export function StatsTable({ stats, sort, onSort, filter, onFilter, scenarios }: Props) {
  const [allColumns, setAllColumns] = useState(false);
  const { rows, total } = splitTotal(stats);
  const filtered = applyFilter(rows, filter, scenarios);
  // Stable sort; the Aggregated row never takes part (nor in the filter: it stays the whole run's).
  const sorted = sort ? [...filtered.rows].sort((a, b) => compare(a, b, sort)) : filtered.rows;

  // A first click sorts numbers worst first (descending) and text A to Z; the next one reverses.
  const clickHeader = (c: Column) =>
    onSort({
      field: c.field,
      dir: sort?.field === c.field ? (sort.dir === 'asc' ? 'desc' : 'asc') : c.format ? 'desc' : 'asc',
    });

  const cells = (e: StatsEntry) => {
    // No requests yet (the Aggregated row before a run): nothing measured, so "–" everywhere
    // rather than a mix of 0 and "–".
    const empty = !(typeof e.num_requests === 'number' && e.num_requests > 0);
    return COLUMNS.map((c) => {
      const v = e[c.field];
      return c.format ? (
        <td class={c.optional ? 'num opt' : 'num'} key={c.field}>
          {empty ? '–' : c.format(typeof v === 'number' ? v : null)}
        </td>
      ) : (
        <td class={c.field === 'name' ? 'name' : 'method'} key={c.field}>
          {v === null || v === undefined ? '' : String(v)}
        </td>
      );
    });
  };

  return (
    <div class="stats">
      <StatsFilterBar filter={filter} onFilter={onFilter} shown={sorted.length} total={rows.length} scenarioIgnored={filtered.scenarioIgnored} />
      <div class="table-tools">
        <button
          type="button"
          class="btn ghost small"
          data-testid="stats-columns-toggle"
          aria-pressed={allColumns}
          onClick={() => setAllColumns((v) => !v)}
        >
          {allColumns ? 'Fewer columns' : `All columns (+${HIDDEN_WHEN_NARROW})`}
        </button>
      </div>
      <HScroll class={allColumns ? 'all-columns' : 'few-columns'} label="Request statistics">
        <table data-testid="stats-table" class="data">
          <thead>
            <tr>
              {COLUMNS.map((c) => {
                const active = sort?.field === c.field;
                return (
                  <th
                    key={c.field}
                    scope="col"
                    class={`sortable${c.format ? ' num' : ''}${c.optional ? ' opt' : ''}${active ? ' sorted' : ''}`}
                    data-testid={`sort-${c.field}`}
                    aria-sort={active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
                    onClick={() => clickHeader(c)}
                  >
                    <button type="button" class="th-button" tabIndex={0}>
                      <span class="th-label">{c.label}</span>
                      <span class="sort-mark" aria-hidden="true">
                        {active ? (sort.dir === 'asc' ? '▲' : '▼') : ''}
                      </span>
                    </button>
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {sorted.length === 0 && (
              <EmptyRow colSpan={COLUMNS.length}>
                <span class="empty-text">{rows.length > 0 && isFiltering(filter) ? 'No rows match the filter.' : 'No requests yet.'}</span>
              </EmptyRow>
            )}
            {sorted.map((e) => (
              <tr data-testid="stats-row" key={`${e.method ?? ''} ${e.name}`}>
                {cells(e)}
              </tr>
            ))}
          </tbody>
          {total && (
            <tfoot>
              <tr data-testid="stats-total" class="total">
                {cells(total)}
              </tr>
            </tfoot>
          )}
        </table>
      </HScroll>
    </div>
  );
}
