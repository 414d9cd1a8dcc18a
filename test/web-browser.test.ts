// The web UI in Debian's chromium (playwright-core) against a real `cicada` process and a real target on 127.0.0.1, and against a server with fixed thresholds and checks.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { gatedReportData, HOSTILE as HOSTILE_REPORT, hostileGatedReportData, view } from '../src/exporters/fixtures.test-helper.ts';
import type { ReportData } from '../src/exporters/report-data.ts';
import { browserMissing, launchBrowser, newPage, screenshotPath, startAttackerSite, WEB_USERS, writeUsersFile } from './browser-helpers.ts';
import { fixture, freePort, repoRoot, startCli, startCountingTarget, type CliRun, type CountingTarget } from './helpers.ts';
import { startTestServer, type TestServer } from './web-helpers.ts';

const skip = browserMissing();
const HOSTILE = ['<img src=x onerror=window.__xss=1>', '</script><script>window.__xss=1</script>', '"><svg onload=window.__xss=1>'];

async function logIn(page: Page, url: string, [name, password]: readonly [string, string]): Promise<void> {
  await page.goto(url);
  await page.getByTestId('login-username').fill(name);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('header-user').waitFor();
}

async function numberIn(page: Page, selector: string): Promise<number> {
  const text = (await page.locator(selector).first().textContent()) ?? '';
  return Number(text.replace(/[^\d.]/g, ''));
}

/** The Aggregated row's request count in the stats table. */
function totalRequests(page: Page): Promise<number> {
  return numberIn(page, '[data-testid="stats-total"] td:nth-child(3)');
}

