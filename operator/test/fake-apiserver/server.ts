// The FakeApiServer class: the test-facing API over the server state.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdmissionHook, DeletePolicy, FakeApiServerOptions, FaultHook, ObjectRef, RequestRecord, StoredObject } from './types.ts';
import { clone, meta, type Obj, str } from './util.ts';
import { ApiError, qualified } from './resource-types.ts';
import { createState, type ServerState } from './state.ts';
import { keyOf, listObjects, notifyChanged, present, refOf, resolveKind, storeOf } from './store.ts';
import { createObject, patchStored, updateObject } from './writes.ts';
import { deleteObject } from './gc.ts';
import { endWatch, sendBookmark, writeEvent } from './watch.ts';
import { handle } from './http.ts';

export class FakeApiServer {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  readonly url: string;
  readonly port: number;
  /** Bearer token the server requires (null: none). kubeConfigFor() uses it. */
  readonly token: string | null;
  /** Every request received, oldest first (a live array; see clearRequests()). */
  readonly requests: RequestRecord[];

  private readonly server: http.Server;
  private readonly state: ServerState;

  /** Use startFakeApiServer(). */
  constructor(server: http.Server, options: FakeApiServerOptions) {
    this.server = server;
    const addr = server.address() as AddressInfo;
    this.port = addr.port;
    this.url = `http://127.0.0.1:${addr.port}`;
    this.state = createState(options);
    this.token = this.state.token;
    this.requests = this.state.requests;
    for (const ns of this.state.options.namespaces) this.create('namespaces', { metadata: { name: ns } });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      void handle(this.state, req, res);
    });
  }

  // ------------------------------------------------------------------ test hooks

  /** Stored objects of a kind ('jobs', 'Job', 'jobs.batch', 'loadtests', 'events.events.k8s.io'...), sorted by namespace/name. */
  objects<T = StoredObject>(kind: string, namespace?: string): T[] {
    const t = resolveKind(this.state, kind);
    return listObjects(this.state, t, namespace, [], []).map((o) => present(t, o) as T);
  }

  /** One stored object, or undefined. */
  get<T = StoredObject>(kind: string, name: string, namespace = 'default'): T | undefined {
    const t = resolveKind(this.state, kind);
    const o = storeOf(this.state, t.storage).get(keyOf(t, namespace, name));
    return o ? (present(t, o) as T) : undefined;
  }

  /** Creates an object as a controller would: no admission, no validation, status kept; emits ADDED. Throws ApiError (409) if it exists. */
  create<T = StoredObject>(kind: string, obj: object): T {
    const t = resolveKind(this.state, kind);
    return present(t, createObject(this.state, t, undefined, clone(obj) as Obj, { api: false, dryRun: false })) as T;
  }

  /** Creates or replaces (including status) an object, ignoring resourceVersion; emits ADDED or MODIFIED. */
  put<T = StoredObject>(kind: string, obj: object): T {
    const t = resolveKind(this.state, kind);
    const o = clone(obj) as Obj;
    const m = meta(o);
    const ns = t.namespaced ? (str(m.namespace) ?? 'default') : undefined;
    const name = str(m.name);
    if (name === undefined || !storeOf(this.state, t.storage).has(keyOf(t, ns, name))) {
      return present(t, createObject(this.state, t, ns, o, { api: false, dryRun: false })) as T;
    }
    delete m.resourceVersion;
    return present(t, updateObject(this.state, t, ns, name, o, { api: false, dryRun: false })) as T;
  }

  /** Applies a JSON merge patch (status included) to a stored object; emits MODIFIED. */
  patch<T = StoredObject>(kind: string, ref: ObjectRef, mergePatchBody: unknown): T {
    return patchStored(this.state, kind, ref, mergePatchBody) as T;
  }

  /**
   * Deletes an object (policy default Background) with owner-reference cascade; emits DELETED (or MODIFIED when
   * finalizers hold it). Returns false if it did not exist.
   */
  delete(kind: string, ref: ObjectRef, opts: { propagationPolicy?: DeletePolicy } = {}): boolean {
    const t = resolveKind(this.state, kind);
    const { name, namespace } = refOf(t, ref);
    const key = keyOf(t, namespace, name);
    if (!storeOf(this.state, t.storage).has(key)) return false;
    deleteObject(this.state, t, key, opts.propagationPolicy ?? 'Background');
    notifyChanged(this.state);
    return true;
  }

  /** Refuse (or allow) API writes, as an admission webhook or ValidatingAdmissionPolicy would. Pass undefined to clear. */
  setAdmission(fn: AdmissionHook | undefined): void {
    this.state.admission = fn;
  }

  /** Fail or drop API requests (e.g. 500s, 429s, 403s, connection resets). Pass undefined to clear. */
  setFault(fn: FaultHook | undefined): void {
    this.state.fault = fn;
  }

  /** Text served at GET /api/v1/namespaces/{ns}/pods/{name}/log. */
  setPodLog(namespace: string, name: string, text: string): void {
    this.state.podLogs.set(`${namespace}/${name}`, text);
  }

  clearRequests(): void {
    this.state.requests.length = 0;
  }

  /** Current (latest) resourceVersion. */
  get resourceVersion(): string {
    return String(this.state.rv);
  }

  /** Number of watch streams currently open. */
  get openWatches(): number {
    return this.state.watchers.size;
  }

  /** Open watch streams per qualified resource, e.g. { 'jobs.batch': 1 }. */
  watchesByResource(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const w of this.state.watchers) out[qualified(w.type)] = (out[qualified(w.type)] ?? 0) + 1;
    return out;
  }

  /** End every open watch from the server side (clients see a clean end of stream and should reconnect). */
  closeWatches(): void {
    for (const w of [...this.state.watchers]) endWatch(this.state, w);
  }

  /**
   * Compact the watch history at the current resourceVersion, as etcd compaction does: a watch resuming from an
   * older resourceVersion gets an ERROR event with a 410 Expired Status, then the stream ends.
   */
  compact(): void {
    this.state.compactedRV = this.state.rv;
    this.state.history = [];
  }

  /**
   * Send every open watch an ERROR event with a 410 Expired Status and end it, as the API server does when a watch
   * falls behind (clients must relist). Combine with compact() so that resuming is refused too.
   */
  expireWatches(): void {
    for (const w of [...this.state.watchers]) {
      const expired = new ApiError(410, 'Expired', `The resourceVersion for the provided watch is too old.`);
      writeEvent(w, 'ERROR', expired.status());
      endWatch(this.state, w);
    }
  }

  /** Send a BOOKMARK now to every watch opened with allowWatchBookmarks. */
  bookmark(): void {
    for (const w of this.state.watchers) if (w.bookmarks) sendBookmark(this.state, w);
  }

  /**
   * Resolves with the first truthy value of check(), re-evaluated after every stored change and every request;
   * rejects after timeoutMs.
   */
  waitFor<T>(check: () => T | undefined | null | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const attempt = (): boolean => {
        let v: T | undefined | null | false;
        try {
          v = check();
        } catch (err) {
          done();
          reject(err instanceof Error ? err : new Error(String(err)));
          return true;
        }
        if (v === undefined || v === null || v === false) return false;
        done();
        resolve(v);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`fake-apiserver: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const listener = () => {
        attempt();
      };
      const done = () => {
        clearTimeout(timer);
        this.state.listeners.delete(listener);
      };
      this.state.listeners.add(listener);
      attempt();
    });
  }

  /** Stops the server: ends watches, closes every connection. Idempotent. */
  async close(): Promise<void> {
    if (this.state.closed) return;
    this.state.closed = true;
    if (this.state.gcScheduled) clearImmediate(this.state.gcScheduled);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const w of [...this.state.watchers]) endWatch(this.state, w);
    this.server.closeAllConnections();
    await closed;
  }
}
