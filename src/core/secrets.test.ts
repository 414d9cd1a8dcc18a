// secret() and redact(): where values are read from, and every form of a registered value that output may carry.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CicadafileError } from './errors.ts';
import { clearSecrets, configureSecrets, MASK, redact, redactDeep, registerSecret, registerUrlPassword, secret } from './secrets.ts';

/** Quotes, a space, a slash, a plus, a backslash, an ampersand, a less-than and a non-ASCII letter: every escape there is. */
const HOSTILE = 'QzX9 "k\\l"/+é&<';

const html = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const csvCell = (s: string): string => `"${s.replace(/"/g, '""')}"`;

function files(entries: Record<string, string>): (dir: string, name: string) => string | undefined {
  return (dir, name) => entries[`${dir}/${name}`];
}

afterEach(() => clearSecrets());

describe('secret()', () => {
  it('reads the environment first, then the file in --secrets-dir, and drops exactly one trailing newline', () => {
    configureSecrets({ env: { A_TOKEN: 'from-env\n', CRLF: 'value\r\n' }, dir: '/run/s', readFile: files({ '/run/s/A_TOKEN': 'from-file', '/run/s/B_TOKEN': 'two-newlines\n\n' }) });
    assert.equal(secret('A_TOKEN'), 'from-env');
    assert.equal(secret('B_TOKEN'), 'two-newlines\n');
    assert.equal(secret('CRLF'), 'value');
  });

  it('treats an empty variable as unset and refuses an empty file', () => {
    configureSecrets({ env: { EMPTY: '', BLANK: '' }, dir: '/d', readFile: files({ '/d/EMPTY': 'from-file', '/d/BLANK': '\n' }) });
    assert.equal(secret('EMPTY'), 'from-file');
    assert.throws(() => secret('BLANK'), /file BLANK in the --secrets-dir folder \/d is empty/);
  });

  it('names the variable and the folder when a secret is missing, as a cicadafile error', () => {
    configureSecrets({ env: {}, dir: '/mnt/secrets', readFile: () => undefined });
    assert.throws(() => secret('API_TOKEN'), (error: unknown) => {
      assert.ok(error instanceof CicadafileError);
      assert.match(error.message, /^secret\('API_TOKEN'\) not found: the environment variable API_TOKEN is not set and the --secrets-dir folder \/mnt\/secrets has no file API_TOKEN/);
      return true;
    });
    configureSecrets({ env: {} });
    assert.throws(() => secret('API_TOKEN'), /API_TOKEN is not set \(and no --secrets-dir folder was given\)/);
  });

  it('refuses names that are not a plain file name', () => {
    configureSecrets({ env: {}, dir: '/d', readFile: () => 'x' });
    for (const name of ['../etc/passwd', 'a/b', '..', '', 'A B']) assert.throws(() => secret(name), CicadafileError, name);
  });

  it('masks what it returns from then on, and reads each name once', () => {
    let reads = 0;
    configureSecrets({ env: {}, dir: '/d', readFile: () => { reads++; return 'tok-12345\n'; } });
    assert.equal(secret('T'), 'tok-12345');
    assert.equal(secret('T'), 'tok-12345');
    assert.equal(reads, 1);
    assert.equal(redact('Bearer tok-12345'), `Bearer ${MASK}`);
  });

  it('does not mask a value shorter than 4 characters, and warns instead', () => {
    const warnings: string[] = [];
    configureSecrets({ env: { PIN: 'abc' }, warn: (m) => warnings.push(m) });
    assert.equal(secret('PIN'), 'abc');
    assert.equal(redact('abc'), 'abc');
    assert.match(warnings.join('\n'), /secret\('PIN'\) is shorter than 4 characters: it is NOT masked/);
  });
});

