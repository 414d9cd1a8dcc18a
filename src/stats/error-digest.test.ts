import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorDigest, errorKey, OTHER_ERRORS_LABEL } from './error-digest.ts';

function digest(maxDistinct?: number) {
  let time = 0;
  const lines: string[] = [];
  const d = new ErrorDigest({ now: () => time, sink: (l) => lines.push(l), ...(maxDistinct === undefined ? {} : { maxDistinct }) });
  return { d, lines, advance: (ms: number) => { time += ms; } };
}

describe('ErrorDigest', () => {
  it('prints the first occurrence at once, with its traceback', () => {
    const { d, lines } = digest();
    d.report('Shopper.buy', new TypeError('x is not a function'), '    at buy (cicadafile.ts:12:5)');
    assert.deepEqual(lines, ['Shopper.buy: TypeError: x is not a function\n    at buy (cicadafile.ts:12:5)']);
  });

  it('counts repeats and prints one count line per 10 s window', () => {
    const { d, lines, advance } = digest();
    d.report('Shopper.buy', new TypeError('x is not a function'), '');
    for (let i = 0; i < 17; i++) d.report('Shopper.buy', new TypeError('x is not a function'), '');
    advance(9_000);
    d.tick();
    assert.equal(lines.length, 1, 'nothing before the window has passed');
    advance(1_000);
    d.tick();
    assert.deepEqual(lines.slice(1), ['Shopper.buy: TypeError: x is not a function (17 more in the last 10 s)']);
    advance(10_000);
    d.tick();
    assert.equal(lines.length, 2, 'quiet when nothing new happened');
  });

  it('prints each distinct error once, folding numbers in messages', () => {
    const { d, lines } = digest();
    d.report('Shopper.buy', new Error('item 17 missing'), '');
    d.report('Shopper.buy', new Error('item 18 missing'), '');
    d.report('Shopper.browse', new Error('item 17 missing'), '');
    d.report('Shopper.buy', new RangeError('item 17 missing'), '');
    assert.equal(lines.length, 3);
    assert.equal(errorKey('a', new Error('id 1')), errorKey('a', new Error('id 2')));
  });

  it('flushes pending counts at the end, and nothing for errors without repeats', () => {
    const { d, lines, advance } = digest();
    d.report('U.onStart', new Error('login failed'), '');
    d.report('U.onStart', new Error('login failed'), '');
    d.report('U.other', new Error('once'), '');
    advance(2_000);
    d.flush();
    assert.deepEqual(lines.slice(2), ['U.onStart: Error: login failed (1 more in the last 2 s)']);
  });

  it('folds addresses, UUIDs and hex ids in messages, but keeps words and places apart', () => {
    assert.equal(errorKey('a', new Error('object at 0x7f3a9c')), errorKey('a', new Error('object at 0xbeef')));
    assert.equal(
      errorKey('a', new Error('session 0b6c7e0a-3f1d-4c2e-9a8b-1d2e3f4a5b6c expired')),
      errorKey('a', new Error('session f47ac10b-58cc-4372-a567-0e02b2c3d479 expired')),
    );
    assert.equal(errorKey('a', new Error('cart 5f2b9c1e gone')), errorKey('a', new Error('cart a1b2c3d4e5 gone')));
    assert.notEqual(errorKey('a', new Error('deadbeef')), errorKey('a', new Error('cafebabe')), 'hex-looking words without digits stay');
    assert.notEqual(errorKey('U.buy', new Error('x')), errorKey('U.browse', new Error('x')));
  });

  it('past the distinct cap, new kinds are counted on one line instead of each printed (no flood)', () => {
    const { d, lines, advance } = digest(2);
    d.report('U.a', new Error('one'), '');
    d.report('U.b', new Error('two'), '');
    for (const word of ['alpha', 'beta', 'gamma', 'delta']) d.report('U.c', new Error(`unseen ${word}`), '');
    assert.equal(lines.length, 2, 'the two kinds under the cap only');
    advance(10_000);
    d.tick();
    assert.deepEqual(lines.slice(2), [`${OTHER_ERRORS_LABEL}: 4 in the last 10 s, of kinds not logged one by one (already 2 distinct errors)`]);
  });
});
