import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encode, decode } from '@msgpack/msgpack';
import { RequestStats } from '../stats/request-stats.ts';
import { parse, workerMessage } from './messages.ts';
import { packSnapshot, unpackHistogram, unpackSeconds } from './wire-snapshot.ts';

describe('packed reports on the link', () => {
  it('arrive at the master exactly as the worker recorded them', () => {
    const stats = new RequestStats();
    for (let i = 0; i < 500; i++) stats.log('GET', `/n${i % 7}`, Math.random() * 900, 10);
    stats.logError('GET', '/n1', 'HTTP 503');
    const plain = stats.snapshot(3, { history: false });
    const wire = decode(encode({ type: 'stats', seq: 1, epoch: 0, final: false, userCount: 3, classes: {}, snapshot: packSnapshot(plain) }));
    const parsed = parse(workerMessage, wire);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
    const received = parsed.ok && parsed.message.type === 'stats' ? parsed.message.snapshot : undefined;
    assert.deepEqual(received?.total.histogram, plain.total.histogram);
    assert.deepEqual(received?.entries.map((e) => e.histogram), plain.entries.map((e) => e.histogram));
    assert.deepEqual(received?.total.numReqsPerSec, Object.fromEntries(Object.entries(plain.total.numReqsPerSec)));
  });

  it('refuses malformed packed data instead of guessing', () => {
    assert.equal(unpackHistogram(new Uint8Array(3), new Uint8Array(8), 10), undefined, 'not whole uint32 records');
    assert.equal(unpackHistogram(new Uint8Array(4), new Uint8Array(16), 10), undefined, 'one index, two counts');
    const negative = new Uint8Array(8);
    new DataView(negative.buffer).setFloat64(0, -1, true);
    assert.equal(unpackHistogram(new Uint8Array(4), negative, 10), undefined, 'negative count');
    assert.equal(unpackSeconds(new Uint8Array(8), new Uint8Array(16), 1), undefined, 'more seconds than allowed');
  });
});
