// The demo shop's endpoints: what each answers, how long it takes and how often it fails.
import { randomBytes } from 'node:crypto';
import { search, type Catalog } from './catalog.ts';
import type { Latency, Random } from './random.ts';
import { asObject } from './read-body.ts';

/** What a handler answers; the server adds length and common headers. */
export interface Reply {
  status: number;
  /** Serialised with JSON.stringify unless `raw` is given. */
  json?: unknown;
  /** A ready body (pre-serialised JSON or HTML). */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** One logged-in visitor. */
interface Session {
  name: string;
  since: string;
  cart: number[];
}

/** Everything handlers share for one server. */
export interface ShopState {
  readonly random: Random;
  readonly catalog: Catalog;
  readonly sessions: Map<string, Session>;
}

export interface RouteInput {
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  /** The parsed JSON body, for routes with `body: true`. */
  readonly body: unknown;
  /** The `session` cookie's value, when sent. */
  readonly sessionId: string | undefined;
}

export interface Route {
  readonly method: 'GET' | 'POST';
  /** The name counted by `counts()`, e.g. `/items/[id]`; matches Cicada's name grouping. */
  readonly name: string;
  /** Exact path, or a pattern whose groups become `params`. */
  readonly path: string | RegExp;
  readonly latency: Latency;
  /** Whether the server's `errorRate` applies (503). `/flaky` has its own rate instead. */
  readonly errorProne: boolean;
  /** Fixed failure probability, overriding errorRate (used by `/flaky`). */
  readonly failRate?: number;
  /** Read and parse a JSON body before handling. */
  readonly body?: boolean;
  handle(state: ShopState, input: RouteInput): Reply;
}

/** Sessions kept at most; the oldest go first, so a long load test cannot grow memory forever. */
const MAX_SESSIONS = 100_000;

const badRequest = (message: string): Reply => ({ status: 400, json: { error: message } });

const HOME_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cicada demo shop</title></head>
<body><h1>Cicada demo shop</h1>
<p>A fake shop to point load tests at. Endpoints:</p>
<ul>
<li>GET /items?page=n, GET /items/:id (1–1000), GET /search?q=lamp</li>
<li>POST /cart {"id": 1}, POST /checkout</li>
<li>POST /login {"name": "ann"}, GET /account (needs the session cookie)</li>
<li>GET /slow, GET /flaky (fails 30 %), GET /health</li>
</ul>
<p>Try: <code>npx cicada -f examples/cicadafile.ts -H http://127.0.0.1:8080</code></p>
</body></html>
`;

function listItems(state: ShopState, { query }: RouteInput): Reply {
  const raw = query.get('page') ?? '1';
  const page = Number(raw);
  if (!/^[0-9]{1,6}$/.test(raw) || page < 1) return badRequest('page must be a whole number from 1');
  const body = state.catalog.pages[page - 1];
  if (body === undefined) return { status: 200, json: { page, items: [] } };
  return { status: 200, raw: body };
}

function getItem(state: ShopState, { params }: RouteInput): Reply {
  const raw = params[0] ?? '';
  const body = /^[0-9]{1,6}$/.test(raw) ? state.catalog.details[Number(raw) - 1] : undefined;
  return body === undefined ? { status: 404, json: { error: `no item ${raw}` } } : { status: 200, raw: body };
}

function searchItems(state: ShopState, { query }: RouteInput): Reply {
  const q = query.get('q')?.trim() ?? '';
  if (q === '' || q.length > 100) return badRequest('q must be 1–100 characters');
  const hits = search(state.catalog, q);
  return { status: 200, json: { query: q, count: hits.length, items: hits } };
}

function addToCart(state: ShopState, { body, sessionId }: RouteInput): Reply {
  const id = asObject(body)?.['id'];
  const quantity = asObject(body)?.['quantity'] ?? 1;
  if (typeof id !== 'number' || !Number.isInteger(id)) return badRequest('body must be {"id": <item id>, "quantity"?: n}');
  if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1 || quantity > 99) {
    return badRequest('quantity must be a whole number from 1 to 99');
  }
  const item = state.catalog.summaries[id - 1];
  if (item === undefined) return { status: 404, json: { error: `no item ${id}` } };
  const session = sessionId === undefined ? undefined : state.sessions.get(sessionId);
  // The cart is bounded too: it only feeds the checkout's item count.
  if (session !== undefined && session.cart.length < 100) session.cart.push(id);
  return { status: 201, json: { added: { id, name: item.name, price: item.price, quantity }, cartSize: session?.cart.length ?? quantity } };
}

function checkout(state: ShopState, { sessionId }: RouteInput): Reply {
  const session = sessionId === undefined ? undefined : state.sessions.get(sessionId);
  const items = session?.cart.splice(0) ?? [];
  const total = items.reduce((sum, id) => sum + (state.catalog.summaries[id - 1]?.price ?? 0), 0);
  return {
    status: 200,
    json: {
      orderId: `ord_${state.random.int(100_000, 999_999)}`,
      status: 'confirmed',
      items: items.length,
      total: Math.round(total * 100) / 100,
      currency: 'EUR',
      estimatedDelivery: `${state.random.int(1, 5)} days`,
    },
  };
}

function login(state: ShopState, { body }: RouteInput): Reply {
  const name = asObject(body)?.['name'];
  if (typeof name !== 'string' || name.trim() === '' || name.length > 64) return badRequest('body must be {"name": "<1–64 characters>"}');
  // Tokens come from node:crypto, not the seeded PRNG: even a demo should not hand out guessable sessions.
  const token = randomBytes(18).toString('base64url');
  if (state.sessions.size >= MAX_SESSIONS) {
    const oldest = state.sessions.keys().next();
    if (oldest.done !== true) state.sessions.delete(oldest.value);
  }
  state.sessions.set(token, { name, since: new Date().toISOString(), cart: [] });
  return { status: 200, json: { name, loggedIn: true }, headers: { 'set-cookie': `session=${token}; HttpOnly; Path=/` } };
}

function account(state: ShopState, { sessionId }: RouteInput): Reply {
  const session = sessionId === undefined ? undefined : state.sessions.get(sessionId);
  if (session === undefined) return { status: 401, json: { error: 'log in first: POST /login {"name": "..."}' } };
  const orders = Array.from({ length: 5 }, (_, i) => ({
    orderId: `ord_${100_000 + i * 7919}`,
    total: Math.round(state.random.uniform(5, 500) * 100) / 100,
    status: i === 0 ? 'shipped' : 'delivered',
  }));
  return { status: 200, json: { name: session.name, memberSince: session.since, cartSize: session.cart.length, orders } };
}

/** All routes, matched in order. */
export const ROUTES: readonly Route[] = [
  { method: 'GET', name: '/', path: '/', latency: { min: 3, max: 7 }, errorProne: false, handle: () => ({ status: 200, raw: HOME_PAGE, contentType: 'text/html; charset=utf-8' }) },
  { method: 'GET', name: '/health', path: '/health', latency: { min: 0, max: 1 }, errorProne: false, handle: () => ({ status: 200, json: { status: 'ok' } }) },
  { method: 'GET', name: '/items', path: '/items', latency: { min: 20, max: 40 }, errorProne: true, handle: listItems },
  { method: 'GET', name: '/items/[id]', path: /^\/items\/([^/]+)$/, latency: { min: 10, max: 30, tailChance: 0.03, tailMin: 4, tailMax: 10 }, errorProne: true, handle: getItem },
  { method: 'GET', name: '/search', path: '/search', latency: { min: 50, max: 150 }, errorProne: true, handle: searchItems },
  { method: 'POST', name: '/cart', path: '/cart', latency: { min: 10, max: 20 }, errorProne: true, body: true, handle: addToCart },
  { method: 'POST', name: '/checkout', path: '/checkout', latency: { min: 100, max: 300, tailChance: 0.02, tailMin: 2, tailMax: 3 }, errorProne: true, body: true, handle: checkout },
  { method: 'POST', name: '/login', path: '/login', latency: { min: 20, max: 40 }, errorProne: false, body: true, handle: login },
  { method: 'GET', name: '/account', path: '/account', latency: { min: 10, max: 25 }, errorProne: false, handle: account },
  { method: 'GET', name: '/slow', path: '/slow', latency: { min: 450, max: 550 }, errorProne: true, handle: () => ({ status: 200, json: { slow: true, message: 'took its time' } }) },
  { method: 'GET', name: '/flaky', path: '/flaky', latency: { min: 5, max: 20 }, errorProne: false, failRate: 0.3, handle: () => ({ status: 200, json: { flaky: true, message: 'worked this time' } }) },
];

/** The route for a method and path, the params its pattern captured, or why none matched. */
export function matchRoute(method: string, path: string): { route: Route; params: string[] } | { allowed: string[] } {
  // HEAD is answered like GET (node drops the body); it is still counted as HEAD.
  const effective = method === 'HEAD' ? 'GET' : method;
  const allowed: string[] = [];
  for (const route of ROUTES) {
    const match = typeof route.path === 'string' ? (route.path === path ? [path] : null) : route.path.exec(path);
    if (match === null) continue;
    if (route.method === effective) return { route, params: match.slice(1) };
    allowed.push(route.method);
  }
  return { allowed };
}
