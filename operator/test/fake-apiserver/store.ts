// The registry of resource types and object storage: lookup, presentation, listing, history and CRD registration.
import type { ObjectRef } from './types.ts';
import { arr, clone, getPath, isObj, meta, nowSeconds, type Obj, objOr, str } from './util.ts';
import { qualified, qualifiedKind, type ResourceType, resourceType } from './resource-types.ts';
import { type FieldRequirement, fieldValue, type LabelRequirement, labelsMatch } from './selectors.ts';
import { coreEventToV1, v1EventToCore } from './events.ts';
import type { HistoryEntry, ServerState } from './state.ts';
import { patchStored } from './writes.ts';
import { scheduleGC } from './gc.ts';
import { deliver } from './watch.ts';

export function resolveKind(srv: ServerState, kind: string): ResourceType {
  const k = kind.toLowerCase();
  const t =
    srv.types.find((x) => qualified(x).toLowerCase() === k || qualifiedKind(x).toLowerCase() === k) ??
    srv.types.find((x) => x.plural === k || x.kind.toLowerCase() === k || x.singular === k || x.shortNames.includes(k));
  if (!t) throw new Error(`fake-apiserver: unknown kind '${kind}'`);
  return t;
}

export function typeFor(srv: ServerState, apiVersion: string, kind: string): ResourceType | undefined {
  return srv.types.find((t) => t.apiVersion === apiVersion && t.kind === kind);
}

export function refOf(t: ResourceType, ref: ObjectRef): { name: string; namespace: string | undefined } {
  const o = (typeof ref === 'string' ? { name: ref } : ref) as Obj;
  const r = isObj(o.metadata) ? o.metadata : o;
  const name = str(r.name);
  if (!name) throw new Error('fake-apiserver: object reference without a name');
  return { name, namespace: t.namespaced ? (str(r.namespace) ?? 'default') : undefined };
}

export function storeOf(srv: ServerState, storage: string): Map<string, Obj> {
  let s = srv.stores.get(storage);
  if (!s) srv.stores.set(storage, (s = new Map<string, Obj>()));
  return s;
}

export function keyOf(t: ResourceType, namespace: string | undefined, name: string): string {
  return t.namespaced ? `${namespace ?? ''}/${name}` : name;
}

/** The stored (canonical) object as the given type presents it. */
export function present(t: ResourceType, o: Obj): Obj {
  if (t.group === 'events.k8s.io') return coreEventToV1(o);
  const { apiVersion: _a, kind: _k, ...rest } = clone(o);
  return { apiVersion: t.apiVersion, kind: t.kind, ...rest };
}

/** An object in the type's schema, converted to the stored (canonical) form. */
export function absorb(t: ResourceType, o: Obj): Obj {
  if (t.group === 'events.k8s.io') return v1EventToCore(o);
  const { apiVersion: _a, kind: _k, ...rest } = clone(o);
  return { apiVersion: t.apiVersion, kind: t.kind, ...rest };
}

export function listObjects(srv: ServerState, t: ResourceType, namespace: string | undefined, labels: LabelRequirement[], fields: FieldRequirement[]): Obj[] {
  const out: Array<[string, Obj]> = [];
  for (const [k, o] of storeOf(srv, t.storage)) if (matches(t, namespace, labels, fields, o)) out.push([k, o]);
  out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return out.map(([, o]) => o);
}

export function matches(t: ResourceType, namespace: string | undefined, labels: LabelRequirement[], fields: FieldRequirement[], o: Obj): boolean {
  const m = meta(o);
  if (namespace !== undefined && m.namespace !== namespace) return false;
  if (!labelsMatch(labels, objOr(m.labels))) return false;
  return fields.every((f) => (fieldValue(t, o, f.field) === f.value) !== f.negate);
}

export function notifyChanged(srv: ServerState): void {
  for (const l of [...srv.listeners]) l();
}

export function emit(srv: ServerState, entry: HistoryEntry): void {
  srv.history.push(entry);
  if (srv.history.length > srv.options.historyLimit) {
    const dropped = srv.history.splice(0, srv.history.length - srv.options.historyLimit);
    srv.compactedRV = dropped[dropped.length - 1]!.rv;
  }
  for (const w of srv.watchers) deliver(w, entry);
  if (entry.type !== 'DELETED' && entry.storage === 'customresourcedefinitions.apiextensions.k8s.io') registerCrd(srv, entry.obj);
  scheduleGC(srv);
}

export function storageTypes(srv: ServerState): ResourceType[] {
  const seen = new Set<string>();
  return srv.types.filter((t) => !seen.has(t.storage) && seen.add(t.storage));
}

export function registerCrd(srv: ServerState, crd: Obj): void {
  const spec = objOr(crd.spec);
  const names = objOr(spec.names);
  const group = str(spec.group);
  const plural = str(names.plural);
  const kind = str(names.kind);
  if (!group || !plural || !kind) return;
  for (const v of arr(spec.versions)) {
    const ver = objOr(v);
    const version = str(ver.name);
    if (!version || ver.served === false || srv.types.some((t) => t.group === group && t.version === version && t.plural === plural)) continue;
    srv.types.push(
      resourceType({
        group,
        version,
        plural,
        kind,
        namespaced: spec.scope !== 'Cluster',
        singular: str(names.singular) ?? kind.toLowerCase(),
        listKind: str(names.listKind) ?? `${kind}List`,
        shortNames: arr(names.shortNames).map(String),
        status: isObj(getPath(ver, 'subresources.status')),
        generation: true,
        custom: true,
        unconditionalUpdate: false,
      }),
    );
  }
  // The apiextensions controller accepts the names and marks the CRD Established shortly after creation.
  const name = str(meta(crd).name) ?? '';
  if (!isObj(crd.status) || !arr(crd.status.conditions).some((c) => objOr(c).type === 'Established')) {
    setImmediate(() => {
      const t = resolveKind(srv, 'customresourcedefinitions');
      const cur = storeOf(srv, t.storage).get(name);
      if (srv.closed || !cur || meta(cur).uid !== meta(crd).uid) return;
      const now = nowSeconds();
      const cond = (type: string, reason: string, message: string) => ({ type, status: 'True', lastTransitionTime: now, reason, message });
      const storage = arr(spec.versions).map(objOr).find((x) => x.storage === true);
      patchStored(srv, 'customresourcedefinitions', name, {
        status: {
          acceptedNames: names,
          conditions: [cond('NamesAccepted', 'NoConflicts', 'no conflicts found'), cond('Established', 'InitialNamesAccepted', 'the initial names have been accepted')],
          storedVersions: storage ? [storage.name] : [],
        },
      });
    });
  }
}
