// Number formatting for tables and the header. Fixed locale so that the numbers look the
// same for everyone (and in tests): 1,234 and 12.5.

const nf = (min: number, max: number) =>
  new Intl.NumberFormat('en-US', { minimumFractionDigits: min, maximumFractionDigits: max });

const int = nf(0, 0);
const oneDecimal = nf(1, 1);
const upToOne = nf(0, 1);
const twoDecimals = nf(2, 2);
const upToTwo = nf(0, 2);
const upToFour = nf(0, 4);

const DASH = '–';

function ok(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Counts: 1,234. */
export function formatCount(v: number | null | undefined): string {
  return ok(v) ? int.format(v) : DASH;
}

/**
 * Milliseconds, the same rule for every column (average, min, max, median, percentiles): whole from
 * 10 ms up (1,234), two decimals below (2.50, 0.37) so that the decimal points line up.
 */
export function formatMs(v: number | null | undefined): string {
  if (!ok(v)) return DASH;
  if (v === 0) return '0';
  // 9.996 rounds to 10.00: show it as 10 like the rest of its range.
  return Math.abs(Math.round(v * 100) / 100) >= 10 ? int.format(v) : twoDecimals.format(v);
}

/** Requests per second: one decimal (12.5). */
export function formatRps(v: number | null | undefined): string {
  return ok(v) ? oneDecimal.format(v) : DASH;
}

/** A 0–1 ratio as a percentage (2.5%). */
export function formatPercent(ratio: number | null | undefined): string {
  return ok(ratio) ? `${upToOne.format(ratio * 100)}%` : DASH;
}

/** A 0–1 share with enough digits for small ones: 42.9%, 0.75%, 0.03%. */
export function formatShare(ratio: number | null | undefined): string {
  if (!ok(ratio)) return DASH;
  const pct = ratio * 100;
  if (pct === 0) return '0%';
  return `${Math.abs(pct) >= 1 ? oneDecimal.format(pct) : twoDecimals.format(pct)}%`;
}

/**
 * A run time in seconds as the start form takes it: 120 → "2m", 90 → "1m30s", 3600 → "1h".
 * Strings (already "5m" or so) pass through; a whole number of seconds in a string is converted.
 */
export function formatRunTime(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const seconds = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (typeof v === 'string' && Number.isNaN(seconds)) return v.trim();
  if (!Number.isFinite(seconds) || seconds <= 0) return '';
  if (!Number.isInteger(seconds)) return String(seconds);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${s}s` : ''}`;
}

/** A 0–100 value that already is a percentage (CPU). */
export function formatPercentValue(v: number | null | undefined): string {
  return ok(v) ? `${upToOne.format(v)}%` : DASH;
}

/** Bytes as megabytes (memory). */
export function formatMegabytes(bytes: number | null | undefined): string {
  return ok(bytes) ? upToOne.format(bytes / (1024 * 1024)) : DASH;
}

/** Epoch seconds as local time of day, for "first/last seen". */
export function formatTime(epochSeconds: number | null | undefined): string {
  if (!ok(epochSeconds)) return DASH;
  return new Date(epochSeconds * 1000).toLocaleTimeString('en-GB', { hour12: false });
}

/**
 * A pass rate (0–1) to one decimal, rounded down: a check that failed even once never shows "100.0%",
 * and one that never failed does.
 */
export function formatPassRate(ratio: number | null | undefined): string {
  if (!ok(ratio)) return DASH;
  // The epsilon keeps float noise (0.29 * 1000 = 289.99…) from rounding a tenth down.
  return `${oneDecimal.format(Math.floor(ratio * 1000 + 1e-9) / 10)}%`;
}

/** A threshold's observed value in its unit: `260 ms`, `12.5/s`, `0.0123`, `42`. */
export function formatObserved(value: number, unit: string): string {
  switch (unit) {
    case 'ms':
      return `${formatMs(value)} ms`;
    case '/s':
      return `${formatRps(value)}/s`;
    case 'ratio':
      // As the expression is written (`value<0.05`), not as a percentage.
      return upToFour.format(value);
    case 'count':
      return formatCount(value);
    default:
      return `${upToTwo.format(value)} ${unit}`.trim();
  }
}
