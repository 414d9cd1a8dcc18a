// Parsers for option values (time spans, counts, rates, URLs, ports, lists): text in, typed value out, or a UsageError naming the field.
import { UsageError } from './errors.ts';

/**
 * The longest time span accepted, in seconds: Node's timers hold at most 2^31-1 ms (about 24.8 days);
 * a longer `setTimeout` silently fires after 1 ms, which would end a run at once instead of never.
 */
export const MAX_TIME_SPAN_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

const TIME_SPAN_HINT = 'use seconds or h/m/s units, e.g. 90, 30s, 5m, 1h30m, 1h20m30s';
const DECIMAL = /^\d*\.?\d+$/;
// One `<number><unit>` part; the parser walks the text part by part (sticky), so no nested quantifiers.
const PART = /(\d*\.?\d+)([hms])/iy;
const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1 };

/** Seconds in `1h30m`-style text, or undefined when the text is not units in h, m, s order (each at most once). */
function unitSeconds(text: string): number | undefined {
  if (text === '') return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let lastRank = -1;
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text);
    if (match === null) return undefined;
    const unit = (match[2] ?? '').toLowerCase();
    const rank = 'hms'.indexOf(unit);
    if (rank <= lastRank) return undefined;
    lastRank = rank;
    total += Number(match[1]) * (UNIT_SECONDS[unit] ?? Number.NaN);
  }
  return total;
}

function quote(text: string): string {
  return `'${text}'`;
}

/**
 * Seconds in `text`: a plain number (`90`, `1.5`) or h/m/s parts (`30s`, `5m`, `1h30m`, `1h20m30s`).
 * Rejects negatives, unknown units (`5x`), empty text, and anything over {@link MAX_TIME_SPAN_SECONDS}.
 */
export function parseTimeSpan(text: string, field = 'time span'): number {
  const trimmed = text.trim();
  let seconds: number;
  if (DECIMAL.test(trimmed)) {
    seconds = Number(trimmed);
  } else {
    const parsed = unitSeconds(trimmed);
    if (parsed === undefined) {
      throw new UsageError(`${field}: ${quote(text)} is not a time span (expected a number of seconds or h/m/s units)`, TIME_SPAN_HINT);
    }
    seconds = parsed;
  }
  if (!Number.isFinite(seconds) || seconds > MAX_TIME_SPAN_SECONDS) {
    throw new UsageError(
      `${field}: ${quote(text)} is too long (at most ${MAX_TIME_SPAN_SECONDS} seconds, about 24 days)`,
      TIME_SPAN_HINT,
    );
  }
  return seconds;
}

/** Bounds for {@link parsePositiveInt}; `min` defaults to 1. */
export interface IntBounds {
  min?: number;
  max?: number;
}

/** A whole number in `[min, max]` (default `[1, MAX_SAFE_INTEGER]`); digits only, so `1e3`, `0x10` and `5.5` are rejected. */
export function parsePositiveInt(text: string, field: string, bounds: IntBounds = {}): number {
  const min = bounds.min ?? 1;
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
  const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
  const trimmed = text.trim();
  const value = /^[+-]?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const example = Math.max(min, Math.min(max, 10));
    throw new UsageError(`${field}: expected a whole number ${range}, got ${quote(text)}`, `give a whole number ${range}, e.g. ${example}`);
  }
  return value;
}

/** A rate such as users per second: a finite decimal number greater than 0 (`0.5`, `10`). */
export function parseRate(text: string, field: string): number {
  const trimmed = text.trim();
  const value = DECIMAL.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isFinite(value) || value <= 0) {
    throw new UsageError(`${field}: expected a number greater than 0, got ${quote(text)}`, 'e.g. 10 or 0.5 (per second)');
  }
  return value;
}

/** A base URL for the target: `http://` or `https://` with a host. Returned trimmed, without trailing slashes. */
export function parseHostUrl(text: string, field = '-H/--host'): string {
  const trimmed = text.trim();
  let url: URL | undefined;
  try {
    url = new URL(trimmed);
  } catch {
    url = undefined;
  }
  const hint = 'give a full base URL such as http://localhost:8080 or https://shop.example.com';
  // `127.0.0.1:8080`, `localhost:3000`, `shop.test`: a host without a scheme (URL may even parse `localhost:` as one).
  if (!trimmed.includes('://') && /^[\w[]/.test(trimmed) && !/\s/.test(trimmed)) {
    throw new UsageError(`${field}: ${quote(text)} is not an http(s) URL; did you mean http://${trimmed}?`, hint);
  }
  if (url === undefined) throw new UsageError(`${field}: ${quote(text)} is not a URL`, hint);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${field}: ${quote(text)} uses ${url.protocol.slice(0, -1)}; only http and https are supported`, hint);
  }
  if (url.hostname === '') throw new UsageError(`${field}: ${quote(text)} has no host name`, hint);
  return trimmed.replace(/\/+$/, '');
}

/** A TCP port, 1 to 65535. */
export function parsePort(text: string, field: string): number {
  try {
    return parsePositiveInt(text, field, { min: 1, max: 65535 });
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(error.message, 'give a TCP port from 1 to 65535, e.g. 8089');
    throw error;
  }
}

/** A true/false switch as written in environment variables and config files: true/false, 1/0, yes/no, on/off. */
export function parseBoolean(text: string, field: string): boolean {
  const lower = text.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(lower)) return true;
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  throw new UsageError(`${field}: expected true or false, got ${quote(text)}`, 'use true or false (also 1/0, yes/no, on/off)');
}

/** One of `choices`, compared case-insensitively; returns the choice as spelled in `choices`. */
export function parseChoice<T extends string>(text: string, field: string, choices: readonly T[]): T {
  const found = choices.find((c) => c.toLowerCase() === text.trim().toLowerCase());
  if (found === undefined) {
    throw new UsageError(`${field}: expected one of ${choices.join(', ')}, got ${quote(text)}`, `e.g. ${choices[0] ?? ''}`);
  }
  return found;
}

/** Items from one or more comma-separated texts (`['a,b', 'c']` → `['a','b','c']`), trimmed, empties dropped. */
export function splitList(values: string | readonly string[], separator: RegExp = /,/): string[] {
  const texts = typeof values === 'string' ? [values] : values;
  return texts.flatMap((t) => t.split(separator)).map((s) => s.trim()).filter((s) => s.length > 0);
}
