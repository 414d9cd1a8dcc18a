// Bad input to the `cicada` command: exit code 2 and a message that says what and where, never a stack trace.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, runCli } from './helpers.ts';

const H = ['-H', 'http://127.0.0.1:9'];

async function expectUsageError(args: string[], message: RegExp): Promise<void> {
  const result = await runCli(args, { timeoutMs: 30_000 });
  assert.equal(result.code, 2, `exit code for ${args.join(' ')}\n${result.stderr}`);
  assert.match(result.stderr, message);
  assert.doesNotMatch(result.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
}

describe('bad input', { concurrency: 4 }, () => {
  it('a missing cicadafile names the path', () => expectUsageError(['-f', 'nope/missing.ts', ...H, '--headless'], /cicadafile not found: nope\/missing\.ts/));
  it('a syntax error gives file:line:column', () => expectUsageError(['-f', fixture('syntax-error.ts'), ...H, '--headless'], /syntax-error\.ts:5:\d+: /));
  it('a file without a User class says so', () => expectUsageError(['-f', fixture('no-user.ts'), ...H, '--headless'], /no User class found in .*no-user\.ts/));
  it('a file that throws at load says what it threw', () => expectUsageError(['-f', fixture('throws-at-load.ts'), ...H, '--headless'], /throws-at-load\.ts:2: threw while loading: Error: config missing: set API_KEY/));
  it('a negative task weight names the task', () => expectUsageError(['-f', fixture('bad-weight.ts'), ...H, '--headless'], /Weighted\.negative must be a positive integer, got -2/));
  it('an unknown -T tag lists the tags in use', () => expectUsageError(['-f', fixture('tagged.ts'), ...H, '--headless', '-T', 'raed'], /unknown tag 'raed'[\s\S]*did you mean read/));
  it('an unknown class name lists the classes', () => expectUsageError(['-f', fixture('tagged.ts'), ...H, '--headless', 'Taggd'], /unknown user class 'Taggd'[\s\S]*Tagged/));
  it('-u -5 is refused', () => expectUsageError(['-f', fixture('tagged.ts'), ...H, '--headless', '-u', '-5'], /users/i));
  it('-r 0 is refused', () => expectUsageError(['-f', fixture('tagged.ts'), ...H, '--headless', '-r', '0'], /spawn-rate/i));
  it('-t 5x is refused', () => expectUsageError(['-f', fixture('tagged.ts'), ...H, '--headless', '-t', '5x'], /run-time/i));
  it('-H ftp://x is refused', () => expectUsageError(['-f', fixture('tagged.ts'), '-H', 'ftp://x', '--headless'], /host/i));
  it('an unknown flag gets a did-you-mean hint', () => expectUsageError(['-f', fixture('tagged.ts'), ...H, '--headless', '--uesrs', '3'], /did you mean --users/));
  it('a missing host is explained', () => expectUsageError(['-f', fixture('tagged.ts'), '--headless'], /Tagged has no host[\s\S]*-H\/--host/));
  it('a master bound beyond loopback without a secret is refused', () =>
    expectUsageError(['-f', fixture('tagged.ts'), ...H, '--headless', '--master', '--master-bind-host', '0.0.0.0'], /refusing to bind the master to 0\.0\.0\.0 without authentication[\s\S]*cicada secret/));
  it('OIDC without a client id is refused', () => expectUsageError(['-f', fixture('tagged.ts'), ...H, '--web-oidc-issuer', 'http://127.0.0.1:9'], /--web-oidc-issuer needs --web-oidc-client-id/));
  it('OIDC without a role mapping is refused', () => expectUsageError(['-f', fixture('tagged.ts'), ...H, '--web-oidc-issuer', 'http://127.0.0.1:9', '--web-oidc-client-id', 'cicada'], /needs --web-oidc-roles/));
  it('OIDC without a client secret is refused', () =>
    expectUsageError(['-f', fixture('tagged.ts'), ...H, '--web-oidc-issuer', 'http://127.0.0.1:9', '--web-oidc-client-id', 'cicada', '--web-oidc-roles', 'perf=operator'], /needs the client secret[\s\S]*CICADA_WEB_OIDC_CLIENT_SECRET/));
  it('a bad OIDC role mapping is refused', () => expectUsageError(['-f', fixture('tagged.ts'), ...H, '--web-oidc-roles', 'perf=root'], /'perf=root' is not value=role/));
});

describe('listing', { concurrency: 2 }, () => {
  it('-l lists the user classes', async () => {
    const result = await runCli(['-f', fixture('counting.ts'), '-l']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n'), ['Fast', 'Slow']);
  });
  it('--show-task-ratio prints each task share', async () => {
    const result = await runCli(['-f', fixture('counting.ts'), '--show-task-ratio']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /60\.0%\s+root/);
    assert.match(result.stdout, /100\.0%\s+slow/);
  });
});

describe('report paths', { concurrency: 2 }, () => {
  it('an unwritable --html path fails before the run starts', async () => {
    const started = Date.now();
    const result = await runCli(['-f', fixture('tagged.ts'), ...H, '--headless', '-t', '30s', '--html', fixture('tagged.ts') + '/report.html']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--html .*tagged\.ts\/report\.html: the folder .*tagged\.ts is not writable/);
    assert.ok(Date.now() - started < 15_000, 'it did not run for 30 s first');
  });
  it('an unwritable --csv prefix fails before the run starts', async () => {
    const result = await runCli(['-f', fixture('tagged.ts'), ...H, '--headless', '-t', '30s', '--csv', fixture('tagged.ts') + '/run']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /cannot write the CSV folder at ".*tagged\.ts"/);
  });
  it('an unwritable --logfile is refused up front', () =>
    expectUsageError(['-f', fixture('tagged.ts'), ...H, '--headless', '--logfile', fixture('tagged.ts') + '/cicada.log'], /--logfile .*tagged\.ts\/cicada\.log cannot be written \(ENOTDIR\)/));
  it('a static host that is not http(s) is refused up front', async () => {
    const result = await runCli(['-f', fixture('ftp-host.ts'), '--headless']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /FtpUser\.host/);
  });
});
