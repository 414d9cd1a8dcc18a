// One pass over one LoadTest: create what is missing (while it runs), then write the status it has now.
// Idempotent: a second pass over an unchanged world creates nothing and writes nothing.
import { children } from './builders.ts';
import type { ChildKind, Kube } from './kube.ts';
import { MANAGED_SELECTOR } from './kube.ts';
import { nextStatus, podState, type JobState } from './status.ts';
import type { JsonObject, LoadTestStatus } from './types.ts';

export interface Logger {
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
}

export interface ReconcilerOptions {
  now?: () => Date;
  logger?: Logger;
}

const quiet: Logger = { info: () => {}, warning: () => {}, error: () => {} };

function key(object: JsonObject): string {
  return `${String(object.kind)}/${(object.metadata as { name: string }).name}`;
}

function sameStatus(a: LoadTestStatus | undefined, b: LoadTestStatus): boolean {
  return JSON.stringify(a ?? {}) === JSON.stringify(b);
}

export class Reconciler {
  private readonly now: () => Date;
  private readonly logger: Logger;

  constructor(private readonly kube: Kube, options: ReconcilerOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.logger = options.logger ?? quiet;
  }

  async reconcile(namespace: string, name: string): Promise<void> {
    const test = await this.kube.getLoadTest(namespace, name);
    // Gone, or going: the garbage collector removes the children (they are owned by the LoadTest).
    if (!test || test.metadata.deletionTimestamp) return;
    const finished = test.status?.phase === 'Succeeded' || test.status?.phase === 'Failed';
    const desired = children(test);
    const existing = new Set<string>();
    const found = new Map<string, JsonObject>();
    for (const object of desired) {
      const objectName = (object.metadata as { name: string }).name;
      const current = await this.kube.getChild(object.kind as ChildKind, namespace, objectName);
      if (current) {
        existing.add(key(object));
        found.set(key(object), current);
        continue;
      }
      // A finished test keeps what is left (logs, results) and gets nothing new.
      if (finished) continue;
      await this.kube.createChild(object);
      existing.add(key(object));
      const recreated = test.status?.conditions?.some((c) => c.type === 'ResourcesCreated' && c.status === 'True') === true;
      this.logger.info(`${namespace}/${name}: ${recreated ? 're-created' : 'created'} ${key(object)}`);
      await this.kube.event(test, 'Normal', recreated ? 'Recreated' : 'Created', `${recreated ? 're-created' : 'created'} ${key(object)}`);
    }
    const jobState = (objectName: string): JobState | undefined => (found.get(`Job/${objectName}`)?.status as JobState | undefined) ?? undefined;
    const pods = (await this.kube.listPods(namespace, `app.kubernetes.io/instance=${name},${MANAGED_SELECTOR}`)).map(podState);
    const status = nextStatus(test, {
      existing,
      desired: desired.map(key),
      masterJob: jobState(`${name}-master`),
      workerJob: jobState(`${name}-worker`),
      pods,
    }, this.now().toISOString());
    if (sameStatus(test.status, status)) return;
    await this.kube.patchStatus(namespace, name, status);
    const before = test.status?.phase;
    if (before !== status.phase) {
      const completed = status.conditions?.find((c) => c.type === 'Completed');
      const message = status.phase === 'Failed' || status.phase === 'Succeeded' ? completed?.message ?? '' : `phase ${before ?? '(new)'} → ${status.phase}`;
      this.logger.info(`${namespace}/${name}: ${before ?? '(new)'} → ${status.phase ?? ''}${message ? `: ${message}` : ''}`);
      await this.kube.event(test, status.phase === 'Failed' ? 'Warning' : 'Normal', status.phase ?? 'Unknown', message || `now ${status.phase ?? ''}`);
    }
    const unhealthy = status.conditions?.find((c) => c.type === 'PodsHealthy' && c.status === 'False');
    const wasUnhealthy = test.status?.conditions?.find((c) => c.type === 'PodsHealthy' && c.status === 'False');
    if (unhealthy && unhealthy.message !== wasUnhealthy?.message) await this.kube.event(test, 'Warning', unhealthy.reason, unhealthy.message);
  }
}
