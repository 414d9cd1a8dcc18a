import { getExceptions } from '../api';
import { formatCount } from '../format';
import { Alert } from './FormError';
import { useFetched } from './useFetched';

interface Props {
  /** From the live stats: a change means there is something new to fetch. */
  count: number | undefined;
}

/** Exceptions raised by user code; fetched when the tab opens and when the count changes. */
export function Exceptions({ count }: Props) {
  const [list, error] = useFetched(getExceptions, 'Could not load the exceptions.', [count]);

  const sorted = list ? [...list].sort((a, b) => b.count - a.count) : [];
  return (
    <div data-testid="exceptions-list" class="exceptions">
      <Alert message={error} />
      {list === null && !error && <p class="muted">Loading…</p>}
      {list !== null && list.length === 0 && <p class="muted">No exceptions.</p>}
      {sorted.map((x, i) => (
        <article class="exception" key={i} data-testid="exception-item">
          <header>
            <span class="count">{formatCount(x.count)}×</span>
            <span class="message">{x.msg}</span>
          </header>
          <pre>{x.traceback}</pre>
          <p class="muted nodes">Nodes: {Array.isArray(x.nodes) ? x.nodes.join(', ') : String(x.nodes ?? '')}</p>
        </article>
      ))}
    </div>
  );
}
