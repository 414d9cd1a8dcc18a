// The embedded demo target for `cicada demo`: a small fake shop with realistic latencies and errors,
// bound to 127.0.0.1 only, that counts every request so tests can compare it with Cicada's report.
import { randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildCatalog } from './catalog.ts';
import { createRandom, drawLatency } from './random.ts';
import { readJsonBody } from './read-body.ts';
import { matchRoute, type Reply, type RouteInput, type ShopState } from './routes.ts';

export interface DemoTargetOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Probability of a 503 on the error-prone endpoints (items, search, cart, checkout, slow). Default 0.02. */
  errorRate?: number;
  /** Multiplies every delay: 0 answers at once, 0.1 is ten times faster. Default 1. */
  latencyScale?: number;
  /** Seed for latencies, errors and the catalog; random when omitted (see `seed` on the result). */
  seed?: number;
}

export interface DemoTarget {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** The seed in use, so a run can be reproduced. */
  readonly seed: number;
  /** Stops listening, drops every connection (keep-alive included) and cancels pending delays. */
  close(): Promise<void>;
  /** Requests received so far per `"METHOD route"`, e.g. `GET /items/[id]`; unknown ones as `GET (unmatched)`. */
  counts(): Record<string, number>;
}

function checkOptions(errorRate: number, latencyScale: number, port: number): void {
  if (!(errorRate >= 0 && errorRate <= 1)) throw new RangeError(`errorRate must be between 0 and 1, got ${errorRate}`);
  if (!(latencyScale >= 0 && Number.isFinite(latencyScale))) throw new RangeError(`latencyScale must be a finite number ≥ 0, got ${latencyScale}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be a whole number from 0 to 65535, got ${port}`);
}

/** The value of the `session` cookie, if any. */
function sessionCookie(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === 'session') return part.slice(eq + 1).trim();
  }
  return undefined;
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed || res.headersSent) return;
  const body = reply.raw ?? JSON.stringify(reply.json ?? null);
  res.writeHead(reply.status, {
    'content-type': reply.contentType ?? 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...reply.headers,
  });
  res.end(body);
}

/**
 * Starts the demo shop on 127.0.0.1 (never another address: it is a target for local load tests).
 * @example
 * ```ts
 * const target = await startDemoTarget({ port: 8080 });
 * console.log(`demo target on ${target.url}`);
 * // … run a test …
 * console.log(target.counts()); // { 'GET /items': 120, 'GET /items/[id]': 610, … }
 * await target.close();
 * ```
 */
export async function startDemoTarget(options: DemoTargetOptions = {}): Promise<DemoTarget> {
  const { port = 0, errorRate = 0.02, latencyScale = 1 } = options;
  checkOptions(errorRate, latencyScale, port);
  const seed = options.seed ?? randomInt(2 ** 32);
  const random = createRandom(seed);
  const state: ShopState = { random, catalog: buildCatalog(createRandom(seed ^ 0x5eed)), sessions: new Map() };
  const counts = new Map<string, number>();
  // Aborted by close(), so handlers still sleeping do not keep the process alive.
  const closing = new AbortController();

  const count = (key: string): void => {
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };

  const delay = async (ms: number): Promise<void> => {
    const scaled = ms * latencyScale;
    if (scaled > 0) await sleep(scaled, undefined, { signal: closing.signal });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    // Split by hand rather than `new URL()`, which would read `//host/x` as a different host.
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
    const found = matchRoute(method, path);
    if (!('route' in found)) {
      count(`${method} (unmatched)`);
      req.resume();
      if (found.allowed.length > 0) {
        send(res, { status: 405, json: { error: `${method} not allowed on ${path}` }, headers: { allow: found.allowed.join(', ') } });
      } else {
        send(res, { status: 404, json: { error: `no route for ${method} ${path}` } });
      }
      return;
    }
    const { route, params } = found;
    // Counted on arrival, before any delay: a request cut off by close() still reached the target.
    count(`${method} ${route.name}`);

    let body: unknown;
    if (route.body === true) {
      const result = await readJsonBody(req);
      if (!result.ok) {
        const headers: Record<string, string> = result.status === 413 ? { connection: 'close' } : {};
        send(res, { status: result.status, json: { error: result.message }, headers });
        return;
      }
      body = result.value;
    } else {
      req.resume();
    }

    // Always draw both numbers so the sequence does not depend on which branch ran.
    const ms = drawLatency(random, route.latency);
    const fails = random.chance(route.failRate ?? (route.errorProne ? errorRate : 0));
    await delay(ms);
    if (fails) {
      send(res, { status: 503, json: { error: 'service unavailable, try again' }, headers: { 'retry-after': '1' } });
      return;
    }
    const input: RouteInput = { params, query, body, sessionId: sessionCookie(req.headers.cookie) };
    send(res, route.handle(state, input));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (closing.signal.aborted) return; // the delay was cut short by close(); the socket is gone
      send(res, { status: 500, json: { error: error instanceof Error ? error.message : String(error) } });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;

  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    seed,
    counts: () => Object.fromEntries(counts),
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        // close() alone waits for idle keep-alive sockets to time out; drop them now.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
