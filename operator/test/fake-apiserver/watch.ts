// Watch streams: initial events, resume from history, selectors, bookmarks and expiry.
import http from 'node:http';
import type { RequestRecord, WatchEventType } from './types.ts';
import { meta, type Obj } from './util.ts';
import { ApiError, badRequest, type ResourceType } from './resource-types.ts';
import type { FieldRequirement, LabelRequirement } from './selectors.ts';
import type { HistoryEntry, ServerState, Watcher } from './state.ts';
import { listObjects, matches, notifyChanged, present } from './store.ts';

export function startWatch(
  srv: ServerState,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  record: RequestRecord,
  t: ResourceType,
  namespace: string | undefined,
  labels: LabelRequirement[],
  fields: FieldRequirement[],
  query: Record<string, string>,
): void {
  const rvParam = query.resourceVersion ?? '';
  const bookmarks = query.allowWatchBookmarks === 'true' || query.allowWatchBookmarks === '1';
  const sendInitial = query.sendInitialEvents === 'true';
  if (sendInitial && (query.resourceVersionMatch !== 'NotOlderThan' || !bookmarks)) {
    throw new ApiError(422, 'Invalid', 'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan and allowWatchBookmarks to true');
  }
  const fromRV = rvParam === '' || rvParam === '0' || sendInitial ? undefined : Number(rvParam);
  if (fromRV !== undefined && (!Number.isInteger(fromRV) || fromRV < 0)) throw badRequest(`invalid resource version: ${rvParam}`);
  const timeoutSeconds = query.timeoutSeconds === undefined ? undefined : Number(query.timeoutSeconds);
  record.status = 200;
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  const w: Watcher = { type: t, namespace, labels, fields, res, bookmarks, timers: [], closed: false };
  if (fromRV !== undefined && fromRV < srv.compactedRV) {
    const expired = new ApiError(410, 'Expired', `too old resource version: ${fromRV} (${srv.compactedRV})`);
    writeEvent(w, 'ERROR', expired.status());
    res.end();
    return;
  }
  srv.watchers.add(w);
  // Not req.on('close'): since Node 16 that fires once the request body is consumed, not when the client goes.
  const stop = () => endWatch(srv, w);
  res.on('close', stop);
  res.on('error', stop);
  if (fromRV === undefined) {
    for (const o of listObjects(srv, t, namespace, labels, fields)) writeEvent(w, 'ADDED', present(t, o));
    if (sendInitial) sendBookmark(srv, w, true);
  } else {
    for (const e of srv.history) if (e.rv > fromRV) deliver(w, e);
  }
  const limits = [timeoutSeconds !== undefined && timeoutSeconds > 0 ? timeoutSeconds * 1000 : undefined, srv.options.watchTimeoutMs].filter(
    (x): x is number => x !== undefined,
  );
  if (limits.length > 0) w.timers.push(setTimeout(stop, Math.min(...limits)));
  if (bookmarks && srv.options.bookmarkIntervalMs > 0) w.timers.push(setInterval(() => sendBookmark(srv, w), srv.options.bookmarkIntervalMs));
  for (const timer of w.timers) timer.unref();
}

export function deliver(w: Watcher, e: HistoryEntry): void {
  if (w.closed || w.type.storage !== e.storage) return;
  const now = matches(w.type, w.namespace, w.labels, w.fields, e.obj);
  const before = e.old !== undefined && matches(w.type, w.namespace, w.labels, w.fields, e.old);
  if (e.type === 'ADDED' && now) writeEvent(w, 'ADDED', present(w.type, e.obj));
  else if (e.type === 'DELETED' && before) writeEvent(w, 'DELETED', present(w.type, e.obj));
  else if (e.type === 'MODIFIED') {
    if (now && before) writeEvent(w, 'MODIFIED', present(w.type, e.obj));
    else if (now) writeEvent(w, 'ADDED', present(w.type, e.obj));
    else if (before) {
      // Leaving the selector looks like a deletion to this watcher (object in its last matching state, new RV).
      const gone = present(w.type, e.old!);
      meta(gone).resourceVersion = String(e.rv);
      writeEvent(w, 'DELETED', gone);
    }
  }
}

export function sendBookmark(srv: ServerState, w: Watcher, initialEventsEnd = false): void {
  const metadata: Obj = { resourceVersion: String(srv.rv) };
  if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
  writeEvent(w, 'BOOKMARK', { kind: w.type.kind, apiVersion: w.type.apiVersion, metadata });
}

export function writeEvent(w: Watcher, type: WatchEventType, object: Obj): void {
  if (w.closed || w.res.writableEnded || w.res.destroyed) return;
  w.res.write(`${JSON.stringify({ type, object })}\n`);
}

export function endWatch(srv: ServerState, w: Watcher): void {
  if (w.closed) return;
  w.closed = true;
  for (const timer of w.timers) clearTimeout(timer);
  srv.watchers.delete(w);
  if (!w.res.writableEnded) w.res.end();
  notifyChanged(srv);
}
