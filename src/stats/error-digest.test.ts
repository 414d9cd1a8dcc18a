import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorDigest, errorKey } from './error-digest.ts';

function digest() {
  let time = 0;
  const lines: string[] = [];
  const d = new ErrorDigest({ now: () => time, sink: (l) => lines.push(l) });
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
});
