// The pure parts of admission: --master-allow parsing and matching, per-address slots, and log lines per address and minute.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../core/fake-clock.test-helper.ts';
import { PendingSlots, ThrottledLog } from './admission.ts';
import { AllowList, canonicalAddress } from './allow-list.ts';
import { TransportConfigError } from './errors.ts';

describe('AllowList', () => {
  it('takes IPv4 and IPv6 networks and single addresses, and matches only inside them', () => {
    const allow = AllowList.parse(['10.0.0.0/8', '192.168.1.7', ' fd00::/16 ', '2001:db8::1'])!;
    for (const inside of ['10.0.0.1', '10.255.255.255', '192.168.1.7', 'fd00::1', 'fd00:ffff::9', '2001:db8::1', '::ffff:10.1.2.3']) {
      assert.equal(allow.allows(inside), true, inside);
    }
    for (const outside of ['11.0.0.1', '192.168.1.8', 'fd01::1', '2001:db8::2', '127.0.0.1', '::1', 'unknown', '']) {
      assert.equal(allow.allows(outside), false, outside);
    }
  });

  it('sees an IPv4 client of a dual-stack socket and a zoned link-local address as what they are', () => {
    assert.equal(canonicalAddress('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(canonicalAddress('FE80::1%eth0'), 'fe80::1');
    assert.equal(AllowList.parse(['fe80::/10'])!.allows('fe80::1%eth0'), true);
  });

  it('is absent when no flag is given (everyone may connect)', () => {
    assert.equal(AllowList.parse([]), undefined);
  });

  for (const [entry, why] of [
    ['localhost', /not an IP address or CIDR/],
    ['10.0.0.0/33', /prefix length must be 0 to 32/],
    ['fd00::/129', /prefix length must be 0 to 128/],
    ['10.0.0.0/', /prefix length/],
    ['10.0.0.0/8/8', /not an IP address or CIDR/],
    ['10.0.0.1/8', /10\.0\.0\.1 has bits set past the \/8 prefix/],
    ['fd00::1/64', /has bits set past the \/64 prefix/],
    ['', /not an IP address or CIDR/],
    ['fe80::1%eth0', /not an IP address or CIDR/],
    ['10.0.0.0/8\u001b[31m', /prefix length/],
  ] as const) {
    it(`refuses ${JSON.stringify(entry)} as a usage error (exit 2) with a hint`, () => {
      assert.throws(() => AllowList.parse(['10.0.0.0/8', entry]), (error: unknown) => {
        assert.ok(error instanceof TransportConfigError);
        assert.match(error.message, why);
        assert.equal(error.exitCode, 2);
        assert.ok(error.hint !== undefined && error.hint.length > 0);
        assert.doesNotMatch(error.message, /\u001b/);
        return true;
      });
    });
  }
});

describe('PendingSlots', () => {
  it('caps each address and the total, and gives slots back', () => {
    const slots = new PendingSlots(2, 3);
    assert.equal(slots.take('a'), undefined);
    assert.equal(slots.take('a'), undefined);
    assert.equal(slots.take('a'), 'address');
    assert.equal(slots.take('b'), undefined);
    assert.equal(slots.take('c'), 'total');
    slots.release('a');
    assert.equal(slots.take('c'), undefined);
    assert.equal(slots.size, 3);
    slots.release('nobody'); // never taken: ignored
    assert.equal(slots.size, 3);
  });
});

describe('ThrottledLog', () => {
  it('writes one line per key and minute, and says how many it held back', async () => {
    const clock = new FakeClock();
    const lines: string[] = [];
    const log = new ThrottledLog({ clock, write: (l) => lines.push(l) });
    assert.equal(log.line('a', 'refused a'), true);
    assert.equal(log.line('a', 'refused a'), false);
    assert.equal(log.line('b', 'refused b'), true);
    log.line('a', 'refused a');
    await clock.advance(59_999);
    log.line('a', 'refused a');
    assert.deepEqual(lines, ['refused a', 'refused b']);
    await clock.advance(1);
    log.line('a', 'refused a');
    log.line('a', 'refused a');
    assert.deepEqual(lines, ['refused a', 'refused b', 'refused a (3 more like it before were not logged)']);
  });

  it('bounds all keys together, saying so once, and forgets the oldest keys past its memory', async () => {
    const clock = new FakeClock();
    const lines: string[] = [];
    const log = new ThrottledLog({ clock, write: (l) => lines.push(l), total: 3, maxKeys: 10 });
    for (let i = 0; i < 100; i += 1) log.line(`k${i}`, `line ${i}`);
    assert.deepEqual(lines, ['line 0', 'line 1', 'line 2', '3 such lines within 60 s: holding back the rest until the window is over']);
    await clock.advance(60_000);
    log.line('k99', 'line 99');
    assert.equal(lines.at(-1), 'line 99 (1 more like it before were not logged)');
  });
});
