// The self-contained HTML report (`--html`, `/stats/report`): inline CSS and SVG, no script, no network.
import { PERCENTILES_TO_REPORT, type EntryView } from '../stats/types.ts';
import { scenarioPercentiles } from '../stats/scenario-stats.ts';
import { escapeHtml } from './escape-html.ts';
import { formatDateTime, formatDuration, formatMs, formatPercent, PERCENTILE_LABELS, round2 } from './format.ts';
import { checksSection, gatesMeta, thresholdsSection, type MetaItem } from './html-gates.ts';
import { kind, none, num, section, table, text, type Cell, type Row } from './html-table.ts';
import type { ReportData, TaskRatioNode } from './report-data.ts';
import { lineChart } from './svg-chart.ts';

/** Blocks every script, even one smuggled past escaping; only our inline CSS and data: images are allowed. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const CSS = `
:root { color-scheme: light dark; --fg: #1d232b; --muted: #5f6b7a; --bg: #fff; --line: #d9dee5; --head: #f3f5f8; --bad: #c62828; --bad-bg: #fdecea; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ee; --muted: #9aa5b4; --bg: #15191f; --line: #303844; --head: #1e242c; --bad: #ef6b6b; --bad-bg: #3a1f23; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 16px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 1.5rem; margin: 0 0 12px; }
h2 { font-size: 1.15rem; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { background: var(--head); font-weight: 600; }
th.text, td.text { text-align: left; white-space: normal; overflow-wrap: anywhere; }
th.kind, td.kind { text-align: left; white-space: nowrap; }
tr.total td { font-weight: 600; }
td.bad { color: var(--bad); }
/* A broken threshold or a failing check: the whole row stands out, not only its numbers. */
tr.failed td { background: var(--bad-bg); }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
dl.meta dd.bad { color: var(--bad); font-weight: 600; }
pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 12px; }
.charts { display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(min(100%, 520px), 1fr)); }
figure { margin: 0; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg.chart { width: 100%; height: auto; display: block; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .axis, svg .legend, svg .empty { fill: var(--muted); font-size: 12px; }
svg .legend { fill: var(--fg); }
.none { color: var(--muted); }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
`;

function requestStatsTable(data: ReportData): string {
  const row = (e: EntryView, total: boolean): Row => ({
    total,
    cells: [
      kind(e.method),
      text(e.name),
      num(e.numRequests),
      num(`${e.numFailures} (${formatPercent(e.failRatio)})`, e.numFailures > 0),
      num(e.numRequests > 0 ? e.avgResponseTime.toFixed(2) : '0'),
      num(formatMs(e.minResponseTime, '0')),
      num(formatMs(e.numRequests > 0 ? e.maxResponseTime : null, '0')),
      num(formatMs(e.medianResponseTime, '0')),
      num(round2(e.avgContentLength)),
      num(e.totalRps.toFixed(2)),
      num(e.totalFailPerSec.toFixed(2), e.totalFailPerSec > 0),
    ],
  });
  const headers = [kind('Type'), text('Name'), '# Requests', '# Fails', 'Average (ms)', 'Min (ms)', 'Max (ms)', 'Median (ms)', 'Average size (bytes)', 'RPS', 'Failures/s'];
  return table(headers, [...data.entries.map((e) => row(e, false)), row(data.total, true)]);
}

function percentilesTable(data: ReportData): string {
  const row = (e: EntryView, total: boolean): Row => ({
    total,
    cells: [kind(e.method), text(e.name), ...PERCENTILE_LABELS.map((_, i) => num(formatMs(e.percentiles[i] ?? null))), num(e.numRequests)],
  });
  return table([kind('Type'), text('Name'), ...PERCENTILE_LABELS, '# Requests'], [...data.entries.map((e) => row(e, false)), row(data.total, true)]);
}

/** The corrected view, when paced users made some requests; '' otherwise. */
function correctedTable(data: ReportData): string {
  if (data.total.correctedPercentiles === undefined) return '';
  const row = (e: EntryView, total: boolean): Row => ({
    total,
    cells: [kind(e.method), text(e.name), ...PERCENTILE_LABELS.map((_, i) => num(formatMs((e.correctedPercentiles ?? e.percentiles)[i] ?? null))), num(e.numRequests)],
  });
  return section(
    'Response time percentiles (ms), corrected for coordinated omission',
    `<p class="none">Paced users (constantPacing, constantThroughput) that waited on a slow response did not send the requests they were due to; these percentiles add what those requests would have seen (HdrHistogram's expected-interval method).</p>\n${table([kind('Type'), text('Name'), ...PERCENTILE_LABELS, '# Requests'], [...data.entries.map((e) => row(e, false)), row(data.total, true)])}`,
  );
}

/** Iterations of arrival-rate and iteration-count scenarios; '' when none ran. */
function scenariosTable(data: ReportData): string {
  const scenarios = data.snapshot.scenarios ?? [];
  if (scenarios.length === 0) return '';
  const meta = new Map((data.meta.scenarios ?? []).map((m) => [m.name, m]));
  const at = (values: (number | null)[], p: number): Cell => num(formatMs(values[PERCENTILES_TO_REPORT.indexOf(p as never)] ?? null, '-'));
  return section(
    'Scenarios',
    `<p class="none">iteration_duration runs from each iteration's scheduled start to its end; dropped iterations found no free user (the pool was at maxUsers) and did not run.</p>\n${table(
      [text('Scenario'), text('Executor'), text('Load'), 'Iterations', 'Failed', 'Dropped', 'Interrupted', 'Not run', 'p50 (ms)', 'p95 (ms)', 'p99 (ms)', 'Max (ms)', 'Late p99 (ms)'],
      [...scenarios].sort((a, b) => a.name.localeCompare(b.name)).map((s) => {
        const d = scenarioPercentiles(s.duration);
        return {
          cells: [
            text(s.name), text(meta.get(s.name)?.executor ?? ''), text([meta.get(s.name)?.description ?? '', ...Object.entries(meta.get(s.name)?.tags ?? {}).map(([k, v]) => `${k}=${v}`)].filter((t) => t !== '').join(' · ')), num(s.iterations), num(s.failedIterations, s.failedIterations > 0),
            num(s.dropped, s.dropped > 0), num(s.interrupted, s.interrupted > 0), num(s.notRun ?? 0, (s.notRun ?? 0) > 0), at(d, 0.5), at(d, 0.95), at(d, 0.99), at(d, 1), at(scenarioPercentiles(s.lateness), 0.99),
          ],
        };
      }),
    )}`,
  );
}

function failuresTable(data: ReportData): string {
  const errors = [...data.snapshot.errors].sort((a, b) => b.occurrences - a.occurrences);
  if (errors.length === 0) return none('No failures.');
  return table(
    [kind('Method'), text('Name'), text('Error'), 'Occurrences', text('First seen'), text('Last seen')],
    errors.map((e) => ({
      cells: [kind(e.method), text(e.name), text(e.error), num(e.occurrences, true), text(formatDateTime(e.firstSeen * 1000)), text(formatDateTime(e.lastSeen * 1000))],
    })),
  );
}

function exceptionsTable(data: ReportData): string {
  const exceptions = [...data.snapshot.exceptions].sort((a, b) => b.count - a.count);
  if (exceptions.length === 0) return none('No exceptions.');
  return table(
    ['Count', text('Message'), text('Traceback'), text('Nodes')],
    exceptions.map((x) => ({
      cells: [num(x.count, true), text(x.msg), { text: `<pre>${escapeHtml(x.traceback)}</pre>`, kind: 'text', html: true }, text(x.nodes.join(', '))],
    })),
  );
}

function metaList(data: ReportData): string {
  const m = data.meta;
  const items: MetaItem[] = [
    { label: 'Start time', value: formatDateTime(m.startTime) },
    { label: 'End time', value: formatDateTime(m.endTime) },
    { label: 'Duration', value: formatDuration(m.endTime - m.startTime) },
    { label: 'Host', value: m.host === '' ? '-' : m.host },
    { label: 'Cicadafiles', value: m.cicadafiles.join(', ') || '-' },
    { label: 'State', value: m.state },
    { label: 'Users', value: String(m.userCount) },
    // After a stop the current count is 0: the peak says what the run was.
    { label: 'Peak users', value: String(Math.max(m.userCount, ...data.snapshot.history.map((h) => h.userCount))) },
    { label: 'Cicada version', value: m.cicadaVersion },
  ];
  const classes = Object.entries(m.userClassCounts);
  if (classes.length > 0) items.push({ label: 'Users per class', value: classes.map(([name, n]) => `${name}: ${n}`).join(', ') });
  // The verdict belongs with the run's facts: a reader sees "Thresholds: 1 of 4 failed" before any table.
  items.push(...gatesMeta(data));
  const dd = (i: MetaItem): string => `<dd${i.bad === true ? ' class="bad"' : ''}>${escapeHtml(i.value)}</dd>`;
  return `<dl class="meta">${items.map((i) => `<dt>${escapeHtml(i.label)}</dt>${dd(i)}`).join('')}</dl>`;
}

function ratioRows(nodes: Record<string, TaskRatioNode>, depth: number, rows: { cells: Cell[] }[]): void {
  for (const [name, node] of Object.entries(nodes)) {
    // Non-breaking spaces indent nested TaskSets; escaping happens in td().
    rows.push({ cells: [text(`${'\u00a0\u00a0\u00a0\u00a0'.repeat(depth)}${name}`), num(formatPercent(node.ratio))] });
    if (node.tasks) ratioRows(node.tasks, depth + 1, rows);
  }
}

function taskRatios(data: ReportData): string {
  const ratios = data.meta.taskRatios;
  if (!ratios) return '';
  const perClass: { cells: Cell[] }[] = [];
  ratioRows(ratios.perClass, 0, perClass);
  const total: { cells: Cell[] }[] = [];
  ratioRows(ratios.total, 0, total);
  return section(
    'Task ratios',
    `<h3>Per user class</h3>${table([text('Task'), 'Ratio'], perClass)}<h3>Total</h3>${table([text('Task'), 'Ratio'], total)}`,
  );
}

function charts(data: ReportData): string {
  const history = data.snapshot.history;
  const times = history.map((h) => h.time);
  const p50 = PERCENTILES_TO_REPORT.indexOf(0.5);
  const p95 = PERCENTILES_TO_REPORT.indexOf(0.95);
  const figure = (caption: string, svg: string): string => `<figure><figcaption>${escapeHtml(caption)}</figcaption>${svg}</figure>`;
  return `<div class="charts">
${figure('Total requests per second', lineChart({
    title: 'Requests and failures per second',
    unit: 'per second',
    times,
    series: [
      { label: 'RPS', color: '#2e7d32', values: history.map((h) => h.currentRps) },
      { label: 'Failures/s', color: '#c62828', values: history.map((h) => h.currentFailPerSec) },
    ],
  }))}
${figure('Response times (ms)', lineChart({
    title: 'Response time percentiles over time',
    unit: 'ms',
    times,
    series: [
      { label: '50th percentile', color: '#1565c0', reduce: 'max', values: history.map((h) => h.currentPercentiles[p50] ?? null) },
      { label: '95th percentile', color: '#ef6c00', reduce: 'max', values: history.map((h) => h.currentPercentiles[p95] ?? null) },
    ],
  }))}
${figure('Number of users', lineChart({
    title: 'Users over time',
    unit: 'users',
    times,
    series: [{ label: 'Users', color: '#6a1b9a', values: history.map((h) => h.userCount) }],
  }))}
</div>`;
}

/** The whole report as one HTML document. Every user-controlled string is escaped; the CSP forbids script. */
export function htmlReport(data: ReportData): string {
  const title = `Cicada report${data.meta.host ? ` – ${data.meta.host}` : ''}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>Cicada load test report</h1>
${metaList(data)}
${thresholdsSection(data)}
${checksSection(data)}
${section('Charts', charts(data))}
${section('Request statistics', requestStatsTable(data))}
${section('Response time percentiles (ms)', percentilesTable(data))}
${correctedTable(data)}
${scenariosTable(data)}
${section('Failures', failuresTable(data))}
${section('Exceptions', exceptionsTable(data))}
${taskRatios(data)}
<footer>Generated by Cicada ${escapeHtml(data.meta.cicadaVersion)} at ${escapeHtml(formatDateTime(data.snapshot.time))}. Times are UTC.</footer>
</body>
</html>
`;
}
