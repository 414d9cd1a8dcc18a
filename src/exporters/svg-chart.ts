// Server-side SVG line charts for the HTML report: no script, no external resources, bounded point count.
import { escapeHtml } from './escape-html.ts';
import { formatClock, round2 } from './format.ts';

export interface ChartSeries {
  label: string;
  /** A CSS color (a constant of ours, never user input). */
  color: string;
  /** One value per time; null leaves a gap. */
  values: readonly (number | null)[];
  /** How points merged by downsampling combine: `mean` for rates, `max` keeps latency spikes visible. */
  reduce?: 'mean' | 'max';
}

export interface ChartSpec {
  title: string;
  /** Shown on the y axis, e.g. `ms` or `req/s`. */
  unit: string;
  /** Epoch seconds, ascending; aligned with every series' values. */
  times: readonly number[];
  series: readonly ChartSeries[];
  /** Most points drawn per series (default 1000). */
  maxPoints?: number;
}

const WIDTH = 800;
const HEIGHT = 260;
const PAD = { left: 60, right: 16, top: 34, bottom: 30 };

/** Splits `length` items into at most `maxPoints` consecutive index ranges [start, end) of equal size. */
export function downsampleRanges(length: number, maxPoints: number): [number, number][] {
  const size = Math.max(1, Math.ceil(length / Math.max(1, maxPoints)));
  const ranges: [number, number][] = [];
  for (let start = 0; start < length; start += size) ranges.push([start, Math.min(length, start + size)]);
  return ranges;
}

function reduceRange(values: readonly (number | null)[], [start, end]: [number, number], how: 'mean' | 'max'): number | null {
  let sum = 0;
  let max = -Infinity;
  let n = 0;
  for (let i = start; i < end; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    sum += v;
    max = Math.max(max, v);
    n++;
  }
  if (n === 0) return null;
  return how === 'max' ? max : sum / n;
}

/** Times and series reduced to at most `maxPoints` points each. */
export function downsample(spec: ChartSpec): { times: number[]; series: ChartSeries[] } {
  const ranges = downsampleRanges(spec.times.length, spec.maxPoints ?? 1000);
  const times = ranges.map(([start]) => spec.times[start] ?? 0);
  const series = spec.series.map((s) => ({ ...s, values: ranges.map((r) => reduceRange(s.values, r, s.reduce ?? 'mean')) }));
  return { times, series };
}

/** A "nice" step (1, 2, 2.5 or 5 × 10^k) at least `raw`, so axis labels read cleanly. */
export function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * magnitude >= raw) return m * magnitude;
  return 10 * magnitude;
}

function axisLabel(value: number): string {
  if (value >= 1_000_000) return `${round2(value / 1_000_000)}M`;
  if (value >= 1000) return `${round2(value / 1000)}k`;
  return round2(value);
}

const fmt = (n: number): string => n.toFixed(1);

/** One series as path data, broken at nulls; a lone point becomes a short dash so it stays visible. */
function pathData(values: readonly (number | null)[], x: (i: number) => number, y: (v: number) => number): string {
  const parts: string[] = [];
  let run = 0;
  values.forEach((v, i) => {
    if (v === null) {
      if (run === 1) parts.push('h0.5');
      run = 0;
      return;
    }
    parts.push(`${run === 0 ? 'M' : 'L'}${fmt(x(i))} ${fmt(y(v))}`);
    run++;
  });
  if (run === 1) parts.push('h0.5');
  return parts.join(' ');
}

/** A complete `<svg>` line chart; every text (title, unit, labels) is escaped. */
export function lineChart(spec: ChartSpec): string {
  const { times, series } = downsample(spec);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const out: string[] = [
    `<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img">`,
    `<title>${escapeHtml(spec.title)}</title>`,
  ];
  // Legend across the top.
  let lx = PAD.left;
  for (const s of series) {
    out.push(`<rect x="${lx}" y="10" width="12" height="12" fill="${escapeHtml(s.color)}"/>`);
    out.push(`<text x="${lx + 16}" y="20" class="legend">${escapeHtml(s.label)}</text>`);
    lx += 30 + s.label.length * 7;
  }
  if (times.length === 0) {
    out.push(`<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle" class="empty">no data yet</text></svg>`);
    return out.join('');
  }

  let max = 0;
  for (const s of series) for (const v of s.values) if (v !== null && v > max) max = v;
  const step = niceStep(max / 4);
  const yMax = Math.max(step, Math.ceil(max / step) * step);
  const t0 = times[0] ?? 0;
  const t1 = Math.max(times.at(-1) ?? t0, t0 + 1);
  const x = (i: number): number => PAD.left + (((times[i] ?? t0) - t0) / (t1 - t0)) * plotW;
  const y = (v: number): number => PAD.top + plotH - (v / yMax) * plotH;

  // Horizontal grid with y labels.
  for (let v = 0; v <= yMax + step / 2; v += step) {
    const gy = fmt(y(v));
    out.push(`<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${gy}" y2="${gy}" class="grid"/>`);
    out.push(`<text x="${PAD.left - 6}" y="${gy}" dy="4" text-anchor="end" class="axis">${escapeHtml(axisLabel(v))}</text>`);
  }
  out.push(
    `<text x="14" y="${PAD.top + plotH / 2}" transform="rotate(-90 14 ${PAD.top + plotH / 2})" text-anchor="middle" class="axis">${escapeHtml(spec.unit)}</text>`,
  );
  // Five time labels (UTC) along the bottom.
  for (let k = 0; k <= 4; k++) {
    const tx = PAD.left + (k / 4) * plotW;
    const anchor = k === 0 ? 'start' : k === 4 ? 'end' : 'middle';
    const label = formatClock(Math.round(t0 + (k / 4) * (t1 - t0)));
    out.push(`<text x="${fmt(tx)}" y="${HEIGHT - 8}" text-anchor="${anchor}" class="axis">${escapeHtml(label)}</text>`);
  }
  for (const s of series) {
    const d = pathData(s.values, x, y);
    if (d === '') continue;
    out.push(`<path d="${d}" fill="none" stroke="${escapeHtml(s.color)}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"><title>${escapeHtml(s.label)}</title></path>`);
  }
  out.push('</svg>');
  return out.join('');
}
