// Shared by the fake apiserver tests (fake-apiserver-crud.test.ts, fake-apiserver-watch.test.ts): timeouts,
// patch content types, error and polling helpers, and small object builders.
import assert from 'node:assert/strict';
import { ApiException, PatchStrategy, Watch, setHeaderOptions, type KubeConfig, type V1Job } from '@kubernetes/client-node';
import type { KubeObject, StoredObject } from './fake-apiserver.ts';

export const T = { timeout: 10_000 };
export const SUITE = { timeout: 60_000 };
export const asMergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
export const asStrategicMergePatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
export const LT = { group: 'cicada.dev', version: 'v1', plural: 'loadtests' } as const;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns true (client-side state the server cannot observe). */
export async function eventually(fn: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export interface StatusBody {
  kind: string;
  status: string;
  code: number;
  reason: string;
  message: string;
  details: { name?: string; group?: string; kind?: string; causes?: Array<{ field: string; message: string; reason: string }> };
}

/** Awaits a rejection that must be an ApiException with this code; returns the parsed Status body. */
export async function apiError(p: Promise<unknown>, code: number, reason?: string): Promise<StatusBody> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApiException, `expected ApiException, got ${String(err)}`);
    assert.equal(err.code, code, `HTTP code (body: ${String(err.body)})`);
    const body = JSON.parse(err.body as string) as StatusBody;
    assert.equal(body.kind, 'Status');
    assert.equal(body.status, 'Failure');
    assert.equal(body.code, code);
    if (reason) assert.equal(body.reason, reason);
    return body;
  }
  return assert.fail(`expected HTTP ${code}`);
}

export function job(name: string, labels: Record<string, string> = {}): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels },
    spec: {
      backoffLimit: 0,
      template: { metadata: { labels }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'ghcr.io/cicada/cicada:1.0.0' }] } },
    },
  };
}

export function loadTest(name: string, users = 10): KubeObject {
  return { apiVersion: 'cicada.dev/v1', kind: 'LoadTest', metadata: { name, namespace: 'default' }, spec: { users, workers: 2 } };
}

export function ownedBy(o: unknown) {
  const owner = o as StoredObject;
  return [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true }];
}

/** Opens a Watch with the real client and records every event. */
export async function openWatch(kc: KubeConfig, path: string, query: Record<string, string | boolean>) {
  const events: Array<{ type: string; object: StoredObject }> = [];
  let ended: unknown = 'open';
  const controller = await new Watch(kc).watch(
    path,
    query,
    (type, object) => events.push({ type, object }),
    (err) => {
      ended = err;
    },
  );
  return { events, controller, ended: () => ended };
}
