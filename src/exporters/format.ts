// Number, time and label formatting shared by the console, CSV, JSON and HTML exporters.
import { printable } from '../core/printable.ts';
import { PERCENTILES_TO_REPORT, type ThresholdResult } from '../stats/types.ts';

/**
 * A response time in ms as Locust prints it: whole ms from 1 ms up (Locust truncates to integers),
 * but up to 2 decimals below 1 ms so a fast local target does not read as "0".
 * `null` (no requests) becomes `empty`.
 */
export function formatMs(value: number | null, empty = 'N/A'): string {
  if (value === null || !Number.isFinite(value)) return empty;
  if (Math.abs(value) >= 1) return String(Math.round(value));
  return String(Number(value.toFixed(2)));
}

/** A number rounded to at most 2 decimals without trailing zeros (`12.5`, `3`, `0.07`): averages and rates. */
export function round2(value: number): string {
  if (!Number.isFinite(value)) return '0';
  const rounded = Math.round(value * 100) / 100;
  return String(Object.is(rounded, -0) ? 0 : rounded);
}

/** Column label of a percentile: 0.5 → `50%`, 0.999 → `99.9%`, 1 → `100%`. */
export function percentileLabel(p: number): string {
  return `${Number((p * 100).toFixed(4))}%`;
}

/** Labels of PERCENTILES_TO_REPORT, in order. */
export const PERCENTILE_LABELS: readonly string[] = PERCENTILES_TO_REPORT.map(percentileLabel);

/** A ratio 0..1 as a percentage with 2 decimals: 0.0123 → `1.23%`. */
export function formatPercent(ratio: number): string {
  return `${(Number.isFinite(ratio) ? ratio * 100 : 0).toFixed(2)}%`;
}

/**
 * A ratio 0..1 as a percentage with 2 decimals (`0.9898` → `98.98%`), with more decimals (up to 4) when
 * 2 would round a ratio that is not exactly 0 or 1 to `0.00%` or `100.00%`: one failed check in 100 000
 * must not read as all passed, nor a fail ratio of 0.00004 as none, beside a threshold it broke.
 */
export function formatRatio(ratio: number): string {
  const percent = Number.isFinite(ratio) ? ratio * 100 : 0;
  if (percent === 0 || percent === 100) return `${percent.toFixed(2)}%`;
  for (let digits = 2; digits <= 4; digits++) {
    const text = percent.toFixed(digits);
    if (Number(text) !== 0 && Number(text) !== 100) return `${text}%`;
  }
  return percent < 50 ? '<0.0001%' : '>99.9999%';
}

/**
 * A threshold's observed value with its unit: `260 ms`, `12.5/s`, `1.00%` (ratios), `42` (counts);
 * `no data` when nothing was measured yet (such a threshold passes, as in k6). Up to 2 decimals, so a
 * value just under the limit (299.6 against `p(95)<300`) does not read as the limit itself.
 */
export function formatObserved(value: number | null, unit: ThresholdResult['unit']): string {
  if (value === null) return 'no data';
  switch (unit) {
    case 'ms':
      return `${round2(value)} ms`;
    case '/s':
      return `${round2(value)}/s`;
    case 'ratio':
      return formatRatio(value);
    case 'count':
      return round2(value);
  }
}

/** A duration in ms as `1h02m03s`, `5m07s` or `42s` (whole seconds, rounded down). */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (h > 0) return `${h}h${pad(m)}m${pad(s)}s`;
  if (m > 0) return `${m}m${pad(s)}s`;
  return `${s}s`;
}

/** Epoch ms as `2024-05-01 12:00:05 UTC`; reports are read in many time zones, so always UTC. */
export function formatDateTime(epochMs: number): string {
  if (!Number.isFinite(epochMs) || epochMs <= 0) return '-';
  return `${new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Epoch seconds as `HH:MM:SS` (UTC), for chart axes. */
export function formatClock(epochS: number): string {
  return new Date(epochS * 1000).toISOString().slice(11, 19);
}

/** Truncates to `width` characters, ending with an ellipsis when something was cut. */
export function truncate(text: string, width: number): string {
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  if (width <= 1) return chars.slice(0, width).join('');
  return `${chars.slice(0, width - 1).join('')}…`;
}

/**
 * User strings made safe for a terminal table: core's `printable` (control characters, ANSI escapes and
 * bidi overrides become a space), uncut, because the tables cut to their column widths themselves.
 */
export function sanitizeForTerminal(text: string): string {
  return printable(text, Number.POSITIVE_INFINITY);
}

/**
 * An average in ms for a 7-character console column: 2 decimals below 100 ms, 1 below 1 s, whole ms
 * from 1 s up, so `60000.12` shows as `60000` instead of being cut to `60000.…`.
 */
export function formatAvgMs(value: number): string {
  if (!Number.isFinite(value)) return '0';
  const digits = Math.abs(value) >= 1000 ? 0 : Math.abs(value) >= 100 ? 1 : 2;
  return value.toFixed(digits);
}
