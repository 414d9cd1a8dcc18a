// Serving resource requests: get, list, create, update, patch, delete and deletecollection.
import http from 'node:http';
import { parse as parseYaml } from 'yaml';
import { DELETE_POLICIES, type DeletePolicy, type RequestRecord } from './types.ts';
import { arr, clone, isObj, meta, type Obj, objOr, str } from './util.ts';
import { applyJsonPatch, mergePatch, PatchError } from './patch.ts';
import { ApiError, badRequest, conflict, invalid, invalidError, methodNotAllowed, notFound, notSupported, required, type ResourceType } from './resource-types.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { ServerState, WriteOptions } from './state.ts';
import { keyOf, listObjects, notifyChanged, present, storeOf } from './store.ts';
import { admit, createObject, updateObject } from './writes.ts';
import { deleteObject } from './gc.ts';
import { startWatch } from './watch.ts';
import type { Route } from './routes.ts';
import { parseJson, send, sendText } from './http.ts';

export const JOB_ORPHAN_WARNING =
  '299 - "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning"';

export function serveResource(
  srv: ServerState,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  record: RequestRecord,
  route: Extract<Route, { kind: 'resource' }>,
  query: Record<string, string>,
  raw: string,
): void {
  const { type: t, namespace, name, sub } = route;
  const dryRun = dryRunOf(query);
  switch (record.verb) {
    case 'watch': {
      const fields = parseFieldSelector(t, query.fieldSelector);
      if (name !== undefined) fields.push({ field: 'metadata.name', value: name, negate: false });
      startWatch(srv, req, res, record, t, namespace, parseLabelSelector(query.labelSelector), fields, query);
      return;
    }
    case 'list': {
      const items = listObjects(srv, t, namespace, parseLabelSelector(query.labelSelector), parseFieldSelector(t, query.fieldSelector));
      send(res, record, 200, listBody(srv, t, items, query));
      return;
    }
    case 'get': {
      const o = storeOf(srv, t.storage).get(keyOf(t, namespace, name!));
      if (!o) throw notFound(t, name!);
      if (sub === 'log') {
        sendText(res, record, 200, srv.podLogs.get(keyOf(t, namespace, name!)) ?? '');
        return;
      }
      send(res, record, 200, present(t, o));
      return;
    }
    case 'create': {
      if (name !== undefined) throw methodNotAllowed();
      if (t.namespaced && namespace === undefined) throw methodNotAllowed();
      const body = parseJson(raw);
      if (!isObj(body)) throw badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: the body must be a JSON object`);
      const created = createObject(srv, t, namespace, body, { api: true, dryRun });
      send(res, record, 201, present(t, created));
      return;
    }
    case 'update': {
      if (name === undefined || sub === 'log') throw methodNotAllowed();
      const body = parseJson(raw);
      if (!isObj(body)) throw badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: the body must be a JSON object`);
      const existed = storeOf(srv, t.storage).has(keyOf(t, namespace, name));
      const updated = updateObject(srv, t, namespace, name, body, { api: true, dryRun, ...(sub ? { subresource: sub } : {}) });
      send(res, record, existed ? 200 : 201, present(t, updated));
      return;
    }
    case 'patch': {
      if (name === undefined || sub === 'log') throw methodNotAllowed();
      const { obj, created } = patchRequest(srv, t, namespace, name, sub, record.contentType, raw, query, dryRun);
      send(res, record, created ? 201 : 200, present(t, obj));
      return;
    }
    case 'delete': {
      if (sub !== undefined) throw methodNotAllowed();
      deleteRequest(srv, res, record, t, namespace, name!, query, raw, dryRun);
      return;
    }
    case 'deletecollection': {
      if (t.namespaced && namespace === undefined) throw methodNotAllowed();
      const items = listObjects(srv, t, namespace, parseLabelSelector(query.labelSelector), parseFieldSelector(t, query.fieldSelector));
      const policy = deletePolicy(t, query, raw);
      const deleted: Obj[] = [];
      for (const o of items) {
        const key = keyOf(t, str(meta(o).namespace), String(meta(o).name));
        if (!storeOf(srv, t.storage).has(key)) continue;
        admit(srv, t, 'DELETE', undefined, o, { api: true, dryRun });
        deleted.push(dryRun ? o : deleteObject(srv, t, key, policy ?? t.defaultPolicy).obj);
      }
      notifyChanged(srv);
      send(res, record, 200, listBody(srv, t, deleted, {}));
      return;
    }
    default:
      throw methodNotAllowed();
  }
}