async function until(check: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('web UI in a browser (users file, one process)', { skip }, () => {
  let target: CountingTarget;
  let cicada: CliRun;
  let url: string;
  let browser: Browser;
  before(async () => {
    target = await startCountingTarget();
    const port = await freePort();
    cicada = startCli(['-f', fixture('hostile.ts'), '--web-port', String(port), '--web-users', await writeUsersFile()], { timeoutMs: 170_000 });
    await cicada.waitFor('web UI:');
    url = `http://127.0.0.1:${port}`;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    cicada?.kill('SIGTERM');
    await cicada?.done;
    await target?.close();
  });

  it('an admin logs in, starts a run, watches table and charts update, changes the users, stops and downloads the report', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const { page, problems } = await newPage(context);
    await logIn(page, url, WEB_USERS.admin);
    assert.match((await page.getByTestId('header-user').textContent()) ?? '', /ada.*admin/);

    await page.getByTestId('start-users').fill('3');
    await page.getByTestId('start-spawn-rate').fill('10');
    await page.getByTestId('start-host').fill(target.url);
    await page.getByTestId('start-submit').click();
    await until(async () => ((await page.getByTestId('header-state').textContent()) ?? '').toLowerCase().includes('running'), 'the running state');

    await until(async () => (await totalRequests(page)) > 0, 'requests in the table');
    const first = await totalRequests(page);
    await until(async () => (await totalRequests(page)) > first, 'the table to update');
    assert.ok((await page.getByTestId('stats-row').count()) >= 3);

    await page.getByTestId('edit-button').click();
    await page.getByTestId('edit-users').fill('5');
    await page.getByTestId('edit-submit').click();
    await until(async () => /\b5\b/.test((await page.getByTestId('header-users').textContent()) ?? ''), 'five users in the header');

    await page.getByTestId('tab-charts').click();
    for (const chart of ['chart-rps', 'chart-response-times', 'chart-users']) {
      const canvas = page.getByTestId(chart).locator('canvas').first();
      await canvas.waitFor();
      const box = await canvas.boundingBox();
      assert.ok(box && box.width > 100 && box.height > 50, `${chart} is drawn (${JSON.stringify(box)})`);
    }
    await new Promise((r) => setTimeout(r, 2500));
    const shot = await screenshotPath('dashboard-charts.png');
    await page.screenshot({ path: shot, fullPage: true });
    await page.getByTestId('tab-stats').click();
    const statsShot = await screenshotPath('dashboard-stats.png');
    await page.screenshot({ path: statsShot, fullPage: true });
    console.log(`screenshots of the running dashboard: ${shot}, ${statsShot}`);

    await page.getByTestId('stop-button').click();
    await until(async () => ((await page.getByTestId('header-state').textContent()) ?? '').toLowerCase().includes('stopped'), 'the stopped state');
    const counted = await totalRequests(page);
    assert.ok(counted > 0);

    await page.getByTestId('tab-downloads').click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-report').click()]);
    // Saved under its suggested .html name: the browser then opens it as a page, as a user would.
    const file = await screenshotPath(download.suggestedFilename());
    await download.saveAs(file);
    const report = await readFile(file, 'utf8');
    assert.match(report, /<html/);
    assert.match(download.suggestedFilename(), /^cicada_report_.*\.html$/);

    // The downloaded report, opened from disk, runs no script either.
    const local = await context.newPage();
    await local.goto(pathToFileURL(file).href);
    assert.equal(await local.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss), undefined);
    for (const payload of HOSTILE) assert.ok((await local.locator('body').textContent())?.includes(payload), `the report shows ${payload} as text`);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('hostile request names, errors and exceptions stay inert text in the live UI', async () => {
    const context = await browser.newContext();
    const { page, problems } = await newPage(context);
    let dialogs = 0;
    page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });
    await logIn(page, url, WEB_USERS.operator);
    const table = page.getByTestId('stats-table');
    await table.waitFor();
    for (const payload of HOSTILE) await page.getByTestId('stats-table').getByText(payload, { exact: true }).first().waitFor();
    await page.getByTestId('tab-failures').click();
    await page.getByTestId('failures-table').getByText('<b onmouseover=window.__xss=1>bold</b> failed', { exact: false }).first().waitFor();
    await page.getByTestId('tab-exceptions').click();
    await page.getByTestId('exceptions-list').getByText('<iframe src=javascript:window.__xss=1>', { exact: false }).first().waitFor();
    assert.equal(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss), undefined);
    assert.equal(await page.locator('img[src="x"], svg[onload], iframe, b[onmouseover]').count(), 0, 'no element was made from the payloads');
    assert.equal(dialogs, 0);
    // An operator may not download reports: the tab is not offered.
    assert.equal(await page.getByTestId('tab-downloads').count(), 0);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('a viewer sees no controls, and the API refuses a start from the viewer\'s own page', async () => {
    const context = await browser.newContext();
    const { page } = await newPage(context);
    await logIn(page, url, WEB_USERS.viewer);
    await page.getByTestId('stats-table').waitFor();
    for (const control of ['start-submit', 'start-form', 'edit-button', 'stop-button', 'reset-button', 'new-test-button']) {
      assert.equal(await page.getByTestId(control).count(), 0, `${control} is not shown to a viewer`);
    }
    const status = await page.evaluate(async () => {
      const session = (await (await fetch('/session')).json()) as { csrfToken: string };
      const res = await fetch('/swarm', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken }, body: JSON.stringify({ user_count: 1, spawn_rate: 1 }) });
      return res.status;
    });
    assert.equal(status, 403);
    await context.close();
  });

  it('a cross-site form on a page from 127.0.0.2 cannot start a run, even for a logged-in admin', async () => {
    const context = await browser.newContext();
    const { page } = await newPage(context);
    await logIn(page, url, WEB_USERS.admin);
    const state = async (): Promise<string> => ((await page.getByTestId('header-state').textContent()) ?? '').toLowerCase();
    await until(async () => (await state()).includes('stopped') || (await state()).includes('ready'), 'an idle run');
    const before = target.total();
    const attacker = await startAttackerSite(`${url}/swarm`, { user_count: '50', spawn_rate: '50', host: target.url });
    const evil = await context.newPage();
    const response = evil.waitForResponse((r) => r.url().startsWith(`${url}/swarm`));
    await evil.goto(attacker.url);
    const answer = await response;
    assert.ok([401, 403].includes(answer.status()), `the forged request is refused (${answer.status()})`);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(target.total(), before, 'the target received nothing');
    assert.ok(!(await state()).includes('running'));
    await attacker.close();
    await context.close();
  });
  it('an operator picks "Arrival rate" in the start form: the run starts iterations, the header shows arrivals/s and drops, the Scenarios tab counts them', async () => {
    const context = await browser.newContext();
    const { page, problems } = await newPage(context);
    await logIn(page, url, WEB_USERS.operator);
    const state = async (): Promise<string> => ((await page.getByTestId('header-state').textContent()) ?? '').toLowerCase();
    await until(async () => (await state()).includes('stopped') || (await state()).includes('ready'), 'an idle run');
    if ((await page.getByTestId('new-test-button').count()) > 0) await page.getByTestId('new-test-button').click();
    await page.getByTestId('start-mode-arrival').check();
    assert.equal(await page.getByTestId('start-users').count(), 0, 'the user count is not asked for');
    await page.getByTestId('start-arrival-rate').fill('10');
    await page.getByTestId('start-max-users').fill('4');
    await page.getByTestId('start-host').fill(target.url);
    await page.getByTestId('start-run-time').fill('30s');
    const before = target.total();
    await page.getByTestId('start-submit').click();
    await page.getByTestId('header-arrival-rate').waitFor();
    assert.equal((await page.getByTestId('header-dropped').textContent())?.trim(), '0');
    await page.getByTestId('tab-scenarios').click();
    await until(async () => (await numberIn(page, '[data-testid="scenario-iterations"]')) >= 10, 'iterations in the Scenarios table');
    assert.match((await page.getByTestId('scenario-row').first().textContent()) ?? '', /default.*constant-arrival-rate/);
    await until(async () => /\d/.test((await page.getByTestId('header-arrival-rate').textContent()) ?? ''), 'a current arrival rate');
    assert.equal(await page.getByTestId('edit-button').count(), 0, 'an arrival rate has no user count to edit');
    assert.ok(target.total() > before, 'the target received the iterations');
    await page.getByTestId('stop-button').click();
    await until(async () => (await state()).includes('stopped'), 'the stopped state');
    assert.deepEqual(problems, []);
    await context.close();
  });
});

