// The operator's only door to the API server: the few calls it makes, on @kubernetes/client-node's typed APIs.
// No Secret or ConfigMap is ever read or written (the operator references them by name only).
import { BatchV1Api, CoreV1Api, CustomObjectsApi, NetworkingV1Api, Watch, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type JsonObject, type LoadTest, type LoadTestStatus } from './types.ts';

export type ChildKind = 'Job' | 'Service' | 'NetworkPolicy';

export interface Kube {
  listLoadTests(namespace: string | undefined): Promise<LoadTest[]>;
  getLoadTest(namespace: string, name: string): Promise<LoadTest | undefined>;
  patchStatus(namespace: string, name: string, status: LoadTestStatus): Promise<void>;
  getChild(kind: ChildKind, namespace: string, name: string): Promise<JsonObject | undefined>;
  createChild(object: JsonObject): Promise<void>;
  /** Deletes a child and, for a Job, its pods (propagation Background). */
  deleteChild(kind: ChildKind, namespace: string, name: string): Promise<void>;
  listPods(namespace: string, labelSelector: string): Promise<JsonObject[]>;
  event(test: LoadTest, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
  /**
   * Streams changes of LoadTests, Jobs and Pods (of managed tests) in one namespace or all; `onEnd` is called
   * when any of the streams ends (the API server closes watches now and then); returns a stop function.
   */
  watch(namespace: string | undefined, onChange: (namespace: string, testName: string) => void, onEnd: (error: unknown) => void): Promise<() => void>;
}

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: number }).code === 404;
}

function isConflict(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: number }).code === 409;
}

async function orUndefined<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export const MANAGED_SELECTOR = 'app.kubernetes.io/managed-by=cicada-operator';

export function kubeFor(config: KubeConfig): Kube {
  const custom = config.makeApiClient(CustomObjectsApi);
  const batch = config.makeApiClient(BatchV1Api);
  const core = config.makeApiClient(CoreV1Api);
  const networking = config.makeApiClient(NetworkingV1Api);
  const crd = { group: GROUP, version: VERSION, plural: PLURAL };
  return {
    async listLoadTests(namespace) {
      const list = (namespace
        ? await custom.listNamespacedCustomObject({ ...crd, namespace })
        : await custom.listClusterCustomObject(crd)) as { items?: LoadTest[] };
      return list.items ?? [];
    },
    async getLoadTest(namespace, name) {
      return (await orUndefined(custom.getNamespacedCustomObject({ ...crd, namespace, name }))) as LoadTest | undefined;
    },
    async patchStatus(namespace, name, status) {
      // A JSON patch (the client's default patch type): `add` also replaces a status that exists.
      await custom.patchNamespacedCustomObjectStatus({ ...crd, namespace, name, body: [{ op: 'add', path: '/status', value: status }] });
    },
    async getChild(kind, namespace, name) {
      const call = kind === 'Job'
        ? batch.readNamespacedJob({ namespace, name })
        : kind === 'Service'
          ? core.readNamespacedService({ namespace, name })
          : networking.readNamespacedNetworkPolicy({ namespace, name });
      return (await orUndefined(call as Promise<unknown>)) as JsonObject | undefined;
    },
    async createChild(object) {
      const namespace = (object.metadata as { namespace: string }).namespace;
      try {
        if (object.kind === 'Job') await batch.createNamespacedJob({ namespace, body: object });
        else if (object.kind === 'Service') await core.createNamespacedService({ namespace, body: object });
        else if (object.kind === 'NetworkPolicy') await networking.createNamespacedNetworkPolicy({ namespace, body: object });
        else throw new Error(`the operator does not create ${String(object.kind)}`);
      } catch (error) {
        // Made meanwhile by an earlier pass: that is the state we wanted.
        if (!isConflict(error)) throw error;
      }
    },
    async deleteChild(kind, namespace, name) {
      const body = { propagationPolicy: 'Background' };
      const call = kind === 'Job'
        ? batch.deleteNamespacedJob({ namespace, name, body })
        : kind === 'Service'
          ? core.deleteNamespacedService({ namespace, name, body })
          : networking.deleteNamespacedNetworkPolicy({ namespace, name, body });
      await orUndefined(call as Promise<unknown>);
    },
    async listPods(namespace, labelSelector) {
      const list = await core.listNamespacedPod({ namespace, labelSelector });
      return (list.items ?? []) as unknown as JsonObject[];
    },
    async event(test, type, reason, message) {
      // Whole seconds: core/v1 event timestamps are metav1.Time (RFC 3339 without fractions).
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const namespace = test.metadata.namespace ?? 'default';
      await core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${test.metadata.name}.`, namespace },
          involvedObject: { apiVersion: test.apiVersion, kind: test.kind, name: test.metadata.name, namespace, uid: test.metadata.uid ?? '' },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: 'cicada-operator' },
          reportingComponent: 'cicada.dev/operator',
          reportingInstance: process.env.HOSTNAME ?? 'cicada-operator',
          firstTimestamp: now as never,
          lastTimestamp: now as never,
          count: 1,
        },
      });
    },
    async watch(namespace, onChange, onEnd) {
      const watcher = new Watch(config);
      const ns = namespace ? `/namespaces/${namespace}` : '';
      const paths: [string, Record<string, string>, (object: JsonObject) => string | undefined][] = [
        [`/apis/${GROUP}/${VERSION}${ns}/${PLURAL}`, {}, (o) => (o.metadata as { name?: string }).name],
        [`/apis/batch/v1${ns}/jobs`, { labelSelector: MANAGED_SELECTOR }, (o) => (o.metadata as { labels?: Record<string, string> }).labels?.['app.kubernetes.io/instance']],
        [`/api/v1${ns}/pods`, { labelSelector: MANAGED_SELECTOR }, (o) => (o.metadata as { labels?: Record<string, string> }).labels?.['app.kubernetes.io/instance']],
      ];
      const requests = await Promise.all(paths.map(([path, query, testOf]) =>
        watcher.watch(path, query, (_type: string, object: JsonObject) => {
          const test = testOf(object);
          const objectNamespace = (object.metadata as { namespace?: string } | undefined)?.namespace;
          if (test && objectNamespace) onChange(objectNamespace, test);
        }, (error: unknown) => onEnd(error ?? new Error(`the watch of ${path} ended`)))));
      return () => {
        for (const r of requests) r.abort();
      };
    },
  };
}
