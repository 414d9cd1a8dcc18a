// One pass over one LoadTest: create what is missing (while it runs), then write the status it has now.
// Idempotent: a second pass over an unchanged world creates nothing and writes nothing.
import { children } from './builders.ts';
import type { ChildKind, Kube } from './kube.ts';
import { MANAGED_SELECTOR } from './kube.ts';
import { nextStatus, podState, type JobState } from './status.ts';
import type { JsonObject, LoadTest, LoadTestStatus } from './types.ts';

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

/** The API server's own words for a refusal (the client's error carries the Status object as JSON text). */
function apiMessage(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: string };
      if (parsed.message) return parsed.message;
    } catch {
      return body.slice(0, 500);
    }
  }
  return error instanceof Error ? error.message : String(error);
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
    // A finished test keeps what is left (logs, results) and gets nothing new; its status is final, so a
    // resync costs no further calls.
    if (test.status?.phase === 'Succeeded' || test.status?.phase === 'Failed') return;
    // Once everything was made, a Job is never made again: a new master Job would run the test a second time.
    const madeBefore = test.status?.conditions?.some((c) => c.type === 'ResourcesCreated' && c.status === 'True') === true;
    const masterName = `${name}-master`;
    const desired = children(test);
    const existing = new Set<string>();
    const found = new Map<string, JsonObject>();
    let createError: string | undefined;
    let masterJobGone = false;
    for (const object of desired) {
      const objectName = (object.metadata as { name: string }).name;
      const current = await this.kube.getChild(object.kind as ChildKind, namespace, objectName);
      if (current) {
        existing.add(key(object));
        found.set(key(object), current);
        continue;
      }
      // After a refusal nothing more is made this pass (workers come before the master).
      if (createError) continue;
      if (madeBefore && object.kind === 'Job' && objectName === masterName) {
        masterJobGone = true;
        continue;
      }
      try {
        await this.kube.createChild(object);
      } catch (error) {
        // The API server refused it (a quota, an admission policy, a value only it checks): say so in the status.
        createError = `${key(object)}: ${apiMessage(error)}`;
        this.logger.warning(`${namespace}/${name}: could not create ${createError}`);
        await this.kube.event(test, 'Warning', 'CreateFailed', `could not create ${createError}`);
        continue;
      }
      existing.add(key(object));
      this.logger.info(`${namespace}/${name}: ${madeBefore ? 're-created' : 'created'} ${key(object)}`);
      await this.kube.event(test, 'Normal', madeBefore ? 'Recreated' : 'Created', `${madeBefore ? 're-created' : 'created'} ${key(object)}`);
    }
    const jobState = (objectName: string): JobState | undefined => (found.get(`Job/${objectName}`)?.status as JobState | undefined) ?? undefined;
    const nowDate = this.now();
    const pods = (await this.kube.listPods(namespace, `app.kubernetes.io/instance=${name},${MANAGED_SELECTOR}`)).map((p) => podState(p, nowDate.getTime()));
    const status = nextStatus(test, {
      existing,
      desired: desired.map(key),
      masterJob: jobState(masterName),
      workerJob: jobState(`${name}-worker`),
      pods,
      ...(createError ? { createError } : {}),
      ...(masterJobGone ? { masterJobGone } : {}),
    }, nowDate.toISOString());
    if (status.phase === 'Failed') await this.stopLeftovers(test, found);
    if (!sameStatus(test.status, status)) await this.report(test, status);
    // Retry later (with the controller's backoff): the status already says what went wrong.
    if (createError) throw new Error(`could not create ${createError}`);
  }

  /** Writes the status, with an event for each phase change and each new pod problem. */
  private async report(test: LoadTest, status: LoadTestStatus): Promise<void> {
    const namespace = test.metadata.namespace ?? 'default';
    const name = test.metadata.name;
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

  /** A failed test stops generating load: Jobs still running are deleted with their pods. */
  private async stopLeftovers(test: LoadTest, found: Map<string, JsonObject>): Promise<void> {
    const namespace = test.metadata.namespace ?? 'default';
    for (const [k, job] of found) {
      if (!k.startsWith('Job/')) continue;
      const conditions = ((job.status as JobState | undefined)?.conditions ?? []);
      if (conditions.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')) continue;
      const jobName = k.slice('Job/'.length);
      await this.kube.deleteChild('Job', namespace, jobName);
      this.logger.info(`${namespace}/${test.metadata.name}: the test failed; deleted the running Job ${jobName}`);
      await this.kube.event(test, 'Normal', 'Stopped', `the test failed: deleted the running Job ${jobName} so it stops generating load`);
    }
  }
}
