// Public types of the fake API server: the objects it stores, the requests it records and the test hooks.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [key: string]: unknown;
}

/** Any Kubernetes object as plain JSON (timestamps are strings, not Dates). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

/** An object as the server stores it: server-managed metadata is always present. */
export interface StoredObject extends KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta & { name: string; uid: string; resourceVersion: string; creationTimestamp: string };
}

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'discovery' | 'unknown';

/** One HTTP request the server received (recorded before authentication, so refused requests are there too). */
export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Kubernetes verb, derived from the method, path and `watch` parameter. */
  verb: Verb;
  /** Qualified resource (`jobs.batch`, `pods`, `loadtests.cicada.dev`) when the path named one. */
  resource?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  contentType?: string;
  /** Request body: parsed JSON when it parses, else the raw text. */
  body?: unknown;
  /** HTTP status sent (for watches: 200 when the stream opened). Set once the response starts. */
  status?: number;
  time: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface AdmissionRequest {
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  /** Qualified resource, e.g. `jobs.batch`. */
  resource: string;
  group: string;
  version: string;
  kind: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** The object as it would be stored (after defaulting). Absent for DELETE. */
  object?: StoredObject;
  oldObject?: StoredObject;
  dryRun: boolean;
}

/** Return nothing to admit; a string (message) or an object to refuse. Refusals default to 422 Invalid. */
export type AdmissionResult = void | undefined | string | { message: string; code?: number; reason?: string };

export type AdmissionHook = (request: AdmissionRequest) => AdmissionResult;

/** Return nothing to serve the request normally; a status to fail it; 'drop' to destroy the socket unanswered. */
export type FaultResult = undefined | 'drop' | { code: number; reason?: string; message?: string; retryAfterSeconds?: number };

export type FaultHook = (request: RequestRecord) => FaultResult;

export interface FakeApiServerOptions {
  /** Bearer token every request must carry; null accepts any request. Default 'fake-token'. */
  token?: string | null;
  /** Interval of BOOKMARK events to watches opened with allowWatchBookmarks; 0 disables. Default 1000. */
  bookmarkIntervalMs?: number;
  /** Server-side end of every watch after this long (forces clients to reconnect). Default: never. */
  watchTimeoutMs?: number;
  /** Watch events kept for resuming from a resourceVersion; resuming from before them gets 410 Expired. Default 10000. */
  historyLimit?: number;
  /** Delete objects whose owners (ownerReferences) do not exist, as the real garbage collector does. Default true. */
  danglingOwnerGC?: boolean;
  /** Namespaces created at start. Default ['default', 'kube-system']. */
  namespaces?: string[];
}

export type ObjectRef = string | { name?: string; namespace?: string } | KubeObject;

export const DELETE_POLICIES = ['Orphan', 'Background', 'Foreground'] as const;

export type DeletePolicy = (typeof DELETE_POLICIES)[number];
