// Shared by the start and edit forms: client-side checks that mirror the server's rules
// (the server still decides; its 400 names the field the same way).

export interface FieldError {
  message: string;
  /** The API field name (user_count, spawn_rate, host, run_time, user_classes, arrival_rate, max_users, scenarios). */
  field?: string;
}

export function parseUserCount(raw: string): number | FieldError {
  const v = raw.trim();
  if (!/^\d+$/.test(v) || Number(v) > 1_000_000) {
    return { message: 'Number of users must be a whole number from 0 to 1,000,000.', field: 'user_count' };
  }
  return Number(v);
}

export function parseSpawnRate(raw: string): number | FieldError {
  const v = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(v) || v <= 0 || v > 100_000) {
    return { message: 'Spawn rate must be a number above 0 and at most 100,000.', field: 'spawn_rate' };
  }
  return v;
}

export function parseArrivalRate(raw: string): number | FieldError {
  const v = Number(raw.trim());
  if (!/^\s*\d*\.?\d+\s*$/.test(raw) || !Number.isFinite(v) || v <= 0 || v > 1_000_000) {
    return { message: 'Arrival rate must be a number of iterations per second above 0 and at most 1,000,000.', field: 'arrival_rate' };
  }
  return v;
}

/** Empty: no cap of its own (the server's default, 10 × the rate). */
export function parseMaxUsers(raw: string): number | undefined | FieldError {
  const v = raw.trim();
  if (v === '') return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 1_000_000) {
    return { message: 'Max users must be a whole number from 1 to 1,000,000, or empty.', field: 'max_users' };
  }
  return Number(v);
}

/** Both fields of a start or edit, checked in the form's order (the first bad one is reported). */
export function parseUsersAndRate(users: string, rate: string): { user_count: number; spawn_rate: number } | FieldError {
  const u = parseUserCount(users);
  if (isFieldError(u)) return u;
  const r = parseSpawnRate(rate);
  if (isFieldError(r)) return r;
  return { user_count: u, spawn_rate: r };
}

export function isFieldError(v: unknown): v is FieldError {
  return typeof v === 'object' && v !== null && 'message' in v;
}

/** The forms' labels of the API's field names, for the server's messages. */
const FIELD_LABELS: Record<string, string> = {
  user_count: 'Number of users',
  spawn_rate: 'Spawn rate',
  host: 'Host',
  run_time: 'Run time',
  user_classes: 'User classes',
  arrival_rate: 'Arrival rate',
  max_users: 'Max users',
  scenarios: 'Scenarios',
};

/**
 * A server refusal as the form shows it: the server's message, led by the field's label instead of
 * its API name ("run_time: '10 minutes' is not…" → "Run time: '10 minutes' is not…").
 */
export function fieldErrorFrom(message: string, field: string | undefined): FieldError {
  const label = field !== undefined && Object.hasOwn(FIELD_LABELS, field) ? FIELD_LABELS[field] : undefined;
  if (field === undefined || label === undefined) return field === undefined ? { message } : { message, field };
  const prefix = `${field}:`;
  const rest = message.startsWith(prefix) ? message.slice(prefix.length).trimStart() : message;
  return { message: `${label}: ${rest}`, field };
}
