// Tests of the HTML report: content, escaping of hostile strings, no script and no network references.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml } from './escape-html.ts';
import { gatedReportData, history, HOSTILE, hostileGatedReportData, hostileReportData, reportData } from './fixtures.test-helper.ts';
import { htmlReport } from './html.ts';

describe('escapeHtml', () => {
  it('escapes & < > " and \'', () => {
    assert.equal(escapeHtml(`&<>"'`), '&amp;&lt;&gt;&quot;&#39;');
  });
});

describe('htmlReport', () => {
  it('never wraps the Type column (regression: POS/T at 1400 and 1920 px)', () => {
    const html = htmlReport(reportData());
    assert.match(html, /th\.kind, td\.kind \{ text-align: left; white-space: nowrap; \}/);
    assert.match(html, /<th class="kind">Type<\/th>/);
    assert.match(html, /<td class="kind">POST<\/td>/);
    assert.doesNotMatch(html, /<td class="text">POST<\/td>/);
  });

  it('is one complete document with a strict CSP and inline style', () => {
    const html = htmlReport(reportData());
    assert.ok(html.startsWith('<!doctype html>'));
    assert.ok(html.includes(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`));
    assert.ok(html.includes('<style>'));
    assert.ok(html.trimEnd().endsWith('</html>'));
  });

  it('holds request, percentile, failure and exception tables and the run metadata', () => {
    const html = htmlReport(reportData());
    for (const heading of ['Request statistics', 'Response time percentiles (ms)', 'Failures', 'Exceptions', 'Charts']) {
      assert.ok(html.includes(`<h2>${heading}</h2>`), heading);
    }
    assert.ok(html.includes('<td class="text">/items/[id]</td>'));
    assert.ok(html.includes('<td class="text">HTTP 503</td>'));
    assert.ok(html.includes('at Shopper.buy (cicadafile.ts:12:5)'));
    assert.ok(html.includes('<dd>2024-05-01 12:00:00 UTC</dd>'));
    assert.ok(html.includes('<dd>1m00s</dd>'));
    assert.ok(html.includes('<dd>cicadafile.ts</dd>'));
    assert.ok(html.includes('<dd>0.1.0</dd>'));
    assert.ok(html.includes('<dd>Shopper: 75, Browser: 25</dd>'));
    assert.ok(html.includes('<th>99.99%</th>'));
  });

  it('shows the scenarios of arrival-rate and iteration-count runs (names as text), and nothing of them otherwise', () => {
    assert.doesNotMatch(htmlReport(reportData()), /<h2>Scenarios<\/h2>/);
    const base = reportData();
    const data = {
      ...base,
      snapshot: { ...base.snapshot, scenarios: [{ name: `<b>${HOSTILE}</b>`, iterations: 1200, failedIterations: 0, dropped: 7, interrupted: 1, duration: { indices: [100], counts: [1200] }, lateness: { indices: [1], counts: [1200] } }] },
      meta: { ...base.meta, scenarios: [{ name: `<b>${HOSTILE}</b>`, executor: 'constant-arrival-rate', description: '20 iterations per 1 s for 60 s' }] },
    };
    const html = htmlReport(data);
    assert.match(html, /<h2>Scenarios<\/h2>/);
    assert.ok(html.includes('<td class="text">constant-arrival-rate</td>'));
    assert.ok(html.includes('<td class="num bad">7</td>') || html.includes('<td class="bad">7</td>'), 'dropped iterations stand out');
    assert.ok(!html.includes(`<b>${HOSTILE}`), 'a scenario name stays text');
  });

  it('shows a Thresholds table with status, metric, expression, observed value and abort on fail, the failed row marked', () => {
    const html = htmlReport(gatedReportData());
    assert.ok(html.includes('<h2>Thresholds</h2>'));
    assert.ok(html.includes('<tr><td class="kind">✓ passed</td><td class="text">response_time</td><td class="text">p(95)&lt;300</td><td>120 ms</td><td class="text">no</td></tr>'));
    assert.ok(html.includes(
      '<tr class="failed"><td class="kind bad">✗ failed</td><td class="text">response_time{name:/items/[id]}</td><td class="text">p(99)&lt;200</td><td class="bad">260 ms</td><td class="text">yes</td></tr>',
    ));
    assert.ok(html.includes('<td class="text">value&lt;0.05</td><td>1.00%</td>'));
    assert.ok(html.includes('<td class="text">count&gt;0</td><td>no data</td>'));
    assert.equal(html.match(/<tr class="failed"><td class="kind bad">/g)?.length, 1, 'only the broken threshold is marked');
    assert.match(html, /tr\.failed td \{ background: var\(--bad-bg\); \}/);
  });

  it('shows a Checks table per check and request name, with a total row for a check on several requests and the last error', () => {
    const html = htmlReport(gatedReportData());
    assert.ok(html.includes('<h2>Checks</h2>'));
    assert.ok(html.includes('<tr class="failed"><td class="text">status is 200</td><td class="text">/items/[id]</td><td>370</td><td class="bad">10</td><td class="bad">97.37%</td><td class="text"></td></tr>'));
    assert.ok(html.includes('<tr><td class="text">status is 200</td><td class="text">/</td><td>600</td><td>0</td><td>100.00%</td><td class="text"></td></tr>'));
    assert.ok(html.includes('<tr class="total failed"><td class="text">status is 200</td><td class="text">all requests</td><td>970</td><td class="bad">10</td><td class="bad">98.98%</td>'));
    assert.ok(html.includes(
      '<tr class="failed"><td class="text">has an id</td><td class="text">/items/[id]</td><td>379</td><td class="bad">1</td><td class="bad">99.74%</td><td class="text">TypeError: Cannot read properties of null (reading &#39;id&#39;)</td></tr>',
    ));
    assert.doesNotMatch(html, /has an id<\/td><td class="text">all requests/, 'a check on one request name needs no total row');
  });

  it('says in the summary at the top how many thresholds failed and how many checks passed', () => {
    const html = htmlReport(gatedReportData());
    assert.ok(html.includes('<dt>Thresholds</dt><dd class="bad">1 of 4 failed</dd>'));
    // 1349 passes of 1360 evaluations.
    assert.ok(html.includes('<dt>Checks</dt><dd class="bad">99.19% of 1360 passed</dd>'));
    const passed = gatedReportData();
    passed.thresholds = passed.thresholds!.map((t) => ({ ...t, ok: true }));
    passed.snapshot.checks = [{ name: 'status is 200', request: '/', passes: 600, fails: 0 }];
    const html2 = htmlReport(passed);
    assert.ok(html2.includes('<dt>Thresholds</dt><dd>all 4 passed</dd>'));
    assert.ok(html2.includes('<dt>Checks</dt><dd>100.00% of 600 passed</dd>'));
    assert.doesNotMatch(html2, /class="failed"/);
  });

  it('has no Thresholds or Checks section or summary line for a run without them', () => {
    const html = htmlReport(reportData());
    assert.doesNotMatch(html, /<h2>Thresholds<\/h2>|<h2>Checks<\/h2>|<dt>Thresholds<\/dt>|<dt>Checks<\/dt>/);
  });

  it('renders hostile threshold metrics, check names, request names and errors only as text', () => {
    const html = htmlReport(hostileGatedReportData());
    const escaped = escapeHtml(HOSTILE);
    assert.ok(!html.includes(HOSTILE));
    assert.ok(!html.includes('<img'));
    assert.ok(html.includes(`<td class="text">response_time{name:${escaped}}</td>`));
    assert.ok(html.includes(`<td class="text">${escaped}</td><td class="text">${escaped}</td><td>370</td>`), 'check and request names');
    assert.ok(html.includes(`<td class="bad">99.74%</td><td class="text">${escaped}</td></tr>`), 'the last error');
  });

  it('draws three SVG charts: requests and failures per second, p50 and p95, users', () => {
    const html = htmlReport(reportData());
    assert.equal(html.match(/<svg /g)?.length, 3);
    for (const label of ['RPS', 'Failures/s', '50th percentile', '95th percentile', 'Users']) assert.ok(html.includes(`<title>${label}</title>`), label);
  });

  it('gives the peak user count, which a stopped run\'s current count (0) does not show', () => {
    const html = htmlReport(reportData({ meta: { userCount: 0, state: 'stopped' } }));
    assert.match(html, /<dt>Peak users<\/dt><dd>100<\/dd>/);
  });

  it('shows task ratios when the run has them', () => {
    const data = reportData({ meta: { taskRatios: { perClass: { Shopper: { ratio: 1, tasks: { browse: { ratio: 0.75 } } } }, total: { Shopper: { ratio: 1 } } } } });
    const html = htmlReport(data);
    assert.ok(html.includes('<h2>Task ratios</h2>'));
    assert.ok(html.includes('75.00%'));
  });

  it('renders a hostile name only escaped, everywhere it appears', () => {
    const html = htmlReport(hostileReportData());
    assert.ok(!html.includes('<img'));
    assert.ok(!html.includes('</script><img'));
    assert.ok(!html.includes('<svg onload'));
    assert.ok(!html.includes(HOSTILE));
    assert.ok(html.includes('&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(html.includes('&quot;&#39;&gt;&lt;svg onload=alert(1)&gt;&amp;amp;'));
  });

  it('contains no script at all and no network references except the escaped host text', () => {
    for (const data of [reportData(), hostileReportData(), hostileGatedReportData()]) {
      const html = htmlReport(data);
      assert.ok(!/<script/i.test(html));
      assert.ok(!/\son[a-z]+=/i.test(html.replace(/&lt;[^]*?&gt;/g, '')), 'no event handler attributes outside escaped text');
      const hostText = escapeHtml(data.meta.host);
      const rest = html.split(hostText).join('');
      assert.ok(!/https?:\/\//i.test(rest), 'only the host field may mention http(s)://');
      assert.ok(!/\b(src|href)=/i.test(rest.replace(/&lt;[^]*?&gt;/g, '')), 'nothing is loaded from anywhere');
    }
  });

  it('stays bounded for a long run by downsampling each chart to at most 1000 points', () => {
    const data = reportData({ snapshot: { history: history(20_000) } });
    const html = htmlReport(data);
    for (const d of html.matchAll(/<path d="([^"]*)"/g)) {
      const points = (d[1] ?? '').split(/[ML]/).filter((p) => p.trim() !== '').length;
      assert.ok(points <= 1000, `${points} points`);
    }
    assert.ok(html.length < 1_000_000, `${html.length} bytes`);
  });

  it('renders a run without requests or history without NaN or undefined', () => {
    const data = reportData({ entries: [], snapshot: { history: [], errors: [], exceptions: [] } });
    const html = htmlReport(data);
    assert.ok(!/NaN|undefined|Infinity/.test(html));
    assert.ok(html.includes('No failures.'));
    assert.ok(html.includes('no data yet'));
  });
});
