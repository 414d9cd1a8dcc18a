// Handshake slots per source address and in total, and log lines per address that a connection flood cannot multiply.
import type { Clock } from '../core/clock.ts';

/** Why a new socket may not start a handshake now. */
export type SlotRefusal = 'address' | 'total';

/**
 * Counts sockets that have not finished their handshake, per source address and overall. One address can then
 * hold at most `perAddress` slots however fast it re-opens connections, and the others stay free for real workers.
 */
export class PendingSlots {
  private readonly byAddress = new Map<string, number>();
  private count = 0;

  constructor(readonly perAddress: number, readonly total: number) {}

  get size(): number {
    return this.count;
  }

  /** Takes a slot for `address`, or says which cap is full. Every taken slot must be given back with release(). */
  take(address: string): SlotRefusal | undefined {
    if (this.count >= this.total) return 'total';
    const held = this.byAddress.get(address) ?? 0;
    if (held >= this.perAddress) return 'address';
    this.byAddress.set(address, held + 1);
    this.count += 1;
    return undefined;
  }

  release(address: string): void {
    const held = this.byAddress.get(address);
    if (held === undefined) return;
    if (held <= 1) this.byAddress.delete(address);
    else this.byAddress.set(address, held - 1);
    this.count -= 1;
  }
}

export interface ThrottledLogOptions {
  clock: Clock;
  write: (line: string) => void;
  /** Length of a window (ms, default one minute). */
  windowMs?: number;
  /** Lines per key and window (default 1). */
  perKey?: number;
  /** Lines per window over all keys, so a flood from many addresses stays bounded too (default 60). */
  total?: number;
  /** Keys remembered; past it the oldest is forgotten, so memory stays bounded (default 4096). */
  maxKeys?: number;
}

interface Window {
  start: number;
  used: number;
  /** Lines held back in this window, reported with the key's first line of a later one. */
  held: number;
  /** Lines held back in the previous window, not yet reported. */
  carried: number;
}

/**
 * At most `perKey` lines per key (e.g. "refused|10.1.2.3") and `total` overall per window; what is held back is
 * counted and said on the key's next line, so nothing vanishes silently and no peer can flood the log.
 */
export class ThrottledLog {
  private readonly clock: Clock;
  private readonly write: (line: string) => void;
  private readonly windowMs: number;
  private readonly perKey: number;
  private readonly total: number;
  private readonly maxKeys: number;
  private readonly keys = new Map<string, Window>(); // oldest window first
  private globalStart = Number.NEGATIVE_INFINITY;
  private globalUsed = 0;
  private globalNoted = false;

  constructor(options: ThrottledLogOptions) {
    this.clock = options.clock;
    this.write = options.write;
    this.windowMs = options.windowMs ?? 60_000;
    this.perKey = options.perKey ?? 1;
    this.total = options.total ?? 60;
    this.maxKeys = options.maxKeys ?? 4096;
  }

  /** Writes `text` unless this key (or everyone together) used up the window; returns whether it was written. */
  line(key: string, text: string): boolean {
    const now = this.clock.now();
    let window = this.keys.get(key);
    if (window === undefined || now - window.start >= this.windowMs) {
      window = { start: now, used: 0, held: 0, carried: (window?.held ?? 0) + (window?.carried ?? 0) };
      this.keys.delete(key); // re-inserted last: the map stays ordered by window start
      this.keys.set(key, window);
      if (this.keys.size > this.maxKeys) this.keys.delete(this.keys.keys().next().value ?? key);
    }
    if (now - this.globalStart >= this.windowMs) {
      this.globalStart = now;
      this.globalUsed = 0;
      this.globalNoted = false;
    }
    if (window.used >= this.perKey) {
      window.held += 1;
      return false;
    }
    if (this.globalUsed >= this.total) {
      window.held += 1;
      if (!this.globalNoted) {
        this.globalNoted = true;
        this.write(`${this.total} such lines within ${Math.round(this.windowMs / 1000)} s: holding back the rest until the window is over`);
      }
      return false;
    }
    window.used += 1;
    this.globalUsed += 1;
    const note = window.carried > 0 ? ` (${window.carried} more like it before were not logged)` : '';
    window.carried = 0;
    this.write(`${text}${note}`);
    return true;
  }
}
