// The Scenarios tab: per scenario, iterations run, failed, dropped and interrupted, and iteration_duration percentiles.
import { formatCount, formatMs } from '../format';
import type { ScenarioInfo, ScenarioStats } from '../types';
import { EmptyRow } from './EmptyRow';
import { HScroll } from './HScroll';

const PERCENTILES: [string, string][] = [
  ['0.5', 'p50'],
  ['0.95', 'p95'],
  ['0.99', 'p99'],
  ['1.0', 'max'],
];

interface Props {
  scenarios: readonly ScenarioStats[];
  /** The declared ones, for the executor of a row the server could not name. */
  declared: readonly ScenarioInfo[];
}

export function Scenarios({ scenarios, declared }: Props) {
  const columns = 8 + PERCENTILES.length;
  return (
    <div>
      <p class="muted">
        iteration_duration in ms, measured from each iteration’s scheduled start; “late p99” is how late
        iterations started. Closed-model scenarios (users, ramping-users, shape) count no iterations.
      </p>
      <HScroll label="Scenarios">
        <table data-testid="scenarios-table" class="data">
          <thead>
            <tr>
              <th scope="col">Scenario</th>
              <th scope="col">Executor</th>
              <th scope="col" class="num">Iterations</th>
              <th scope="col" class="num">Failed</th>
              <th scope="col" class="num">Dropped</th>
              <th scope="col" class="num">Interrupted</th>
              <th scope="col" class="num">Not run</th>
              {PERCENTILES.map(([key, label]) => (
                <th scope="col" class="num" key={key}>
                  {label}
                </th>
              ))}
              <th scope="col" class="num">late p99</th>
            </tr>
          </thead>
          <tbody>
            {scenarios.length === 0 && <EmptyRow colSpan={columns}>No iterations yet.</EmptyRow>}
            {scenarios.map((s) => (
              <tr key={s.name} data-testid="scenario-row">
                <td class="name">{s.name}</td>
                <td>{s.executor ?? declared.find((d) => d.name === s.name)?.executor ?? '–'}</td>
                <td class="num" data-testid="scenario-iterations">{formatCount(s.iterations)}</td>
                <td class="num">{formatCount(s.failed_iterations)}</td>
                <td class={`num${s.dropped_iterations > 0 ? ' warn' : ''}`} data-testid="scenario-dropped">
                  {formatCount(s.dropped_iterations)}
                </td>
                <td class="num">{formatCount(s.interrupted_iterations)}</td>
                <td class={`num${s.not_run_iterations > 0 ? ' warn' : ''}`}>{formatCount(s.not_run_iterations)}</td>
                {PERCENTILES.map(([key]) => (
                  <td class="num" key={key}>
                    {formatMs(s.iteration_duration_percentiles[key])}
                  </td>
                ))}
                <td class="num">{formatMs(s.start_lateness_p99)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </HScroll>
    </div>
  );
}
