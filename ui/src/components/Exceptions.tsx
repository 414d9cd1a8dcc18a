import { useEffect, useState } from 'preact/hooks';
import { getExceptions } from '../api';
import { formatCount } from '../format';
import type { ExceptionEntry } from '../types';

interface Props {
  /** From the live stats: a change means there is something new to fetch. */
  count: number | undefined;
}

/** Exceptions raised by user code; fetched when the tab opens and when the count changes. */
export function Exceptions({ count }: Props) {
  const [list, setList] = useState<ExceptionEntry[] | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    let cancelled = false;
    getExceptions()
      .then((l) => {
        if (cancelled) return;
        setList(l);
        setError('');
      })
      .catch((e: unknown) => {
        if (!cancelled) setError(e instanceof Error ? e.message : 'Could not load the exceptions.');
      });
    return () => {
      cancelled = true;
    };
  }, [count]);

  const sorted = list ? [...list].sort((a, b) => b.count - a.count) : [];
  return (
    <div data-testid="exceptions-list" class="exceptions">
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
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
