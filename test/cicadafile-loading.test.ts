// Loading cicadafiles from anywhere: 'cicada' resolves to the running Cicada, npm and relative imports work.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, startCountingTarget, type CountingTarget } from './helpers.ts';

describe('cicadafiles outside the project', { concurrency: 1 }, () => {
  let dir: string;
  let target: CountingTarget;
  before(async () => {
    target = await startCountingTarget();
    // A folder with no Cicada install: its own npm package, a relative helper module and two cicadafiles.
    dir = await mkdtemp(path.join(tmpdir(), 'cicada-anywhere-'));
    await mkdir(path.join(dir, 'node_modules', 'path-maker'), { recursive: true });
    await writeFile(path.join(dir, 'node_modules', 'path-maker', 'package.json'), JSON.stringify({ name: 'path-maker', version: '1.0.0', main: 'index.js' }));
    await writeFile(path.join(dir, 'node_modules', 'path-maker', 'index.js'), "exports.makePath = (n) => '/from-package/' + n;\n");
    await writeFile(path.join(dir, 'helpers.ts'), "export const greeting: string = 'hello';\n");
    await writeFile(path.join(dir, 'anywhere.ts'), [
      "import { HttpUser, task, constant } from 'cicada';",
      "import { makePath } from 'path-maker';",
      "import { greeting } from './helpers.ts';",
      'export class Visitor extends HttpUser {',
      '  waitTime = constant(0.05);',
      "  @task async visit() { await this.client.get(makePath(1), { name: greeting }); }",
      '}',
    ].join('\n'));
    await writeFile(path.join(dir, 'plain.mjs'), [
      "import { HttpUser, task } from 'cicada';",
      'export class Plain extends HttpUser {',
      "  static tasks = { visit: 1 };",
      "  async visit() { await this.client.get('/plain'); }",
      '}',
    ].join('\n'));
    await writeFile(path.join(dir, 'hostile.ts'), [
      "import { HttpUser, task, constant } from 'cicada';",
      'export class Hostile extends HttpUser {',
      '  waitTime = constant(0.05);',
      "  @task async evil() { await this.client.get('/status/500', { name: '</script><img src=x onerror=alert(1)>' }); }",
      '}',
    ].join('\n'));
  });
  after(async () => {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs a TypeScript cicadafile in a folder without Cicada installed, with npm and relative imports', async () => {
    const result = await runCli(['-f', 'anywhere.ts', '-H', target.url, '-u', '1', '-r', '1', '-t', '1s', '--headless', '--json', '--only-summary'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    const entries = JSON.parse(result.stdout) as { name: string; num_requests: number }[];
    assert.equal(entries[0]?.name, 'hello');
    assert.equal(entries[0]?.num_requests, target.counts.get('GET /from-package/1'));
  });

  it('loads a folder of .ts and .mjs cicadafiles', async () => {
    const result = await runCli(['-f', dir, '-l'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n').sort(), ['Hostile', 'Plain', 'Visitor']);
  });

  it('loads a comma list of files', async () => {
    const result = await runCli(['-f', 'plain.mjs,anywhere.ts', '-l'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n').sort(), ['Plain', 'Visitor']);
  });

  it('escapes a hostile request name in the HTML report and keeps it in the CSV', async () => {
    const html = path.join(dir, 'hostile.html');
    const result = await runCli(['-f', 'hostile.ts', '-H', target.url, '-u', '1', '-r', '1', '-t', '1s', '--headless', '--only-summary', '--html', html, '--csv', path.join(dir, 'hostile')], { cwd: dir });
    assert.equal(result.code, 1, 'HTTP 500 responses are failures');
    const report = await readFile(html, 'utf8');
    assert.ok(report.includes('&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(!report.includes('<img'), 'no live <img> element');
    assert.ok(!/<script/i.test(report), 'the report has no script at all');
    const csv = await readFile(path.join(dir, 'hostile_stats.csv'), 'utf8');
    assert.ok(csv.includes('</script><img src=x onerror=alert(1)>'));
  });
});