describe('web UI in a browser with --processes 2', { skip }, () => {
  it('the workers tab shows both workers while a run started from the form goes on', async () => {
    const target = await startCountingTarget();
    const port = await freePort();
    const cicada = startCli(['-f', fixture('counting.ts'), '-H', target.url, '--processes', '2', '--master-bind-port', String(await freePort()), '--web-port', String(port)], { timeoutMs: 90_000 });
    const browser = await launchBrowser();
    try {
      await cicada.waitFor('web UI:');
      const context = await browser.newContext({ viewport: { width: 420, height: 900 } });
      const { page, problems } = await newPage(context);
      await page.goto(`http://127.0.0.1:${port}`);
      // Both workers first (they start with the master), so the users are spread from the start.
      await page.getByTestId('tab-workers').click();
      await until(async () => (await page.getByTestId('worker-row').count()) === 2, 'two worker rows', 30_000);
      await page.getByTestId('tab-stats').click();
      await page.getByTestId('start-users').fill('4');
      await page.getByTestId('start-spawn-rate').fill('20');
      await page.getByTestId('start-submit').click();
      await page.getByTestId('tab-workers').click();
      let rows: string[] = [];
      await until(async () => {
        rows = await page.getByTestId('worker-row').locator('td:nth-child(3)').allTextContents();
        return rows.length === 2 && rows.every((r) => r.trim() === '2');
      }, 'two users on each worker', 30_000).catch((error: Error) => {
        throw new Error(`${error.message}; users per worker: ${JSON.stringify(rows)}`);
      });
      const shot = await screenshotPath('workers-narrow.png');
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`screenshot of the workers tab in a 420 px window: ${shot}`);
      await page.getByTestId('stop-button').click();
      assert.deepEqual(problems, []);
      await context.close();
    } finally {
      await browser.close();
      cicada.kill('SIGTERM');
      await cicada.done;
      await target.close();
    }
  });
});

