// check(): named assertions on a response (k6's check) that count passes and fails without failing the request.
import type { Events } from './events.ts';

/** Named predicates over one value: truthy passes; falsy, a throw or a promise fails. */
export type Checks<T> = Record<string, (value: T) => unknown>;

export interface CheckOptions {
  /** The request name the results are counted under (default: the value's own `name`, as on an HTTP response). */
  name?: string;
}

/** The request name of a checked value: its string `name` (an HttpResponse's stats name), else ''. */
function requestNameOf(value: unknown): string {
  if (typeof value !== 'object' || value === null || !('name' in value)) return '';
  const name = (value).name;
  return typeof name === 'string' ? name : '';
}

function isThenable(value: unknown): boolean {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Builds `check` on an event bus (the scripting API binds it to the process-wide `events`). */
export function checkOn(events: Events): <T>(value: T, checks: Checks<T>, options?: CheckOptions) => boolean {
  return (value, checks, options = {}) => {
    const request = options.name ?? requestNameOf(value);
    let all = true;
    for (const [name, predicate] of Object.entries(checks)) {
      let ok: boolean;
      let error: string | undefined;
      try {
        const result = predicate(value);
        if (isThenable(result)) {
          ok = false;
          error = 'the check returned a promise: checks must be synchronous (await the value first, then check it)';
          (result as Promise<unknown>).catch(() => undefined);
        } else {
          ok = Boolean(result);
        }
      } catch (thrown) {
        ok = false;
        error = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
      }
      if (!ok) all = false;
      events.check.fire(error === undefined ? { name, request, ok } : { name, request, ok, error });
    }
    return all;
  };
}
