import { formatCount, formatMegabytes, formatPercentValue } from '../format';
import type { WorkerInfo } from '../types';
import { EmptyRow } from './EmptyRow';
import { HScroll } from './HScroll';

export function Workers({ workers, count }: { workers: readonly WorkerInfo[]; count: number | undefined }) {
  return (
    <div>
      <p class="muted">
        Workers connected: <strong data-testid="worker-count">{formatCount(count ?? workers.length)}</strong>
      </p>
      <HScroll label="Workers">
        <table data-testid="workers-table" class="data">
          <thead>
            <tr>
              <th scope="col">Worker</th>
              <th scope="col">State</th>
              <th scope="col" class="num">
                # Users
              </th>
              <th scope="col" class="num">
                CPU %
              </th>
              <th scope="col" class="num">
                Memory (MB)
              </th>
            </tr>
          </thead>
          <tbody>
            {workers.length === 0 && <EmptyRow colSpan={5}>No workers connected.</EmptyRow>}
            {workers.map((w) => (
              <tr key={w.id} data-testid="worker-row" class={w.missing ? 'missing' : undefined}>
                <td class="name">{w.id}</td>
                <td>
                  {w.state}
                  {w.missing && <span class="tag warn">missing</span>}
                </td>
                <td class="num">{formatCount(w.user_count)}</td>
                <td class="num">{formatPercentValue(w.cpu_usage)}</td>
                <td class="num">{formatMegabytes(w.memory_usage)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </HScroll>
    </div>
  );
}
