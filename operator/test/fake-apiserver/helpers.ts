// Entry points: starting a server, a KubeConfig for it, and Pods as the Job controller would create them.
import http from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import type { FakeApiServerOptions, KubeObject } from './types.ts';
import { clone, isObj, type Obj, objOr, randomSuffix } from './util.ts';
import { FakeApiServer } from './server.ts';

/** Starts a fake API server on 127.0.0.1 (a free port). Close it with `await server.close()`. */
export async function startFakeApiServer(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return new FakeApiServer(server, options);
}

/**
 * A KubeConfig for the fake server: plain http (the client requires skipTLSVerify for http:// servers), a bearer
 * token, and a context whose namespace is `namespace`.
 */
export function kubeConfigFor(server: { url: string; token?: string | null }, namespace = 'default'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: server.url, skipTLSVerify: true }],
    users: [{ name: 'fake', token: server.token ?? 'fake-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake', namespace }],
    currentContext: 'fake',
  });
  return kc;
}

/**
 * A Pod as the Job controller would create it for `job` (labels, controller ownerReference, the template's spec),
 * for tests that play the Job controller and kubelet: `server.create('pods', podForJob(job, { phase: 'Running' }))`.
 */
export function podForJob(
  job: KubeObject,
  opts: { name?: string; phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown'; reason?: string; message?: string; nodeName?: string } = {},
): KubeObject {
  const jm = job.metadata ?? {};
  const jobName = jm.name ?? 'job';
  const template = objOr(objOr(job.spec).template);
  const labels: Record<string, string> = { ...(objOr(objOr(template.metadata).labels) as Record<string, string>) };
  labels['batch.kubernetes.io/job-name'] ??= jobName;
  labels['job-name'] ??= jobName;
  if (jm.uid) {
    labels['batch.kubernetes.io/controller-uid'] ??= jm.uid;
    labels['controller-uid'] ??= jm.uid;
  }
  const status: Obj = { phase: opts.phase ?? 'Pending' };
  if (opts.reason !== undefined) status.reason = opts.reason;
  if (opts.message !== undefined) status.message = opts.message;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: opts.name ?? `${jobName}-${randomSuffix()}`,
      namespace: jm.namespace ?? 'default',
      labels,
      ...(isObj(objOr(template.metadata).annotations) ? { annotations: clone(objOr(template.metadata).annotations as Record<string, string>) } : {}),
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: jm.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    spec: { ...clone(objOr(template.spec)), nodeName: opts.nodeName ?? 'fake-node' },
    status,
  };
}
