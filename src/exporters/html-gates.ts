// The HTML report's Thresholds and Checks sections, and their lines in the run summary at the top.
import { checkGroups, checkTotals, passRatio } from './check-groups.ts';
import { formatObserved, formatRatio } from './format.ts';
import { kind, num, section, table, text, type Row } from './html-table.ts';
import type { ReportData } from './report-data.ts';

/** One line of the run summary (`<dl class="meta">`); `bad` ones are shown in the failure colour. */
export interface MetaItem {
  label: string;
  value: string;
  bad?: boolean;
}

/** `Thresholds: 1 of 4 failed` (or `all 4 passed`) and `Checks: 99.19% of 1360 passed`, each only when the run has them. */
export function gatesMeta(data: ReportData): MetaItem[] {
  const items: MetaItem[] = [];
  const thresholds = data.thresholds ?? [];
  if (thresholds.length > 0) {
    const failed = thresholds.filter((t) => !t.ok).length;
    items.push(failed > 0 ? { label: 'Thresholds', value: `${failed} of ${thresholds.length} failed`, bad: true } : { label: 'Thresholds', value: `all ${thresholds.length} passed` });
  }
  const checks = data.snapshot.checks ?? [];
  if (checks.length > 0) {
    const { passes, total } = checkTotals(checks);
    items.push({ label: 'Checks', value: `${formatRatio(passRatio(passes, total))} of ${total} passed`, bad: passes < total });
  }
  return items;
}

/** Status, metric (tags included), expression, observed value and abort-on-fail of every threshold; '' when none. */
export function thresholdsSection(data: ReportData): string {
  const thresholds = data.thresholds ?? [];
  if (thresholds.length === 0) return '';
  const rows: Row[] = thresholds.map((t) => ({
    failed: !t.ok,
    cells: [
      { ...kind(t.ok ? '✓ passed' : '✗ failed'), bad: !t.ok },
      text(t.metric),
      text(t.expression),
      num(formatObserved(t.observed, t.unit), !t.ok),
      text(t.abortOnFail ? 'yes' : 'no'),
    ],
  }));
  return section(
    'Thresholds',
    `<p class="none">A threshold without data yet passes, as in k6; a failed one makes the run exit with code 99.</p>\n${table(
      [kind('Status'), text('Metric'), text('Expression'), 'Observed', text('Abort on fail')],
      rows,
    )}`,
  );
}

/**
 * One row per check and request name, grouped by check in the order the checks first ran, with a
 * bold total row for a check evaluated on several request names; '' when no check ran.
 */
export function checksSection(data: ReportData): string {
  const checks = data.snapshot.checks ?? [];
  if (checks.length === 0) return '';
  const row = (name: string, request: string, passes: number, fails: number, lastError: string, total: boolean): Row => ({
    total,
    failed: fails > 0,
    cells: [text(name), text(request), num(passes), num(fails, fails > 0), num(formatRatio(passRatio(passes, passes + fails)), fails > 0), text(lastError)],
  });
  const rows: Row[] = [];
  for (const g of checkGroups(checks)) {
    for (const c of g.requests) rows.push(row(c.name, c.request === '' ? '(no request name)' : c.request, c.passes, c.fails, c.lastError ?? '', false));
    if (g.requests.length > 1) rows.push(row(g.name, 'all requests', g.passes, g.fails, '', true));
  }
  return section('Checks', table([text('Check'), text('Request'), 'Passes', 'Fails', 'Pass %', text('Last error')], rows));
}
