// printable, isLoopback and sameSecret: the shared definitions every layer uses.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopback } from './loopback.ts';
import { printable } from './printable.ts';
import { sameSecret } from './same-secret.ts';

describe('printable', () => {
  it('turns newlines, ANSI escapes and bidi overrides into spaces, on one line, and caps the length', () => {
    assert.equal(printable('w1\n[2026-01-01] INFO forged\u001b[31mred'), 'w1 [2026-01-01] INFO forged [31mred');
    assert.equal(printable('abc\u202edcba'), 'abc dcba');
    assert.equal(printable('x'.repeat(10), 4), 'xxxx…');
  });
});

describe('isLoopback', () => {
  it('accepts 127/8, ::1 in every spelling, ::ffff:127.x and localhost; nothing else', () => {
    for (const h of ['127.0.0.1', '127.0.0.3', '127.255.255.255', '::1', '[::1]', 'LOCALHOST', '::ffff:127.0.0.1', '[::ffff:127.0.0.2]']) assert.ok(isLoopback(h), h);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '127.0.0.256', '127.1', '128.0.0.1', 'localhost.evil.com', '::2', '']) assert.ok(!isLoopback(h), h);
  });
});

describe('sameSecret', () => {
  it('compares strings and buffers of any length', () => {
    assert.ok(sameSecret('abc', 'abc'));
    assert.ok(!sameSecret('abc', 'abd'));
    assert.ok(!sameSecret('abc', 'abcd'));
    assert.ok(sameSecret(Buffer.from('k'), 'k'));
  });
});