export function dryRunOf(query: Record<string, string>): boolean {
  if (query.dryRun === undefined || query.dryRun === '') return false;
  if (query.dryRun !== 'All') throw badRequest(`Invalid dry run value: ${query.dryRun}: supported values: "All"`);
  return true;
}

export function listBody(srv: ServerState, t: ResourceType, items: Obj[], query: Record<string, string>): Obj {
  let page = items;
  let cont: string | undefined;
  let remaining: number | undefined;
  const limit = Number(query.limit ?? 0);
  let start = 0;
  if (query.continue) {
    try {
      const token = JSON.parse(Buffer.from(query.continue, 'base64url').toString('utf8')) as { start?: unknown };
      start = Number(token.start);
    } catch {
      throw badRequest('continue key is not valid');
    }
    if (!Number.isInteger(start) || start < 0) throw badRequest('continue key is not valid');
  }
  if (limit > 0 || start > 0) {
    const end = limit > 0 ? start + limit : items.length;
    page = items.slice(start, end);
    if (end < items.length) {
      cont = Buffer.from(JSON.stringify({ start: end, rv: srv.rv })).toString('base64url');
      remaining = items.length - end;
    }
  }
  return {
    kind: t.listKind,
    apiVersion: t.apiVersion,
    metadata: { resourceVersion: String(srv.rv), ...(cont ? { continue: cont, remainingItemCount: remaining } : {}) },
    items: page.map((o) => {
      const p = present(t, o);
      if (!t.custom) {
        // Typed lists from the real server carry kind/apiVersion only on the list, not on the items.
        delete p.kind;
        delete p.apiVersion;
      }
      return p;
    }),
  };
}

export function patchRequest(
  srv: ServerState,
  t: ResourceType,
  namespace: string | undefined,
  name: string,
  sub: string | undefined,
  contentType: string | undefined,
  raw: string,
  query: Record<string, string>,
  dryRun: boolean,
): { obj: Obj; created: boolean } {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const accepted = t.custom
    ? ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml']
    : ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];
  if (!accepted.includes(ct)) {
    throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
  }
  const store = storeOf(srv, t.storage);
  const key = keyOf(t, namespace, name);
  const cur = store.get(key);
  const opts: WriteOptions = { api: true, dryRun, patch: true, ...(sub ? { subresource: sub } : {}) };
  if (ct === 'application/apply-patch+yaml') {
    if (!query.fieldManager) {
      throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', {
        group: 'meta.k8s.io',
        kind: 'PatchOptions',
        causes: [required('fieldManager', 'is required for apply patch')],
      });
    }
    let applied: unknown;
    try {
      applied = parseYaml(raw) as unknown;
    } catch (err) {
      throw badRequest(`error decoding YAML: ${(err as Error).message}`);
    }
    if (!isObj(applied)) throw badRequest('the apply patch must be an object');
    if (!str(applied.kind) || !str(applied.apiVersion)) throw badRequest('invalid object type: apply patches need apiVersion and kind');
    if (!cur) {
      if (sub) throw notFound(t, name);
      const o = clone(applied);
      meta(o).name = name;
      return { obj: createObject(srv, t, namespace, o, { api: true, dryRun }), created: true };
    }
    const merged = mergePatch(present(t, cur), applied) as Obj;
    return { obj: updateObject(srv, t, namespace, name, merged, opts), created: false };
  }
  if (!cur) throw notFound(t, name);
  const body = parseJson(raw);
  let patched: unknown;
  if (ct === 'application/json-patch+json') {
    if (!Array.isArray(body)) {
      throw badRequest(`json: cannot unmarshal ${isObj(body) ? 'object' : typeof body} into Go value of type jsonpatch.Patch`);
    }
    try {
      patched = applyJsonPatch(present(t, cur), body);
    } catch (err) {
      if (err instanceof PatchError) throw new ApiError(422, 'Invalid', err.message);
      throw err;
    }
  } else {
    if (!isObj(body)) throw badRequest('the merge patch must be a JSON object');
    patched = mergePatch(present(t, cur), body);
  }
  if (!isObj(patched)) throw new ApiError(422, 'Invalid', 'the patched document is not an object');
  return { obj: updateObject(srv, t, namespace, name, patched, opts), created: false };
}

