// `--junit FILE`: the run's thresholds and checks as JUnit XML, for the test reports of GitLab, Jenkins and GitHub.
import type { ThresholdResult } from '../stats/types.ts';
import { checkGroups, type CheckGroup } from './check-groups.ts';
import { formatObserved } from './format.ts';
import type { ReportData, RunEnd } from './report-data.ts';

/**
 * Everything XML 1.0 forbids: C0 controls but tab, LF and CR, U+FFFE, U+FFFF, and lone surrogates (with
 * the `u` flag a valid pair is one code point, so only a lone half matches D800-DFFF). They cannot even
 * be written as character references, so they are dropped: a user-controlled name holding one must never
 * make the whole report unreadable.
 */
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/gu;

/** CR is a reference even in text: a parser reads a raw one as a line feed. */
const TEXT_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };

/** Attributes also escape quotes, tab and LF, which a parser would otherwise normalise to spaces. */
const ATTRIBUTE_ESCAPES: Readonly<Record<string, string>> = { ...TEXT_ESCAPES, '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;' };

/** Text safe as XML element content. */
export function xmlText(value: string | number): string {
  return String(value).replace(FORBIDDEN, '').replace(/[&<>\r]/g, (ch) => TEXT_ESCAPES[ch] ?? ch);
}

/** Text safe inside a double- or single-quoted XML attribute, line breaks kept. */
export function xmlAttribute(value: string | number): string {
  return String(value).replace(FORBIDDEN, '').replace(/[&<>"'\t\n\r]/g, (ch) => ATTRIBUTE_ESCAPES[ch] ?? ch);
}

function attributes(pairs: Record<string, string | number | undefined>): string {
  return Object.entries(pairs)
    .filter((pair): pair is [string, string | number] => pair[1] !== undefined)
    .map(([name, value]) => ` ${name}="${xmlAttribute(value)}"`)
    .join('');
}

/** One test case of a suite: its name, and a failure message and details when it failed. */
interface Case {
  name: string;
  classname: string;
  failure?: { message: string; type: string; details: string };
  out?: string;
}

function testcase(c: Case): string {
  const open = `    <testcase${attributes({ name: c.name, classname: c.classname, time: 0 })}`;
  const body: string[] = [];
  if (c.failure) body.push(`      <failure${attributes({ message: c.failure.message, type: c.failure.type })}>${xmlText(c.failure.details)}</failure>`);
  if (c.out !== undefined) body.push(`      <system-out>${xmlText(c.out)}</system-out>`);
  return body.length === 0 ? `${open}/>` : `${open}>\n${body.join('\n')}\n    </testcase>`;
}

function thresholdCase(t: ThresholdResult): Case {
  const name = `${t.metric} ${t.expression}`;
  const base = { name, classname: 'cicada.thresholds' };
  // `ok` decides, not `observed`: the report must agree with the exit code even if no data ever failed a threshold.
  if (t.ok) return t.observed === null ? { ...base, out: `no data: ${t.metric} had no samples, so ${t.expression} passes (as in k6)` } : base;
  const message = `${t.expression} failed: observed ${formatObserved(t.observed, t.unit)}`;
  const details = [`${name} failed: observed ${formatObserved(t.observed, t.unit)}`, ...(t.abortOnFail ? ['abortOnFail: crossing it stops the run'] : [])];
  return { ...base, failure: { message, type: 'threshold', details: details.join('\n') } };
}

function checkCase(group: CheckGroup): Case {
  const base = { name: group.name, classname: 'cicada.checks' };
  if (group.fails === 0) return base;
  const lines = group.requests.map((r) => {
    const line = `${r.request === '' ? '(no request name)' : r.request}: ${r.fails} of ${r.passes + r.fails} failed`;
    return r.lastError !== undefined ? `${line}; last error: ${r.lastError}` : line;
  });
  return { ...base, failure: { message: `${group.fails} of ${group.passes + group.fails} failed`, type: 'check', details: lines.join('\n') } };
}

/** ISO 8601 in UTC to the second (`2024-05-01T12:00:00Z`), the form Jenkins, GitLab and Ant read; undefined when unknown. */
function timestamp(epochMs: number): string | undefined {
  return Number.isFinite(epochMs) && epochMs > 0 ? new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined;
}

interface SuiteContext {
  time: string;
  timestamp: string | undefined;
  properties: [string, string | number][];
}

function testsuite(name: string, cases: Case[], context: SuiteContext): string {
  const failures = cases.filter((c) => c.failure !== undefined).length;
  const head = `  <testsuite${attributes({ name, tests: cases.length, failures, errors: 0, skipped: 0, time: context.time, timestamp: context.timestamp })}>`;
  const properties = context.properties.map(([key, value]) => `      <property${attributes({ name: key, value })}/>`);
  return [head, '    <properties>', ...properties, '    </properties>', ...cases.map(testcase), '  </testsuite>'].join('\n');
}

/**
 * The JUnit XML of a finished run, so CI shows each threshold and check as a test: a `cicada
 * thresholds` suite (one test case per threshold; a failed one names its observed value) and a
 * `cicada checks` suite (one per check name, failing when any check of that name failed). Both suites
 * are always there, empty when the run had none; each carries the run's exit code as a property.
 */
export function junitReport(data: ReportData, end: RunEnd): string {
  const m = data.meta;
  const context: SuiteContext = {
    time: Math.max(0, (m.endTime - m.startTime) / 1000).toFixed(3),
    timestamp: timestamp(m.startTime),
    properties: [['cicada.exit_code', end.exitCode], ['cicada.host', m.host], ['cicada.version', m.cicadaVersion]],
  };
  const thresholds = (data.thresholds ?? []).map(thresholdCase);
  const checks = checkGroups(data.snapshot.checks ?? []).map(checkCase);
  const all = [...thresholds, ...checks];
  const failures = all.filter((c) => c.failure !== undefined).length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attributes({ name: 'cicada', tests: all.length, failures, errors: 0, time: context.time })}>`,
    testsuite('cicada thresholds', thresholds, context),
    testsuite('cicada checks', checks, context),
    '</testsuites>',
    '',
  ].join('\n');
}
