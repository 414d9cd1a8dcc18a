// --web-trust-proxy: the reverse proxies whose X-Forwarded-For names the client, checked once at start.
import { BlockList, isIP } from 'node:net';
import { UsageError } from '../core/errors.ts';
import { clientKey } from './connection-guard.ts';

export interface TrustedProxies {
  /** The entries as given: fastify's `trustProxy` list (X-Forwarded-For is believed from these peers only). */
  readonly cidrs: readonly string[];
  /** True when a connection from `address` comes from one of them. */
  includes(address: string): boolean;
}

/**
 * Parses the entries: each an IPv4/IPv6 address or CIDR. Anything else (a name, a range keyword such as
 * `loopback`, a prefix out of range) is refused, so that what is trusted is exactly what was written.
 */
export function trustedProxies(entries: readonly string[]): TrustedProxies {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.trim().split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : /^\d{1,3}$/.test(prefix) ? Number(prefix) : -1;
    if (family === 0 || extra !== undefined || bits < 0 || bits > (family === 6 ? 128 : 32)) {
      throw new UsageError(
        `--web-trust-proxy ${entry.slice(0, 100)}: not an IP address or CIDR`,
        'give the address or network of the reverse proxy in front of Cicada, e.g. --web-trust-proxy 10.0.0.0/8 (an Ingress controller\'s pod network) or 192.0.2.10',
      );
    }
    list.addSubnet(address, bits, family === 6 ? 'ipv6' : 'ipv4');
  }
  return {
    cidrs: entries.map((e) => e.trim()),
    includes(address) {
      // clientKey turns a dual-stack socket's ::ffff:10.1.2.3 into 10.1.2.3, so that 10.0.0.0/8 matches it.
      const v4 = clientKey(address);
      return isIP(v4) === 4 ? list.check(v4, 'ipv4') : isIP(address) === 6 && list.check(address.replace(/%.*$/, ''), 'ipv6');
    },
  };
}
