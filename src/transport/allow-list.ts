// The master's source-address allow list (--master-allow): IPv4/IPv6 CIDRs and single addresses, checked at accept.
import { BlockList, isIP } from 'node:net';
import { printable } from '../core/printable.ts';
import { TransportConfigError } from './errors.ts';

const HINT = 'give an address (10.1.2.3, fd00::7) or a network with its prefix length (10.0.0.0/8, fd00::/64); repeat the flag for several';

/**
 * The address as the allow list sees it: no zone id (`fe80::1%eth0`), and an IPv4 client of a dual-stack socket
 * (`::ffff:10.1.2.3`) as the IPv4 address it is, so `10.0.0.0/8` matches it.
 */
export function canonicalAddress(address: string): string {
  const zone = address.indexOf('%');
  const bare = (zone < 0 ? address : address.slice(0, zone)).toLowerCase();
  const tail = bare.slice('::ffff:'.length);
  return bare.startsWith('::ffff:') && isIP(tail) === 4 ? tail : bare;
}

/** True when `address` has no bits set past its first `prefix` bits (it is the network's own address). */
function hostBitsClear(address: string, prefix: number, family: 4 | 6): boolean {
  const bytes = family === 4 ? address.split('.').map(Number) : ipv6Bytes(address);
  for (let bit = prefix; bit < bytes.length * 8; bit += 1) {
    if (((bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) return false;
  }
  return true;
}

/** The 16 bytes of a valid IPv6 address (with `::` and an embedded IPv4 tail expanded). */
function ipv6Bytes(address: string): number[] {
  let text = address;
  const last = text.lastIndexOf(':');
  if (isIP(text.slice(last + 1)) === 4) {
    const [a = 0, b = 0, c = 0, d = 0] = text.slice(last + 1).split('.').map(Number);
    text = `${text.slice(0, last + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

/** Addresses and networks a connection may come from; an empty list (no flag) allows everyone. */
export class AllowList {
  private readonly list = new BlockList();
  /** The entries as given, for log lines. */
  readonly entries: readonly string[];

  private constructor(entries: string[]) {
    this.entries = entries;
  }

  /**
   * Parses `--master-allow` values. Throws TransportConfigError (exit code 2, with a hint) for anything that is not
   * an IPv4/IPv6 address or CIDR, and for a CIDR with host bits set (`10.0.0.1/8` is a typo for /32 or 10.0.0.0/8,
   * and reading it as either could let in a whole network nobody meant to allow).
   */
  static parse(values: readonly string[]): AllowList | undefined {
    if (values.length === 0) return undefined;
    const allow = new AllowList(values.map((v) => v.trim()));
    for (const entry of allow.entries) {
      const [address = '', prefixText, extra] = entry.split('/');
      const family = address.includes('%') ? 0 : isIP(address); // a zone id names an interface, not a network
      const where = `--master-allow ${printable(entry, 80)}`;
      if (extra !== undefined || (family !== 4 && family !== 6)) throw new TransportConfigError(`${where}: not an IP address or CIDR`, HINT);
      const max = family === 4 ? 32 : 128;
      const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
      if (!(prefix >= 0 && prefix <= max)) throw new TransportConfigError(`${where}: the prefix length must be 0 to ${max}`, HINT);
      if (!hostBitsClear(address, prefix, family)) {
        throw new TransportConfigError(`${where}: ${address} has bits set past the /${prefix} prefix`, `write the network address (e.g. 10.0.0.0/8), or /${max} for one address`);
      }
      allow.list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    }
    return allow;
  }

  /** True when a connection from `address` (as Node reports remoteAddress) may proceed. */
  allows(address: string): boolean {
    const canonical = canonicalAddress(address);
    const family = isIP(canonical);
    if (family === 0) return false;
    return this.list.check(canonical, family === 4 ? 'ipv4' : 'ipv6');
  }
}