export function deletePolicy(t: ResourceType, query: Record<string, string>, raw: string): DeletePolicy | undefined {
  const body = raw.trim() ? parseJson(raw) : {};
  const opts = objOr(body);
  const policy = opts.propagationPolicy ?? query.propagationPolicy;
  const orphan = opts.orphanDependents ?? (query.orphanDependents === undefined ? undefined : query.orphanDependents === 'true');
  if (policy !== undefined && orphan !== undefined) {
    throw invalidError(t, '', [invalid('propagationPolicy', policy, 'orphanDependents and deletionPropagation cannot be both set')]);
  }
  if (policy !== undefined) {
    if (!DELETE_POLICIES.includes(policy as DeletePolicy)) throw invalidError(t, '', [notSupported('propagationPolicy', policy, [...DELETE_POLICIES])]);
    return policy as DeletePolicy;
  }
  if (orphan !== undefined) return orphan ? 'Orphan' : 'Background';
  return undefined;
}

export function deleteRequest(
  srv: ServerState,
  res: http.ServerResponse,
  record: RequestRecord,
  t: ResourceType,
  namespace: string | undefined,
  name: string,
  query: Record<string, string>,
  raw: string,
  dryRun: boolean,
): void {
  const store = storeOf(srv, t.storage);
  const key = keyOf(t, namespace, name);
  const cur = store.get(key);
  if (!cur) throw notFound(t, name);
  const m = meta(cur);
  const pre = objOr(objOr(raw.trim() ? parseJson(raw) : {}).preconditions);
  if (str(pre.uid) && pre.uid !== m.uid) {
    throw conflict(t, name, `Precondition failed: UID in precondition: ${String(pre.uid)}, UID in object meta: ${String(m.uid)}`);
  }
  if (str(pre.resourceVersion) && pre.resourceVersion !== m.resourceVersion) {
    throw conflict(t, name, `Precondition failed: ResourceVersion in precondition: ${String(pre.resourceVersion)}, ResourceVersion in object meta: ${String(m.resourceVersion)}`);
  }
  const explicit = deletePolicy(t, query, raw);
  const fins = arr(m.finalizers);
  const policy: DeletePolicy = explicit ?? (fins.includes('orphan') ? 'Orphan' : fins.includes('foregroundDeletion') ? 'Foreground' : t.defaultPolicy);
  const headers: Record<string, string> = explicit === undefined && t.storage === 'jobs.batch' ? { Warning: JOB_ORPHAN_WARNING } : {};
  admit(srv, t, 'DELETE', undefined, cur, { api: true, dryRun });
  let result: { obj: Obj; deleted: boolean };
  if (dryRun) result = { obj: cur, deleted: fins.length === 0 };
  else {
    result = deleteObject(srv, t, key, policy);
    notifyChanged(srv);
  }
  if (!result.deleted || t.returnDeleted) {
    send(res, record, 200, present(t, result.obj), headers);
    return;
  }
  send(
    res,
    record,
    200,
    { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: t.group, kind: t.plural, uid: m.uid } },
    headers,
  );
}
