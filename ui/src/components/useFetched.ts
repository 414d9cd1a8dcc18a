import { useEffect, useState } from 'preact/hooks';

/**
 * Fetches with `load` on mount and whenever `deps` change: the last result (null until the first
 * arrives) and the last failure's message ('' after a success). A late answer after unmount or a
 * newer fetch is dropped.
 */
export function useFetched<T>(load: () => Promise<T>, failure: string, deps: readonly unknown[]): [T | null, string] {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    let cancelled = false;
    load()
      .then((d) => {
        if (cancelled) return;
        setData(d);
        setError('');
      })
      .catch((e: unknown) => {
        if (!cancelled) setError(e instanceof Error ? e.message : failure);
      });
    return () => {
      cancelled = true;
    };
    // The caller's deps say when to fetch again; `load` and `failure` are fixed per caller.
  }, deps);

  return [data, error];
}