/** Two scenarios ran (rows named `name [scenario]`), with a failed threshold on one scenario's /cart and one on /cart in both. */
function scenarioReportData(): ReportData {
  const data = gatedReportData();
  data.entries = [view('GET', '/ [browse]'), view('GET', '/cart [browse]'), view('POST', '/cart [checkout]'), view('GET', '/cart [checkout]')];
  data.thresholds = [
    { metric: 'response_time{name:/cart,scenario:checkout}', expression: 'p(95)<100', ok: false, observed: 120, unit: 'ms', tags: { name: '/cart', scenario: 'checkout' }, abortOnFail: false },
    { metric: 'requests{name:/cart,method:GET}', expression: 'rate>100', ok: false, observed: 16.7, unit: '/s', tags: { name: '/cart', method: 'GET' }, abortOnFail: false },
  ];
  return data;
}

describe('web UI in a browser: thresholds and checks', { skip }, () => {
  const uiDir = path.join(repoRoot, 'dist', 'ui');
  let server: TestServer;
  let url: string;
  let browser: Browser;
  let data: ReportData = gatedReportData();
  before(async () => {
    assert.ok(existsSync(path.join(uiDir, 'index.html')), 'dist/ui is missing: run `npm run build` first');
    server = await startTestServer({ uiDir });
    server.run.report = () => data;
    url = await server.listen();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  const names = (page: Page): Promise<string[]> => page.getByTestId('stats-row').locator('td.name').allTextContents();

  it('shows the failed threshold with its observed value; its link filters the statistics to its rows until "Clear filter"', async () => {
    data = gatedReportData();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page, problems } = await newPage(context);
    await page.goto(url);
    const panel = page.getByTestId('thresholds-panel');
    await panel.waitFor();
    assert.equal((await page.getByTestId('thresholds-summary').textContent())?.trim(), '1 of 4 failed');
    assert.equal(await page.getByTestId('threshold-row').count(), 4);
    const failed = page.getByTestId('threshold-row').filter({ has: page.getByTestId('threshold-link') });
    assert.equal(await failed.count(), 1, 'only the failed threshold links to rows');
    assert.equal((await failed.getByTestId('threshold-result').textContent())?.trim(), 'fail');
    assert.match((await failed.textContent()) ?? '', /response_time\{name:\/items\/\[id\]\}.*p\(99\)<200.*260 ms.*aborts the run/);
    const noData = page.getByTestId('threshold-row').filter({ hasText: 'requests{name:/never}' });
    assert.equal((await noData.getByTestId('threshold-observed').textContent())?.trim(), 'no data');
    assert.equal((await noData.getByTestId('threshold-result').textContent())?.trim(), 'pass');
    const shot = await screenshotPath('thresholds-panel.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot of the Thresholds panel: ${shot}`);

    // From another tab: the link switches to the statistics, filtered to the threshold's name.
    await page.getByTestId('tab-charts').click();
    assert.equal(await page.getByTestId('stats-table').count(), 0);
    await failed.getByTestId('threshold-link').click();
    await page.getByTestId('stats-table').waitFor();
    assert.equal(await page.getByTestId('tab-stats').getAttribute('aria-selected'), 'true');
    assert.deepEqual(await names(page), ['/items/[id]', '/items/[id]']);
    assert.match((await page.getByTestId('stats-filter-threshold').textContent()) ?? '', /response_time\{name:\/items\/\[id\]\}/);
    assert.equal((await page.getByTestId('stats-filter-count').textContent())?.trim(), '2 of 4 rows');
    assert.equal(await page.getByTestId('stats-total').count(), 1, 'the Aggregated row stays');
    await page.screenshot({ path: await screenshotPath('thresholds-filtered-rows.png'), fullPage: true });
    await page.getByTestId('stats-filter-clear').click();
    assert.equal(await page.getByTestId('stats-row').count(), 4);
    assert.equal(await page.getByTestId('stats-filter-clear').count(), 0, 'nothing to clear any more');

    // The name filter of its own.
    await page.getByTestId('stats-filter-text').fill('LOGIN');
    assert.deepEqual(await names(page), ['/login']);
    await page.getByTestId('stats-filter-clear').click();
    assert.equal(await page.getByTestId('stats-filter-text').inputValue(), '');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('a scenario tag narrows to the rows named `name [scenario]`, a method tag to that method', async () => {
    data = scenarioReportData();
    const context = await browser.newContext();
    const { page, problems } = await newPage(context);
    await page.goto(url);
    await page.getByTestId('thresholds-panel').waitFor();
    const link = (text: string) => page.getByTestId('threshold-row').filter({ hasText: text }).getByTestId('threshold-link');
    await link('scenario:checkout').click();
    await until(async () => (await page.getByTestId('stats-row').count()) === 2, 'two rows of /cart in checkout');
    assert.deepEqual((await names(page)).sort(), ['/cart [checkout]', '/cart [checkout]']);
    await link('method:GET').click();
    await until(async () => (await page.getByTestId('stats-row').count()) === 2, 'the GET rows of /cart');
    assert.deepEqual((await page.getByTestId('stats-row').allTextContents()).map((r) => /^GET\/cart \[(browse|checkout)\]/.test(r)), [true, true]);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('the Checks tab lists each check with passes, fails, pass % and last error, failing rows marked', async () => {
    data = gatedReportData();
    const context = await browser.newContext();
    const { page, problems } = await newPage(context);
    await page.goto(url);
    await page.getByTestId('tab-checks').click();
    const rows = page.getByTestId('check-row');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 3);
    assert.match((await page.getByTestId('tab-checks').textContent()) ?? '', /Checks\s*2/, 'the badge counts the failing rows');
    const cells = await rows.nth(0).locator('td').allTextContents();
    assert.deepEqual(cells.map((c) => c.trim()), ['failing', 'status is 200', '/items/[id]', '370', '10', '97.3%', '']);
    assert.match((await rows.nth(1).textContent()) ?? '', /pass.*status is 200.*\/.*600.*0.*100\.0%/);
    assert.equal(await rows.nth(1).getAttribute('class'), '');
    assert.equal(await rows.nth(0).getAttribute('class'), 'failed');
    assert.equal((await rows.nth(2).getByTestId('check-error').textContent())?.trim(), "TypeError: Cannot read properties of null (reading 'id')");
    await page.screenshot({ path: await screenshotPath('checks-tab.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('hostile threshold and check strings stay inert text', async () => {
    data = hostileGatedReportData();
    const context = await browser.newContext();
    const { page, problems } = await newPage(context);
    let dialogs = 0;
    page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });
    await page.goto(url);
    await page.getByTestId('thresholds-panel').getByText(`response_time{name:${HOSTILE_REPORT}}`, { exact: false }).first().waitFor();
    await page.getByTestId('threshold-link').click();
    await page.getByTestId('stats-filter-threshold').getByText(HOSTILE_REPORT, { exact: false }).waitFor();
    await page.getByTestId('tab-checks').click();
    await page.getByTestId('check-name').first().waitFor();
    assert.deepEqual(await page.getByTestId('check-name').allTextContents(), [HOSTILE_REPORT, HOSTILE_REPORT, HOSTILE_REPORT]);
    assert.equal((await page.getByTestId('check-error').nth(2).textContent())?.trim(), HOSTILE_REPORT);
    assert.equal(await page.locator('img[src="x"]').count(), 0, 'no element was made from the payloads');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(dialogs, 0, 'no script ran');
    assert.deepEqual(problems, []);
    await context.close();
  });
});
