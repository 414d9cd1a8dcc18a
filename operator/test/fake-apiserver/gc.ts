// Deletion, finalizers and owner-reference garbage collection.
import type { DeletePolicy } from './types.ts';
import { arr, clone, isObj, meta, nowSeconds, type Obj, str } from './util.ts';
import type { ResourceType } from './resource-types.ts';
import type { ServerState } from './state.ts';
import { emit, keyOf, notifyChanged, storageTypes, storeOf, typeFor } from './store.ts';

/** Deletes (or marks for deletion when finalizers remain). Returns the object and whether it is gone. */
export function deleteObject(srv: ServerState, t: ResourceType, key: string, policy: DeletePolicy): { obj: Obj; deleted: boolean } {
  const store = storeOf(srv, t.storage);
  const obj = store.get(key)!;
  const m = meta(obj);
  if (arr(m.finalizers).length > 0) {
    if (m.deletionTimestamp) return { obj, deleted: false };
    const next = clone(obj);
    const nm = meta(next);
    nm.deletionTimestamp = nowSeconds();
    nm.deletionGracePeriodSeconds = 0;
    if (t.generation) nm.generation = (Number(nm.generation) || 0) + 1;
    nm.resourceVersion = String(++srv.rv);
    store.set(key, next);
    srv.pendingPolicies.set(String(nm.uid), policy);
    emit(srv, { rv: srv.rv, storage: t.storage, type: 'MODIFIED', obj: clone(next), old: clone(obj) });
    if (policy === 'Foreground') cascade(srv, String(nm.uid), 'Background');
    if (policy === 'Orphan') cascade(srv, String(nm.uid), 'Orphan');
    return { obj: next, deleted: false };
  }
  return { obj: removeObject(srv, t, key, policy), deleted: true };
}

export function removeObject(srv: ServerState, t: ResourceType, key: string, policy: DeletePolicy): Obj {
  const store = storeOf(srv, t.storage);
  const obj = store.get(key);
  if (!obj) return {};
  const uid = String(meta(obj).uid);
  if (policy === 'Foreground') cascade(srv, uid, 'Background');
  if (!store.has(key)) return obj;
  store.delete(key);
  srv.pendingPolicies.delete(uid);
  const gone = clone(obj);
  meta(gone).resourceVersion = String(++srv.rv);
  emit(srv, { rv: srv.rv, storage: t.storage, type: 'DELETED', obj: gone, old: clone(obj) });
  if (policy !== 'Foreground') cascade(srv, uid, policy === 'Orphan' ? 'Orphan' : 'Background');
  if (t.storage === 'pods') srv.podLogs.delete(key);
  return gone;
}

/** The garbage collector, synchronously: dependents of a deleted owner are deleted, orphaned or de-referenced. */
export function cascade(srv: ServerState, ownerUid: string, policy: 'Orphan' | 'Background'): void {
  for (const t of storageTypes(srv)) {
    for (const [key, dep] of [...storeOf(srv, t.storage)]) {
      const refs = arr(meta(dep).ownerReferences).filter(isObj);
      if (!refs.some((r) => r.uid === ownerUid)) continue;
      const others = refs.filter((r) => r.uid !== ownerUid);
      if (policy === 'Orphan' || others.some((r) => ownerAlive(srv, r, dep) !== false)) dropOwnerRefs(srv, t, key, [ownerUid]);
      else if (storeOf(srv, t.storage).has(key)) deleteObject(srv, t, key, 'Background');
    }
  }
}

export function dropOwnerRefs(srv: ServerState, t: ResourceType, key: string, uids: string[]): void {
  const store = storeOf(srv, t.storage);
  const cur = store.get(key);
  if (!cur) return;
  const next = clone(cur);
  const nm = meta(next);
  const refs = arr(nm.ownerReferences).filter((r) => !(isObj(r) && uids.includes(String(r.uid))));
  if (refs.length > 0) nm.ownerReferences = refs;
  else delete nm.ownerReferences;
  nm.resourceVersion = String(++srv.rv);
  store.set(key, next);
  emit(srv, { rv: srv.rv, storage: t.storage, type: 'MODIFIED', obj: clone(next), old: clone(cur) });
}

/** true/false when the owner can be looked up; undefined when its kind is unknown to this server. */
export function ownerAlive(srv: ServerState, ref: Obj, dependent: Obj): boolean | undefined {
  const t = typeFor(srv, String(ref.apiVersion), String(ref.kind));
  if (!t) return undefined;
  const owner = storeOf(srv, t.storage).get(keyOf(t, str(meta(dependent).namespace), String(ref.name)));
  return owner !== undefined && meta(owner).uid === ref.uid;
}

export function scheduleGC(srv: ServerState): void {
  if (!srv.options.danglingOwnerGC || srv.gcScheduled || srv.closed) return;
  srv.gcScheduled = setImmediate(() => {
    srv.gcScheduled = undefined;
    if (!srv.closed) collectDangling(srv);
  });
}

/** Objects none of whose owners exist are deleted; references to missing owners are dropped when another owner lives. */
export function collectDangling(srv: ServerState): void {
  let changed = false;
  for (const t of storageTypes(srv)) {
    for (const [key, obj] of [...storeOf(srv, t.storage)]) {
      const m = meta(obj);
      const refs = arr(m.ownerReferences).filter(isObj);
      if (refs.length === 0 || m.deletionTimestamp) continue;
      const states = refs.map((r) => ownerAlive(srv, r, obj));
      const dead = refs.filter((_, i) => states[i] === false).map((r) => String(r.uid));
      if (dead.length === 0) continue;
      if (dead.length === refs.length) deleteObject(srv, t, key, 'Background');
      else dropOwnerRefs(srv, t, key, dead);
      changed = true;
    }
  }
  if (changed) notifyChanged(srv);
}
