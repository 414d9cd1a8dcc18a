// The web server's connection limits as pure functions: the client key, the caps within the fd limit, ulimit parsing, trusted proxies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { clientKey, DEFAULT_CONNECTION_LIMITS, effectiveLimits, fileDescriptorLimit } from './connection-guard.ts';
import { trustedProxies } from './trust-proxy.ts';

describe('clientKey', () => {
  it('counts IPv4 by address (mapped or not) and IPv6 by its /64', () => {
    assert.equal(clientKey('198.51.100.7'), '198.51.100.7');
    assert.equal(clientKey('::ffff:198.51.100.7'), '198.51.100.7');
    assert.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(clientKey('::1'), '0:0:0:0::/64');
  });
});

describe('effectiveLimits', () => {
  it('keeps the total within half the file-descriptor limit, and the per-address cap within the total', () => {
    assert.deepEqual(effectiveLimits(DEFAULT_CONNECTION_LIMITS, undefined), DEFAULT_CONNECTION_LIMITS);
    assert.equal(effectiveLimits(DEFAULT_CONNECTION_LIMITS, 1_048_576).maxConnections, 1000);
    assert.deepEqual(effectiveLimits(DEFAULT_CONNECTION_LIMITS, 256), { ...DEFAULT_CONNECTION_LIMITS, maxConnections: 128, maxConnectionsPerAddress: 100 });
    assert.deepEqual(effectiveLimits(DEFAULT_CONNECTION_LIMITS, 100), { ...DEFAULT_CONNECTION_LIMITS, maxConnections: 50, maxConnectionsPerAddress: 50 });
  });
});

describe('fileDescriptorLimit', () => {
  it('reads the soft limit of "Max open files", and nothing when it is unlimited or unreadable', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cicada-limits-'));
    const file = (name: string, soft: string): Promise<string> => {
      const p = path.join(dir, name);
      return writeFile(p, `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                  4096                 files\n`).then(() => p);
    };
    assert.equal(fileDescriptorLimit(await file('a', '256')), 256);
    assert.equal(fileDescriptorLimit(await file('b', 'unlimited')), undefined);
    assert.equal(fileDescriptorLimit(path.join(dir, 'missing')), undefined);
    assert.ok((fileDescriptorLimit() ?? 1) > 0);
  });
});

describe('trustedProxies', () => {
  it('matches addresses and networks, IPv4 also when mapped into IPv6', () => {
    const proxies = trustedProxies(['10.0.0.0/8', '192.0.2.10', 'fd00::/16']);
    for (const a of ['10.1.2.3', '::ffff:10.1.2.3', '192.0.2.10', 'fd00::7']) assert.ok(proxies.includes(a), a);
    for (const a of ['11.0.0.1', '192.0.2.11', 'fe80::1', '']) assert.ok(!proxies.includes(a), a);
    assert.deepEqual(proxies.cidrs, ['10.0.0.0/8', '192.0.2.10', 'fd00::/16']);
  });

  it('refuses names, keywords, bad prefixes and garbage', () => {
    for (const bad of ['loopback', 'proxy.example', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/8/1', '10.0.0.0/', '10.0.0.0/x', '']) {
      assert.throws(() => trustedProxies([bad]), /--web-trust-proxy .*: not an IP address or CIDR/, bad);
    }
  });
});
