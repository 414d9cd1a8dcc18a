// The Prometheus text exposition format (version 0.0.4) of the metrics model: what GET /metrics answers.
import type { Labels, MetricFamily } from './model.ts';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Label values escape backslash, double quote and line feed (the format's only escapes). */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escapes backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A float as Prometheus writes it: `+Inf`, `NaN`, or the shortest decimal. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** `{a="1",b="2"}` in the labels' order, empty labels left out (Prometheus treats "" as absent). */
function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels).filter(([, v]) => v !== '');
  if (extra !== undefined) pairs.push(extra);
  if (pairs.length === 0) return '';
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

/**
 * Renders families as the text format: `# HELP`, `# TYPE`, then one line per series; a histogram has
 * `_bucket{le=…}` lines (cumulative, ending with `+Inf` = the count), `_sum` and `_count`.
 * @example
 * ```ts
 * reply.type(PROMETHEUS_CONTENT_TYPE).send(prometheusText(metricFamilies(run.report(), { workers: 0 })));
 * ```
 */
export function prometheusText(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    if (family.type === 'histogram') {
      for (const s of family.samples) {
        family.bounds.forEach((bound, i) => lines.push(`${family.name}_bucket${labelText(s.labels, ['le', formatValue(bound)])} ${s.cumulative[i] ?? 0}`));
        lines.push(`${family.name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${s.count}`);
        lines.push(`${family.name}_sum${labelText(s.labels)} ${formatValue(s.sum)}`, `${family.name}_count${labelText(s.labels)} ${s.count}`);
      }
    } else {
      for (const s of family.samples) lines.push(`${family.name}${labelText(s.labels)} ${formatValue(s.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
