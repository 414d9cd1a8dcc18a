// HTTP: request parsing, authentication, fault injection, dispatch and responses.
import http from 'node:http';
import type { RequestRecord, Verb } from './types.ts';
import { sameString } from './util.ts';
import { ApiError, badRequest, methodNotAllowed, notFoundPath, qualified } from './resource-types.ts';
import type { ServerState } from './state.ts';
import { notifyChanged } from './store.ts';
import { type Route, routeOf } from './routes.ts';
import { serveResource } from './requests.ts';

export function readBody(req: http.IncomingMessage, limit = 3 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) reject(new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`the body of the request was not valid JSON: ${(err as Error).message}`);
  }
}

export async function handle(srv: ServerState, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const record: RequestRecord = { method: req.method ?? 'GET', path: url.pathname, query, verb: 'unknown', time: Date.now() };
  let raw = '';
  try {
    raw = await readBody(req);
  } catch (err) {
    srv.requests.push(record);
    sendError(res, record, err);
    return;
  }
  const contentType = req.headers['content-type'];
  if (contentType) record.contentType = contentType;
  if (raw) {
    try {
      record.body = JSON.parse(raw) as unknown;
    } catch {
      record.body = raw;
    }
  }
  let route: Route;
  try {
    route = routeOf(srv, url.pathname);
  } catch (err) {
    srv.requests.push(record);
    sendError(res, record, err);
    return;
  }
  if (route.kind === 'resource') {
    record.resource = qualified(route.type);
    if (route.namespace !== undefined) record.namespace = route.namespace;
    if (route.name !== undefined) record.name = route.name;
    if (route.sub !== undefined) record.subresource = route.sub;
    record.verb = verbOf(record.method, route, query);
  } else if (route.kind !== 'unknown') record.verb = 'discovery';
  srv.requests.push(record);
  notifyChanged(srv);
  try {
    const auth = req.headers.authorization ?? '';
    if (srv.token !== null && !sameString(auth, `Bearer ${srv.token}`)) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    const fault = srv.fault?.(record);
    if (fault === 'drop') {
      record.status = 0;
      res.destroy();
      return;
    }
    if (fault) {
      const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'Retry-After': String(fault.retryAfterSeconds) } : {};
      throw new ApiError(fault.code, fault.reason ?? 'InternalError', fault.message ?? `injected fault (${fault.code})`, {}, headers);
    }
    switch (route.kind) {
      case 'unknown':
        throw notFoundPath();
      case 'discovery':
        if (record.method !== 'GET') throw methodNotAllowed();
        send(res, record, 200, route.body);
        return;
      case 'text':
        sendText(res, record, 200, route.body);
        return;
      case 'resource':
        serveResource(srv, req, res, record, route, query, raw);
        return;
    }
  } catch (err) {
    sendError(res, record, err);
  }
}

export function verbOf(method: string, route: Extract<Route, { kind: 'resource' }>, query: Record<string, string>): Verb {
  const watch = query.watch === 'true' || query.watch === '1' || route.legacyWatch;
  switch (method) {
    case 'GET':
      return watch ? 'watch' : route.name === undefined ? 'list' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return route.name === undefined ? 'deletecollection' : 'delete';
    default:
      return 'unknown';
  }
}

export function send(res: http.ServerResponse, record: RequestRecord, code: number, body: unknown, headers: Record<string, string> = {}): void {
  record.status = code;
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
    ...headers,
  });
  res.end(text);
}

export function sendText(res: http.ServerResponse, record: RequestRecord, code: number, text: string): void {
  record.status = code;
  res.writeHead(code, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: http.ServerResponse, record: RequestRecord, err: unknown): void {
  const e =
    err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  send(res, record, e.code, e.status(), e.headers);
}
