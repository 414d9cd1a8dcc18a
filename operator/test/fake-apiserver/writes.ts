// Writes: create, update (resourceVersion, status subresource, generation), kind checks and admission.
import { randomUUID } from 'node:crypto';
import type { AdmissionRequest, ObjectRef, StoredObject } from './types.ts';
import { arr, clone, deepEqual, meta, nowSeconds, type Obj, randomSuffix, str } from './util.ts';
import { mergePatch } from './patch.ts';
import { alreadyExists, ApiError, badRequest, conflict, invalid, invalidError, notFound, qualified, required, type ResourceType } from './resource-types.ts';
import { decodeChecks, validate } from './validation.ts';
import { applyDefaults } from './defaults.ts';
import type { ServerState, WriteOptions } from './state.ts';
import { absorb, emit, keyOf, notifyChanged, present, refOf, resolveKind, storeOf } from './store.ts';
import { removeObject } from './gc.ts';

export function createObject(srv: ServerState, t: ResourceType, pathNamespace: string | undefined, o: Obj, opts: WriteOptions): Obj {
  if (opts.api) {
    decodeChecks(t, o);
    checkKind(t, o);
  }
  const obj = absorb(t, o);
  const m = meta(obj);
  if (t.namespaced) {
    const ns = str(m.namespace);
    if (pathNamespace !== undefined && ns !== undefined && ns !== '' && ns !== pathNamespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    m.namespace = pathNamespace ?? (ns || 'default');
  } else delete m.namespace;
  if (opts.api && str(m.resourceVersion)) {
    throw new ApiError(500, 'InternalError', 'Internal error occurred: resourceVersion should not be set on objects to be created');
  }
  const store = storeOf(srv, t.storage);
  if (!str(m.name) && str(m.generateName)) {
    const prefix = (m.generateName as string).slice(0, 58);
    let name = '';
    do name = prefix + randomSuffix();
    while (store.has(keyOf(t, str(m.namespace), name)));
    m.name = name;
  }
  m.uid = randomUUID();
  m.creationTimestamp = nowSeconds();
  delete m.resourceVersion;
  delete m.deletionTimestamp;
  delete m.deletionGracePeriodSeconds;
  if (t.generation) m.generation = 1;
  else delete m.generation;
  if (opts.api && t.status) delete obj.status;
  applyDefaults(srv, t, obj, undefined, opts.api);
  if (opts.api) {
    const causes = validate(t, obj, undefined);
    if (causes.length > 0) throw invalidError(t, str(m.name) ?? '', causes);
  }
  const name = str(m.name);
  if (!name) throw invalidError(t, '', [required('metadata.name', 'name or generateName is required')]);
  const key = keyOf(t, str(m.namespace), name);
  if (store.has(key)) throw alreadyExists(t, name);
  if (opts.api) admit(srv, t, 'CREATE', obj, undefined, opts);
  if (opts.dryRun) return obj;
  m.resourceVersion = String(++srv.rv);
  store.set(key, obj);
  emit(srv, { rv: srv.rv, storage: t.storage, type: 'ADDED', obj: clone(obj) });
  notifyChanged(srv);
  return obj;
}

export function updateObject(srv: ServerState, t: ResourceType, namespace: string | undefined, name: string, o: Obj, opts: WriteOptions): Obj {
  if (opts.api) {
    decodeChecks(t, o);
    checkKind(t, o);
  }
  const store = storeOf(srv, t.storage);
  const key = keyOf(t, namespace, name);
  const old = store.get(key);
  const incoming = absorb(t, o);
  const im = meta(incoming);
  if (str(im.name) !== undefined && im.name !== name) {
    throw badRequest(`the name of the object (${String(im.name)}) does not match the name on the URL (${name})`);
  }
  if (t.namespaced && str(im.namespace) && im.namespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  if (!old) {
    if (opts.api && !t.createOnUpdate) throw notFound(t, name);
    im.name = name;
    delete im.resourceVersion;
    return createObject(srv, t, namespace, present(t, incoming), { ...opts, api: false });
  }
  const om = meta(old);
  const rv = str(im.resourceVersion);
  if (opts.api) {
    if (!rv && !t.unconditionalUpdate && !opts.patch) {
      throw invalidError(t, name, [invalid('metadata.resourceVersion', '0x0', 'must be specified for an update')]);
    }
    if (rv && rv !== om.resourceVersion) throw conflict(t, name);
    if (str(im.uid) && im.uid !== om.uid) {
      throw conflict(t, name, `Precondition failed: UID in precondition: ${String(im.uid)}, UID in object meta: ${String(om.uid)}`);
    }
  }
  let next: Obj;
  if (opts.subresource === 'status') {
    next = clone(old);
    if (incoming.status === undefined) delete next.status;
    else next.status = clone(incoming.status);
  } else {
    next = incoming;
    if (opts.api && t.status) {
      if (old.status === undefined) delete next.status;
      else next.status = clone(old.status);
    }
  }
  const nm = meta(next);
  for (const f of ['uid', 'creationTimestamp', 'namespace', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation']) {
    if (om[f] === undefined) delete nm[f];
    else nm[f] = om[f];
  }
  nm.name = name;
  nm.resourceVersion = om.resourceVersion;
  applyDefaults(srv, t, next, old, opts.api);
  if (t.generation && opts.subresource !== 'status') {
    const strip = (x: Obj) => {
      const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = x;
      return rest;
    };
    if (!deepEqual(strip(next), strip(old))) nm.generation = (Number(om.generation) || 0) + 1;
  }
  if (opts.api) {
    const causes = validate(t, next, old);
    if (causes.length > 0) throw invalidError(t, name, causes);
    admit(srv, t, 'UPDATE', next, old, opts);
  }
  if (deepEqual(next, old)) return old; // a no-op write: no new resourceVersion, no event (as the real server)
  if (opts.dryRun) return next;
  nm.resourceVersion = String(++srv.rv);
  store.set(key, next);
  emit(srv, { rv: srv.rv, storage: t.storage, type: 'MODIFIED', obj: clone(next), old: clone(old) });
  if (nm.deletionTimestamp && arr(nm.finalizers).length === 0) {
    removeObject(srv, t, key, srv.pendingPolicies.get(String(nm.uid)) ?? 'Background');
  }
  notifyChanged(srv);
  return next;
}

export function checkKind(t: ResourceType, o: Obj): void {
  const kind = o.kind;
  const apiVersion = o.apiVersion;
  if (t.custom && (kind === undefined || kind === '')) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(o)}'`);
  if (t.custom && (apiVersion === undefined || apiVersion === '')) throw badRequest(`Object 'apiVersion' is missing in '${JSON.stringify(o)}'`);
  if (kind !== undefined && kind !== '' && kind !== t.kind) {
    throw badRequest(`${JSON.stringify(kind)} in version "${t.version}" cannot be handled as a ${t.kind}: the kind in the body does not match the URL`);
  }
  if (apiVersion !== undefined && apiVersion !== '' && apiVersion !== t.apiVersion) {
    throw badRequest(`the API version in the data (${JSON.stringify(apiVersion)}) does not match the expected API version (${t.apiVersion})`);
  }
}

export function admit(srv: ServerState, t: ResourceType, operation: AdmissionRequest['operation'], obj: Obj | undefined, old: Obj | undefined, opts: WriteOptions): void {
  if (!srv.admission) return;
  const m = obj ? meta(obj) : old ? meta(old) : {};
  const request: AdmissionRequest = {
    operation,
    resource: qualified(t),
    group: t.group,
    version: t.version,
    kind: t.kind,
    ...(opts.subresource ? { subresource: opts.subresource } : {}),
    ...(str(m.namespace) ? { namespace: m.namespace as string } : {}),
    ...(str(m.name) ? { name: m.name as string } : {}),
    ...(obj ? { object: present(t, obj) as StoredObject } : {}),
    ...(old ? { oldObject: present(t, old) as StoredObject } : {}),
    dryRun: opts.dryRun,
  };
  const result = srv.admission(request);
  if (result === undefined || result === null) return;
  const r = typeof result === 'string' ? { message: result } : result;
  const code = r.code ?? 422;
  const reason = r.reason ?? (code === 422 ? 'Invalid' : code === 403 ? 'Forbidden' : 'BadRequest');
  throw new ApiError(code, reason, r.message, { name: str(m.name) ?? '', group: t.group, kind: t.kind });
}

/** Applies a JSON merge patch (status included) to a stored object, as a controller would; emits MODIFIED. */
export function patchStored(srv: ServerState, kind: string, ref: ObjectRef, mergePatchBody: unknown): Obj {
  const t = resolveKind(srv, kind);
  const { name, namespace } = refOf(t, ref);
  const cur = storeOf(srv, t.storage).get(keyOf(t, namespace, name));
  if (!cur) throw notFound(t, name);
  const next = mergePatch(present(t, cur), mergePatchBody) as Obj;
  delete meta(next).resourceVersion;
  return present(t, updateObject(srv, t, namespace, name, next, { api: false, dryRun: false }));
}
