// The Checks tab: passes and fails of each check() per request name, failing rows marked, with the last error thrown.
import { formatCount, formatPassRate } from '../format';
import type { Check } from '../types';
import { EmptyRow } from './EmptyRow';
import { HScroll } from './HScroll';

const COLUMNS = 7;

export function Checks({ checks }: { checks: readonly Check[] }) {
  const failing = checks.filter((c) => c.fails > 0).length;
  return (
    <div>
      <p class="muted" data-testid="checks-summary">
        {checks.length === 0
          ? 'No checks yet: call check(res, { name: (r) => … }) in a task to count passes and fails.'
          : failing > 0
            ? `${failing} of ${checks.length} failing. A failed check does not fail its request.`
            : `All ${checks.length} passing.`}
      </p>
      <HScroll label="Checks">
        <table data-testid="checks-table" class="data">
          <thead>
            <tr>
              <th scope="col">Result</th>
              <th scope="col">Check</th>
              <th scope="col">Request</th>
              <th scope="col" class="num">
                Passes
              </th>
              <th scope="col" class="num">
                Fails
              </th>
              <th scope="col" class="num">
                Pass %
              </th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {checks.length === 0 && <EmptyRow colSpan={COLUMNS}>No checks yet.</EmptyRow>}
            {checks.map((c, i) => {
              const fails = c.fails > 0;
              return (
                <tr key={i} class={fails ? 'failed' : ''} data-testid="check-row">
                  <td>
                    <span class={fails ? 'gate fail' : 'gate pass'}>{fails ? 'failing' : 'pass'}</span>
                  </td>
                  <td class="name" data-testid="check-name">
                    {c.name}
                  </td>
                  <td class="name">{c.request === '' ? <span class="muted">–</span> : c.request}</td>
                  <td class="num">{formatCount(c.passes)}</td>
                  <td class={fails ? 'num warn' : 'num'} data-testid="check-fails">
                    {formatCount(c.fails)}
                  </td>
                  <td class="num">{formatPassRate(c.pass_ratio)}</td>
                  <td class="message" data-testid="check-error">
                    {c.last_error ?? ''}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </HScroll>
    </div>
  );
}
