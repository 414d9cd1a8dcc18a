// Number formatting for tables and the header. Fixed locale so that the numbers look the
// same for everyone (and in tests): 1,234 and 12.5.

const nf = (min: number, max: number) =>
  new Intl.NumberFormat('en-US', { minimumFractionDigits: min, maximumFractionDigits: max });

const int = nf(0, 0);
const oneDecimal = nf(1, 1);
const upToOne = nf(0, 1);
const smallMs = nf(1, 2);

const DASH = '–';

function ok(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Counts: 1,234. */
export function formatCount(v: number | null | undefined): string {
  return ok(v) ? int.format(v) : DASH;
}

/** Milliseconds: whole above 10 ms (1,234), one or two decimals below (2.5, 0.37). */
export function formatMs(v: number | null | undefined): string {
  if (!ok(v)) return DASH;
  if (v === 0) return '0';
  return Math.abs(v) >= 10 ? int.format(v) : smallMs.format(v);
}

/** Requests per second: one decimal (12.5). */
export function formatRps(v: number | null | undefined): string {
  return ok(v) ? oneDecimal.format(v) : DASH;
}

/** A 0–1 ratio as a percentage (2.5%). */
export function formatPercent(ratio: number | null | undefined): string {
  return ok(ratio) ? `${upToOne.format(ratio * 100)}%` : DASH;
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
