import { formatCount } from '../format';
import type { ErrorEntry } from '../types';
import { EmptyRow } from './EmptyRow';
import { HScroll } from './HScroll';

export function FailuresTable({ errors }: { errors: readonly ErrorEntry[] }) {
  const rows = [...errors].sort((a, b) => b.occurrences - a.occurrences);
  return (
    <HScroll label="Failures">
      <table data-testid="failures-table" class="data">
        <thead>
          <tr>
            <th scope="col">Type</th>
            <th scope="col">Name</th>
            <th scope="col">Error</th>
            <th scope="col" class="num">
              # Occurrences
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && <EmptyRow colSpan={4}>No failures.</EmptyRow>}
          {rows.map((e, i) => (
            <tr key={i} data-testid="failure-row">
              <td class="method">{e.method ?? ''}</td>
              <td class="name">{e.name}</td>
              <td class="message">{e.error}</td>
              <td class="num">{formatCount(e.occurrences)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </HScroll>
  );
}
