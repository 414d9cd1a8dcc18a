// The one definition of "loopback" for every bind and Host check: 127.0.0.0/8, ::1 (bracketed or not), ::ffff:127.x, localhost.

/**
 * True when `host` (an address or name, as given to a bind flag or found in a Host header or URL) can only
 * be reached from this machine.
 * @example
 * ```ts
 * isLoopback('127.0.0.3'); // true
 * isLoopback('[::1]');     // true
 * isLoopback('0.0.0.0');   // false: every interface
 * ```
 */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  const parts = v4.split('.');
  return parts.length === 4 && parts[0] === '127' && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}
