// Tests of the JUnit report: valid against Jenkins' JUnit schema, and saying what the thresholds and checks did.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { validateXML } from 'xmllint-wasm';
import { gatedReportData, HOSTILE, hostileGatedReportData, reportData } from './fixtures.test-helper.ts';
import { junitReport, xmlAttribute, xmlText } from './junit.ts';

const xsdPath = path.resolve(import.meta.dirname, '../../test/fixtures/junit.xsd');

/** Validates against test/fixtures/junit.xsd with libxml2 (well-formedness included); the error messages, [] when valid. */
async function schemaErrors(xml: string): Promise<string[]> {
  const schema = await readFile(xsdPath, 'utf8');
  const result = await validateXML({ xml: [{ fileName: 'report.xml', contents: xml }], schema: [{ fileName: 'junit.xsd', contents: schema }] });
  return result.valid ? [] : result.errors.map((e) => e.rawMessage);
}

/** An element of the parsed report: its attributes and text decoded, as a reader of the XML sees them. */
interface XmlNode {
  tag: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

function decode(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text.replace(/&(#\d+|\w+);/g, (whole, ref: string) => (ref.startsWith('#') ? String.fromCodePoint(Number(ref.slice(1))) : (named[ref] ?? whole)));
}

/**
 * A small parser for the subset junitReport writes (a declaration, elements, double-quoted attributes,
 * text). It throws on anything else, so a stray `<` or `"` in the output fails the test rather than parsing.
 */
function parseXml(xml: string): XmlNode {
  const root: XmlNode = { tag: '#document', attrs: {}, children: [], text: '' };
  const stack = [root];
  const token = /<\?xml [^?]*\?>|<(\/?)([\w.-]+)([^<>]*?)(\/?)>|([^<]+)/gy;
  let match: RegExpExecArray | null;
  while (token.lastIndex < xml.length && (match = token.exec(xml)) !== null) {
    const [, closing, tag, attrText = '', selfClosing, text] = match;
    const top = stack[stack.length - 1]!;
    if (text !== undefined) top.text += decode(text);
    else if (tag === undefined) continue;
    else if (closing === '/') {
      assert.equal(top.tag, tag, `</${tag}> closes <${top.tag}>`);
      stack.pop();
    } else {
      const attrs: Record<string, string> = {};
      const attribute = /\s+([\w.-]+)="([^"<]*)"/y;
      let pair: RegExpExecArray | null;
      let consumed = 0;
      while ((pair = attribute.exec(attrText)) !== null) {
        attrs[pair[1]!] = decode(pair[2]!);
        consumed = attribute.lastIndex;
      }
      assert.equal(attrText.slice(consumed).trim(), '', `<${tag}> has only well-quoted attributes`);
      const node: XmlNode = { tag, attrs, children: [], text: '' };
      top.children.push(node);
      if (selfClosing !== '/') stack.push(node);
    }
  }
  assert.equal(token.lastIndex, xml.length, `unparsed XML at ${token.lastIndex}: ${xml.slice(token.lastIndex, token.lastIndex + 40)}`);
  assert.equal(stack.length, 1, 'every element is closed');
  assert.equal(root.children.length, 1, 'one root element');
  return root.children[0]!;
}

const kids = (node: XmlNode, tag: string): XmlNode[] => node.children.filter((c) => c.tag === tag);
function kid(node: XmlNode, tag: string): XmlNode {
  const [first] = kids(node, tag);
  assert.ok(first, `<${node.tag}> has a <${tag}>`);
  return first;
}
function suite(report: XmlNode, name: string): XmlNode {
  const found = kids(report, 'testsuite').find((s) => s.attrs.name === name);
  assert.ok(found, `a testsuite named ${name}`);
  return found;
}
const caseNamed = (s: XmlNode, name: string): XmlNode | undefined => kids(s, 'testcase').find((c) => c.attrs.name === name);
const properties = (s: XmlNode): Record<string, string> =>
  Object.fromEntries(kids(kid(s, 'properties'), 'property').map((p): [string, string] => [p.attrs.name ?? '', p.attrs.value ?? '']));

describe('junitReport', () => {
  it('is valid JUnit XML for a run with thresholds and checks', async () => {
    assert.deepEqual(await schemaErrors(junitReport(gatedReportData(), { exitCode: 99 })), []);
  });

  it('counts tests and failures on the root and on each suite, with the run time and start', () => {
    const report = parseXml(junitReport(gatedReportData(), { exitCode: 99 }));
    assert.equal(report.tag, 'testsuites');
    assert.deepEqual(report.attrs, { name: 'cicada', tests: '6', failures: '3', errors: '0', time: '60.000' });
    const thresholds = suite(report, 'cicada thresholds');
    assert.equal(thresholds.attrs.tests, '4');
    assert.equal(thresholds.attrs.failures, '1');
    assert.equal(thresholds.attrs.timestamp, '2024-05-01T12:00:00Z');
    assert.equal(thresholds.attrs.time, '60.000');
    const checks = suite(report, 'cicada checks');
    assert.equal(checks.attrs.tests, '2');
    assert.equal(checks.attrs.failures, '2');
    for (const s of [thresholds, checks]) assert.equal(properties(s)['cicada.exit_code'], '99');
  });

  it('names each threshold test case by metric and expression, and a failed one by its observed value', () => {
    const thresholds = suite(parseXml(junitReport(gatedReportData(), { exitCode: 99 })), 'cicada thresholds');
    assert.deepEqual(kids(thresholds, 'testcase').map((c) => c.attrs.name), [
      'response_time p(95)<300', 'response_time{name:/items/[id]} p(99)<200', 'fail_ratio value<0.05', 'requests{name:/never} count>0',
    ]);
    assert.ok(kids(thresholds, 'testcase').every((c) => c.attrs.classname === 'cicada.thresholds'));
    const failed = caseNamed(thresholds, 'response_time{name:/items/[id]} p(99)<200');
    assert.ok(failed);
    const failure = kid(failed, 'failure');
    assert.deepEqual(failure.attrs, { message: 'p(99)<200 failed: observed 260 ms', type: 'threshold' });
    assert.match(failure.text, /abortOnFail/);
    assert.equal(kids(caseNamed(thresholds, 'response_time p(95)<300')!, 'failure').length, 0);
  });

  it('passes a threshold without data and says so', () => {
    const thresholds = suite(parseXml(junitReport(gatedReportData(), { exitCode: 0 })), 'cicada thresholds');
    const noData = caseNamed(thresholds, 'requests{name:/never} count>0');
    assert.ok(noData);
    assert.equal(kids(noData, 'failure').length, 0);
    assert.match(kid(noData, 'system-out').text, /^no data: requests\{name:\/never\} had no samples/);
  });

  it('sums each check over its request names and splits a failure by request, with the last error', () => {
    const checks = suite(parseXml(junitReport(gatedReportData(), { exitCode: 99 })), 'cicada checks');
    assert.deepEqual(kids(checks, 'testcase').map((c) => c.attrs.name), ['status is 200', 'has an id']);
    const status = kid(caseNamed(checks, 'status is 200')!, 'failure');
    assert.deepEqual(status.attrs, { message: '10 of 980 failed', type: 'check' });
    assert.equal(status.text, '/items/[id]: 10 of 380 failed\n/: 0 of 600 failed');
    const id = kid(caseNamed(checks, 'has an id')!, 'failure');
    assert.equal(id.attrs.message, '1 of 380 failed');
    assert.equal(id.text, "/items/[id]: 1 of 380 failed; last error: TypeError: Cannot read properties of null (reading 'id')");
  });

  it('passes a check that never failed and names a check without a request name', () => {
    const data = gatedReportData();
    data.snapshot.checks = [{ name: 'ok', request: '', passes: 5, fails: 0 }, { name: 'anon', request: '', passes: 1, fails: 2 }];
    const checks = suite(parseXml(junitReport(data, { exitCode: 0 })), 'cicada checks');
    assert.equal(kids(caseNamed(checks, 'ok')!, 'failure').length, 0);
    assert.equal(kid(caseNamed(checks, 'anon')!, 'failure').text, '(no request name): 2 of 3 failed');
  });

  it('writes both suites, empty, for a run without thresholds or checks', async () => {
    const xml = junitReport(reportData(), { exitCode: 0 });
    assert.deepEqual(await schemaErrors(xml), []);
    const report = parseXml(xml);
    assert.equal(report.attrs.tests, '0');
    for (const name of ['cicada thresholds', 'cicada checks']) {
      const s = suite(report, name);
      assert.deepEqual([s.attrs.tests, s.attrs.failures, kids(s, 'testcase').length], ['0', '0', 0]);
      assert.equal(properties(s)['cicada.exit_code'], '0');
    }
  });

  it('keeps hostile threshold, check and run strings as text: valid, and read back exactly', async () => {
    const data = hostileGatedReportData();
    data.meta.host = `http://evil.test/${HOSTILE}`;
    data.meta.cicadaVersion = `${HOSTILE}"'&`;
    const xml = junitReport(data, { exitCode: 99 });
    assert.deepEqual(await schemaErrors(xml), []);
    assert.ok(!xml.includes('</script>') && !xml.includes('<img'), 'no markup of the input survives unescaped');
    const report = parseXml(xml);
    const thresholds = suite(report, 'cicada thresholds');
    assert.equal(kids(thresholds, 'testcase')[0]?.attrs.name, `response_time{name:${HOSTILE}} p(95)<300`);
    assert.equal(properties(thresholds)['cicada.host'], `http://evil.test/${HOSTILE}`);
    assert.equal(properties(thresholds)['cicada.version'], `${HOSTILE}"'&`);
    const [check, ...others] = kids(suite(report, 'cicada checks'), 'testcase');
    assert.equal(others.length, 0, 'the three hostile checks share one name');
    assert.equal(check?.attrs.name, HOSTILE);
    assert.equal(kid(check, 'failure').attrs.message, '11 of 1360 failed');
    assert.equal(kid(check, 'failure').text, `${HOSTILE}: 10 of 380 failed\n${HOSTILE}: 0 of 600 failed\n${HOSTILE}: 1 of 380 failed; last error: ${HOSTILE}`);
  });

  it('drops the characters XML 1.0 forbids and keeps tabs and line breaks in attributes', async () => {
    const data = gatedReportData();
    data.snapshot.checks = [{ name: 'a\u0000b\u001b[31mc\uFFFEd\uD800e\tf\ng\r\u{1F41B}', request: 'r\u0007', passes: 0, fails: 1, lastError: 'x\u0008y]]>z\r\n' }];
    const xml = junitReport(data, { exitCode: 1 });
    assert.deepEqual(await schemaErrors(xml), []);
    const check = kids(suite(parseXml(xml), 'cicada checks'), 'testcase')[0];
    assert.equal(check?.attrs.name, 'ab[31mcde\tf\ng\r\u{1F41B}');
    assert.equal(kid(check, 'failure').text, 'r: 1 of 1 failed; last error: xy]]>z\r\n');
  });

  it('is checked by a live validator: a report missing a required attribute is refused', async () => {
    const broken = junitReport(gatedReportData(), { exitCode: 99 }).replace(/(<testsuite name="cicada checks") tests="\d+"/, '$1');
    assert.match((await schemaErrors(broken)).join('\n'), /attribute 'tests' is required/);
    assert.notDeepEqual(await schemaErrors('<testsuites><testsuite tests="0"><bogus/></testsuite></testsuites>'), []);
  });
});

describe('XML escaping', () => {
  it('escapes markup in text and quotes and whitespace in attributes', () => {
    assert.equal(xmlText(`a<b>&"'\n\r`), `a&lt;b&gt;&amp;"'\n&#13;`);
    assert.equal(xmlAttribute(`a<b>&"'\t\n\r`), 'a&lt;b&gt;&amp;&quot;&apos;&#9;&#10;&#13;');
  });
});
