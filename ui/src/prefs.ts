// The forms' last submitted values, kept in localStorage so that "New test" and a reload start
// from them. Fixed keys (nothing from the session: no user, no token); values are checked on the
// way back in, since anything may sit in storage. Storage that is unavailable or full is ignored.

/** What the start form holds. */
export interface StartValues {
  users: string;
  rate: string;
  /** null: the server's default host (from /config), whatever it is now. */
  host: string | null;
  runTime: string;
  /** null: all user classes (also those a restarted server may have added). */
  classes: string[] | null;
  /** Which load the form starts; absent in values stored by an older UI (then: users). */
  mode?: StartMode;
  arrivalRate?: string;
  maxUsers?: string;
  /** null: all declared scenarios. */
  scenarios?: string[] | null;
}

/** The start form's choice: a user count (Locust's model), an arrival rate (the open model), or declared scenarios. */
export type StartMode = 'users' | 'arrival' | 'scenarios';
const MODES: readonly string[] = ['users', 'arrival', 'scenarios'];

const START_KEY = 'cicada:start-form';
const RATE_KEY = 'cicada:spawn-rate';
const MAX_TEXT = 2048;

function read(key: string): unknown {
  try {
    const raw = window.localStorage.getItem(key);
    return raw === null ? null : (JSON.parse(raw) as unknown);
  } catch {
    return null;
  }
}

function write(key: string, value: unknown): void {
  try {
    window.localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* private mode or full: memory only */
  }
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.length <= MAX_TEXT ? v : null);

export function loadStartValues(): StartValues | null {
  const v = read(START_KEY);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const users = text(o.users);
  const rate = text(o.rate);
  const runTime = text(o.runTime);
  if (users === null || rate === null || runTime === null) return null;
  const names = (v: unknown): string[] | null =>
    Array.isArray(v) ? v.filter((c): c is string => typeof c === 'string' && c.length <= 200).slice(0, 500) : null;
  const mode = typeof o.mode === 'string' && MODES.includes(o.mode) ? (o.mode as StartMode) : undefined;
  return {
    users,
    rate,
    host: text(o.host),
    runTime,
    classes: names(o.classes),
    ...(mode !== undefined ? { mode } : {}),
    arrivalRate: text(o.arrivalRate) ?? '',
    maxUsers: text(o.maxUsers) ?? '',
    scenarios: names(o.scenarios),
  };
}

/** A host with a user name or password in it is not written to storage (it stays in memory). */
function hasCredentials(host: string): boolean {
  try {
    const u = new URL(host);
    return u.username !== '' || u.password !== '';
  } catch {
    return false;
  }
}

export function saveStartValues(values: StartValues): void {
  write(START_KEY, { ...values, host: values.host !== null && hasCredentials(values.host) ? null : values.host });
}

/** The spawn rate last sent (start or edit), for the edit form: the statistics don't carry it. */
export function loadSpawnRate(): number | null {
  const v = read(RATE_KEY);
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
}

export function saveSpawnRate(rate: number): void {
  write(RATE_KEY, rate);
}
