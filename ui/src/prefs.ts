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
}

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
  const classes = Array.isArray(o.classes)
    ? o.classes.filter((c): c is string => typeof c === 'string' && c.length <= 200).slice(0, 500)
    : null;
  return { users, rate, host: text(o.host), runTime, classes };
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