describe('redact()', () => {
  it('leaves text alone while nothing is registered and the text has no URL password', () => {
    const text = 'GET /items/1 200 {"ok":true} http://host:8080/a@b ssh://git@example.com';
    assert.equal(redact(text), text);
  });

  it('masks a registered value as it is, and inside longer text, every time', () => {
    registerSecret('s3cr3t-value');
    assert.equal(redact('a s3cr3t-value b s3cr3t-value'), `a ${MASK} b ${MASK}`);
  });

  it('masks the value in each encoded form output gives it', () => {
    registerSecret(HOSTILE);
    const json = JSON.stringify(HOSTILE).slice(1, -1);
    const forms: Record<string, string> = {
      raw: HOSTILE,
      json,
      'json in json': JSON.stringify(json).slice(1, -1),
      'encodeURIComponent': encodeURIComponent(HOSTILE),
      'lower-case percent escapes': encodeURIComponent(HOSTILE).toLowerCase().replace(/qzx9/, 'QzX9'),
      'a query string (+ for space)': new URLSearchParams({ t: HOSTILE }).toString().slice(2),
      // Not http: a special scheme's path turns the backslash into a slash, another value.
      'a URL path': new URL(`cicada://h/${HOSTILE}`).pathname.slice(1),
      html: html(HOSTILE),
      'html of json': html(json),
      'csv of json': csvCell(json).slice(1, -1),
      'json with \\u escapes': json.replace(/[<&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
      'numeric entities': HOSTILE.replace(/[^A-Za-z0-9]/g, (c) => `&#${c.codePointAt(0)};`),
    };
    for (const [form, text] of Object.entries(forms)) {
      assert.equal(redact(`<${text}>`), `<${MASK}>`, `${form}: ${text}`);
    }
  });

  it('masks the longer of two values that overlap whole', () => {
    registerSecret('abcd');
    registerSecret('abcdefgh');
    assert.equal(redact('xabcdefghx abcd'), `x${MASK}x ${MASK}`);
  });

  it('masks the password of any URL with credentials and keeps the user', () => {
    assert.equal(redact('GET http://ann:hunter2@127.0.0.1:8080/x failed'), `GET http://ann:${MASK}@127.0.0.1:8080/x failed`);
    assert.equal(redact('{"host":"https://u:p%40ss:w@h/"}'), `{"host":"https://u:${MASK}@h/"}`);
    assert.equal(redact('postgres://:only-pass@db'), `postgres://:${MASK}@db`);
  });

  it('registers a -H password decoded, so it is masked outside the URL too', () => {
    assert.equal(registerUrlPassword('http://ann:p%40ss-word@host/'), 'registered');
    assert.equal(redact('basic p@ss-word'), `basic ${MASK}`);
    assert.equal(registerUrlPassword('http://ann:pw@host/'), 'short');
    assert.equal(registerUrlPassword('http://host/'), 'none');
    assert.equal(registerUrlPassword('not a url'), 'none');
  });
});

describe('redactDeep()', () => {
  it('redacts strings and keys of plain data, copying only what changed', () => {
    registerSecret('tok-12345');
    const untouched = { counts: [1, 2, 3], method: 'GET' };
    const bytes = new Uint8Array([1, 2]);
    const data = { entries: [{ name: '/a/tok-12345', n: 1 }, untouched], byName: { 'GET /a/tok-12345': [0.5] }, packed: bytes, n: null };
    const out = redactDeep(data);
    assert.deepEqual(out.entries[0], { name: `/a/${MASK}`, n: 1 });
    assert.equal(out.entries[1], untouched);
    assert.deepEqual(Object.keys(out.byName), [`GET /a/${MASK}`]);
    assert.equal(out.packed, bytes);
    assert.deepEqual(data.entries[0], { name: '/a/tok-12345', n: 1 }, 'the input is not changed');
  });

  it('returns the same object when there is nothing to mask', () => {
    const data = { entries: [{ name: '/a', histogram: { indices: [1], counts: [2] } }], meta: { host: 'http://h' } };
    assert.equal(redactDeep(data), data);
  });
});
