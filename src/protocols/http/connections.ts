// A user's own connections: one undici Client (or Pool) per origin, opened on first use, like a browser's.
import { Client, Pool, type Dispatcher } from 'undici';
import type { ClientDefaults } from '../../core/environment.ts';
import { HttpRequestError } from './normalise-error.ts';

/** A dispatcher every request of a closed client goes to: it fails at once with `client closed`. */
const closedDispatcher = {
  dispatch(_options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    handler.onResponseError?.(undefined as unknown as Dispatcher.DispatchController, new HttpRequestError('CLIENT_CLOSED', 'client closed'));
    return false;
  },
} as unknown as Dispatcher;

/**
 * The connections of one HttpClient. The base origin's dispatcher sits in a field so the hot path
 * skips the map; other origins (cross-origin redirects, absolute URLs) get their own on demand.
 * With a shared dispatcher every origin goes through it, and `close()` leaves it open.
 */
export class Connections {
  private readonly baseOrigin: string;
  private readonly defaults: ClientDefaults;
  private readonly shared: Dispatcher | undefined;
  private base: Dispatcher | undefined = undefined;
  private others: Map<string, Dispatcher> | undefined = undefined;
  private closed = false;

  constructor(baseOrigin: string, defaults: ClientDefaults, shared: Dispatcher | undefined) {
    this.baseOrigin = baseOrigin;
    this.defaults = defaults;
    this.shared = shared;
  }

  /** The dispatcher for `origin` (`http://host:port`). After `close()`, one that fails every request. */
  for(origin: string): Dispatcher {
    if (this.closed) return closedDispatcher;
    if (this.shared !== undefined) return this.shared;
    if (origin === this.baseOrigin) return (this.base ??= this.open(origin));
    const map = (this.others ??= new Map<string, Dispatcher>());
    let dispatcher = map.get(origin);
    if (dispatcher === undefined) {
      dispatcher = this.open(origin);
      map.set(origin, dispatcher);
    }
    return dispatcher;
  }

  /** Closes the owned connections once their in-flight requests have finished. */
  async close(): Promise<void> {
    this.closed = true;
    const owned: Dispatcher[] = [];
    if (this.base !== undefined) owned.push(this.base);
    if (this.others !== undefined) owned.push(...this.others.values());
    this.base = undefined;
    this.others = undefined;
    await Promise.all(owned.map((d) => d.close()));
  }

  private open(origin: string): Dispatcher {
    const connections = Math.max(1, this.defaults.connectionsPerUser);
    const options = {
      connect: { timeout: this.defaults.connectTimeoutMs },
      // The client's own deadline timer covers headers and body; undici's 300 s defaults would only interfere.
      headersTimeout: 0,
      bodyTimeout: 0,
    };
    // A lone Client skips the Pool's queueing layer: the common case (one connection per user) is the lean one.
    return connections === 1 ? new Client(origin, options) : new Pool(origin, { ...options, connections });
  }
}
