// Connection limits of the web server: a total and a per-address cap (trusted proxies exempt), kept within the process's file descriptors.
import { readFileSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import type { Logger } from '../core/logger.ts';

export interface ConnectionLimits {
  /**
   * A connection with no traffic either way for this long is closed (ms): one that never sends a byte, a
   * keep-alive left idle, a TLS handshake never begun. The live stream writes every second, so it stays.
   */
  connectionTimeoutMs: number;
  /** Open connections in all; beyond it a new one is closed at once. Lowered to half the file-descriptor limit. */
  maxConnections: number;
  /** Open connections from one client (an IPv6 client counts by its /64); beyond it a new one is closed at once. */
  maxConnectionsPerAddress: number;
}

/**
 * 10 s is long for a browser (it sends its request at once) and short for a flood of silent sockets. A
 * browser opens at most 6 connections to a host, so 100 per address leaves room for a few people behind
 * one NAT; 1000 in all is far beyond what a team's UI needs.
 */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { connectionTimeoutMs: 10_000, maxConnections: 1000, maxConnectionsPerAddress: 100 };

/** Refused connections are logged at most this often (a flood must not flood the log too). */
const LOG_EVERY_MS = 10_000;

/** The soft `ulimit -n` of this process (Linux), or undefined when unknown or unlimited. */
export function fileDescriptorLimit(limitsFile = '/proc/self/limits'): number | undefined {
  try {
    const line = readFileSync(limitsFile, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.slice('Max open files'.length).trim().split(/\s+/)[0]);
    return Number.isInteger(soft) && soft > 0 ? soft : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The limits that apply: the total cap is at most half the descriptor limit, because the same process
 * also needs descriptors for the load itself (each user's connections), report files and the workers'
 * links; a web flood must not starve them. The per-address cap is at most the total.
 */
export function effectiveLimits(limits: ConnectionLimits, fdLimit: number | undefined): ConnectionLimits {
  const total = fdLimit === undefined ? limits.maxConnections : Math.min(limits.maxConnections, Math.max(16, Math.floor(fdLimit / 2)));
  return { ...limits, maxConnections: total, maxConnectionsPerAddress: Math.min(limits.maxConnectionsPerAddress, total) };
}

/** The key a client is counted under: IPv4 as is (also when mapped into IPv6), IPv6 by its /64 (one host usually owns the whole /64). */
export function clientKey(address: string | undefined): string {
  const a = (address ?? '').replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1]!;
  if (!a.includes(':')) return a;
  const [head = '', tail] = a.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...new Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16)).join(':')}::/64`;
}

/**
 * Applies the caps to `server`: beyond the total, node closes a new connection before it costs anything
 * (`maxConnections`); beyond the per-address cap it is destroyed as it arrives. `exempt` names peers that
 * carry many clients (a trusted reverse proxy), counted in the total only. The idle timeout is fastify's
 * `connectionTimeout` (and the TLS handshake timeout), set where the server is made.
 */
export function guardConnections(server: Server, limits: ConnectionLimits, exempt: (address: string) => boolean, logger: Logger): void {
  server.maxConnections = limits.maxConnections;
  const open = new Map<string, number>();
  let refused = { total: 0, perAddress: 0, lastAddress: '' };
  // The first refusal is logged at once, then what follows in one line per LOG_EVERY_MS while it goes on.
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    timer = undefined;
    if (refused.total + refused.perAddress === 0) return;
    const parts = [
      refused.perAddress > 0 ? `${refused.perAddress} over the cap of ${limits.maxConnectionsPerAddress} per address` : '',
      refused.total > 0 ? `${refused.total} over the cap of ${limits.maxConnections} in all` : '',
    ].filter((p) => p !== '');
    logger.warning(`web: closed new connections at once: ${parts.join(', ')} (the latest from ${refused.lastAddress}); idle ones are closed after ${limits.connectionTimeoutMs / 1000} s`);
    refused = { total: 0, perAddress: 0, lastAddress: '' };
    timer = setTimeout(flush, LOG_EVERY_MS);
    timer.unref();
  };
  const note = (kind: 'total' | 'perAddress', address: string): void => {
    refused[kind] += 1;
    refused.lastAddress = address;
    if (timer === undefined) flush();
  };
  server.on('close', () => clearTimeout(timer));
  server.on('drop', (data?: { remoteAddress?: string }) => note('total', data?.remoteAddress ?? 'an unknown address'));
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    if (exempt(address)) return;
    const key = clientKey(address);
    const count = open.get(key) ?? 0;
    if (count >= limits.maxConnectionsPerAddress) {
      socket.destroy();
      note('perAddress', address);
      return;
    }
    open.set(key, count + 1);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left === 0) open.delete(key);
      else open.set(key, left);
    });
  });
}
