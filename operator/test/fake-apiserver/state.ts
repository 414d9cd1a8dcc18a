// The fake API server's mutable state, shared by the modules that implement it.
import http from 'node:http';
import type { AdmissionHook, DeletePolicy, FakeApiServerOptions, FaultHook, RequestRecord } from './types.ts';
import type { Obj } from './util.ts';
import { builtinTypes, type ResourceType } from './resource-types.ts';
import type { FieldRequirement, LabelRequirement } from './selectors.ts';

export interface HistoryEntry {
  rv: number;
  storage: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  obj: Obj;
  old?: Obj;
}

export interface Watcher {
  type: ResourceType;
  namespace: string | undefined;
  labels: LabelRequirement[];
  fields: FieldRequirement[];
  res: http.ServerResponse;
  bookmarks: boolean;
  timers: NodeJS.Timeout[];
  closed: boolean;
}

export interface WriteOptions {
  api: boolean;
  dryRun: boolean;
  subresource?: string;
  /** PATCH: the resourceVersion in the patched object came from the stored object unless the patch set one. */
  patch?: boolean;
}

/** Everything the server's modules read and change. */
export interface ServerState {
  readonly token: string | null;
  /** Every request received, oldest first. */
  readonly requests: RequestRecord[];
  readonly types: ResourceType[];
  readonly stores: Map<string, Map<string, Obj>>;
  history: HistoryEntry[];
  compactedRV: number;
  rv: number;
  readonly watchers: Set<Watcher>;
  readonly listeners: Set<() => void>;
  readonly pendingPolicies: Map<string, DeletePolicy>;
  readonly podLogs: Map<string, string>;
  admission: AdmissionHook | undefined;
  fault: FaultHook | undefined;
  gcScheduled: NodeJS.Immediate | undefined;
  closed: boolean;
  clusterIPs: number;
  readonly options: Required<Omit<FakeApiServerOptions, 'watchTimeoutMs' | 'token'>> & { watchTimeoutMs: number | undefined };
}

export function createState(options: FakeApiServerOptions): ServerState {
  return {
    token: options.token === undefined ? 'fake-token' : options.token,
    requests: [],
    types: builtinTypes(),
    stores: new Map<string, Map<string, Obj>>(),
    history: [],
    compactedRV: 0,
    rv: 1,
    watchers: new Set<Watcher>(),
    listeners: new Set<() => void>(),
    pendingPolicies: new Map<string, DeletePolicy>(),
    podLogs: new Map<string, string>(),
    admission: undefined,
    fault: undefined,
    gcScheduled: undefined,
    closed: false,
    clusterIPs: 10,
    options: {
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000,
      watchTimeoutMs: options.watchTimeoutMs,
      historyLimit: options.historyLimit ?? 10000,
      danglingOwnerGC: options.danglingOwnerGC ?? true,
      namespaces: options.namespaces ?? ['default', 'kube-system'],
    },
  };
}
