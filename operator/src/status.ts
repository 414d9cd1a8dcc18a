// The LoadTest's status from what exists: its Jobs and pods. Pure, so every case is a unit test.
import { childName } from './builders.ts';
import type { Condition, JsonObject, LoadTest, LoadTestStatus, Phase } from './types.ts';

export interface JobState {
  active?: number;
  succeeded?: number;
  failed?: number;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  startTime?: string;
  completionTime?: string;
}

export interface PodState {
  name: string;
  component: 'master' | 'worker' | undefined;
  phase: string;
  ready: boolean;
  /** Why it is unhealthy (image pull, crash loop, unschedulable, failed), or undefined. */
  problem?: { reason: string; message: string };
}

export interface Observed {
  /** Why a child could not be created (the API server's answer), if one could not. */
  createError?: string;
  /** The master Job existed once and is gone (deleted, or removed by its TTL before its outcome was seen). */
  masterJobGone?: boolean;
  /** Children that exist now, by name. */
  existing: ReadonlySet<string>;
  /** Children the test should have (names). */
  desired: readonly string[];
  masterJob?: JobState;
  workerJob?: JobState;
  pods: PodState[];
}

/** A pod still creating after this long is stuck (usually a missing ConfigMap, Secret or key it mounts). */
export const STUCK_CREATING_MS = 2 * 60_000;

const WAITING_PROBLEMS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CrashLoopBackOff', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/** Reads a Pod object into the few facts the status needs; `nowMs` finds pods stuck in creation. */
export function podState(pod: JsonObject, nowMs = Date.now()): PodState {
  const meta = (pod.metadata ?? {}) as { name?: string; labels?: Record<string, string>; creationTimestamp?: string };
  const status = (pod.status ?? {}) as {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: { name: string; ready?: boolean; state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number; message?: string } } }[];
  };
  const component = meta.labels?.['app.kubernetes.io/component'];
  const phase = status.phase ?? 'Pending';
  const containers = status.containerStatuses ?? [];
  let problem: PodState['problem'];
  for (const c of containers) {
    const waiting = c.state?.waiting;
    if (waiting?.reason && WAITING_PROBLEMS.has(waiting.reason)) problem = { reason: waiting.reason, message: waiting.message ?? waiting.reason };
    const age = meta.creationTimestamp ? nowMs - Date.parse(meta.creationTimestamp) : 0;
    if (waiting?.reason === 'ContainerCreating' && age > STUCK_CREATING_MS) {
      problem = {
        reason: 'StuckCreating',
        message: `still creating after ${Math.round(age / 1000)} s: check that the ConfigMaps and Secrets it mounts exist and hold the expected keys (kubectl describe pod ${meta.name ?? ''})`,
      };
    }
    const terminated = c.state?.terminated;
    if (phase === 'Failed' && terminated) {
      problem = { reason: terminated.reason ?? 'Error', message: `exit code ${terminated.exitCode ?? '?'}${terminated.message ? `: ${terminated.message}` : ''}` };
    }
  }
  const scheduled = status.conditions?.find((c) => c.type === 'PodScheduled');
  if (!problem && scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') problem = { reason: 'Unschedulable', message: scheduled.message ?? 'no node fits the pod' };
  if (!problem && phase === 'Failed') problem = { reason: 'Failed', message: 'the pod failed' };
  return {
    name: meta.name ?? '?',
    component: component === 'master' || component === 'worker' ? component : undefined,
    phase,
    ready: phase === 'Running' && containers.length > 0 && containers.every((c) => c.ready === true),
    ...(problem ? { problem } : {}),
  };
}

function jobFailed(job: JobState | undefined): { reason: string; message: string } | undefined {
  const failed = job?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failed) return { reason: failed.reason ?? 'JobFailed', message: failed.message ?? 'the Job failed' };
  return undefined;
}

function jobDone(job: JobState | undefined): boolean {
  return job?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') === true;
}

/** Sets a condition, keeping its transition time when the status did not change. */
export function setCondition(conditions: Condition[], next: Omit<Condition, 'lastTransitionTime'>, now: string): Condition[] {
  const old = conditions.find((c) => c.type === next.type);
  const keepTime = old && old.status === next.status;
  const merged: Condition = { ...next, lastTransitionTime: keepTime ? old.lastTransitionTime : now };
  return [...conditions.filter((c) => c.type !== next.type), merged];
}

export const HOW_TO_CHANGE = 'The spec of a LoadTest cannot change: to run it differently, delete it (kubectl delete lt NAME) and create a new one.';

/** The next status of `test` given what was observed; `now` is an RFC 3339 time. */
export function nextStatus(test: LoadTest, observed: Observed, now: string): LoadTestStatus {
  const previous = test.status ?? {};
  const replicas = test.spec.worker.replicas;
  let conditions = previous.conditions ?? [];
  const missing = observed.desired.filter((n) => !observed.existing.has(n));
  conditions = setCondition(conditions, observed.createError
    ? { type: 'ResourcesCreated', status: 'False', reason: 'CreateFailed', message: observed.createError }
    : missing.length === 0
      ? { type: 'ResourcesCreated', status: 'True', reason: 'Created', message: `created ${observed.desired.join(', ')}` }
      : { type: 'ResourcesCreated', status: 'False', reason: 'Missing', message: `not created yet: ${missing.join(', ')}` }, now);

  // A worker pod that failed once no longer matters when the Job has replaced it (all replicas active again).
  const replaced = (observed.workerJob?.active ?? 0) >= replicas;
  const problems = observed.pods.filter((p) => p.problem && !(replaced && p.component === 'worker' && p.phase === 'Failed'));
  conditions = setCondition(conditions, problems.length === 0
    ? { type: 'PodsHealthy', status: 'True', reason: 'Healthy', message: 'no pod reports a problem' }
    : { type: 'PodsHealthy', status: 'False', reason: problems[0]!.problem!.reason, message: problems.map((p) => `pod ${p.name}: ${p.problem!.reason}: ${p.problem!.message}`).join('; ') }, now);

  const readyWorkers = observed.pods.filter((p) => p.component === 'worker' && p.ready).length;
  const masterRunning = observed.pods.some((p) => p.component === 'master' && p.phase === 'Running');
  const masterFailedPod = observed.pods.find((p) => p.component === 'master' && p.phase === 'Failed');
  const failure = (observed.masterJobGone ? { reason: 'MasterJobGone', message: `the master Job ${childName(test, 'master')} disappeared before its outcome was seen (deleted, or removed by ttlSecondsAfterFinished); it is not re-created, as that would run the test again` } : undefined)
    ?? jobFailed(observed.masterJob)
    ?? (masterFailedPod ? { reason: masterFailedPod.problem?.reason ?? 'MasterFailed', message: `master pod ${masterFailedPod.name}: ${masterFailedPod.problem?.message ?? 'failed'}` } : undefined)
    ?? (jobFailed(observed.workerJob) ? { reason: 'WorkersFailed', message: `${childName(test, 'worker')}: ${jobFailed(observed.workerJob)!.message}` } : undefined);

  let phase: Phase;
  if (previous.phase === 'Succeeded' || previous.phase === 'Failed') phase = previous.phase;
  else if (failure) phase = 'Failed';
  else if (jobDone(observed.masterJob) || (observed.masterJob?.succeeded ?? 0) > 0) phase = 'Succeeded';
  else if (masterRunning) phase = 'Running';
  else phase = 'Pending';

  if (phase === 'Succeeded' || phase === 'Failed') {
    conditions = setCondition(conditions, phase === 'Succeeded'
      ? { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'the master finished the test (exit code 0)' }
      : { type: 'Completed', status: 'True', reason: failure?.reason ?? previous.conditions?.find((c) => c.type === 'Completed')?.reason ?? 'Failed', message: failure?.message ?? previous.conditions?.find((c) => c.type === 'Completed')?.message ?? 'the test failed' }, now);
  } else {
    conditions = setCondition(conditions, { type: 'Completed', status: 'False', reason: phase, message: phase === 'Running' ? 'the test is running' : 'waiting for the master to start' }, now);
  }
  const order = ['ResourcesCreated', 'PodsHealthy', 'Completed'];
  conditions.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
  return {
    phase,
    conditions: conditions.map((c) => ({ ...c, ...(test.metadata.generation !== undefined ? { observedGeneration: test.metadata.generation } : {}) })),
    expectedWorkers: replicas,
    readyWorkers: phase === 'Succeeded' || phase === 'Failed' ? 0 : readyWorkers,
    ...(previous.startTime ? { startTime: previous.startTime } : masterRunning || phase !== 'Pending' ? { startTime: now } : {}),
    ...(previous.completionTime ? { completionTime: previous.completionTime } : phase === 'Succeeded' || phase === 'Failed' ? { completionTime: now } : {}),
    ...(test.metadata.generation !== undefined ? { observedGeneration: test.metadata.generation } : {}),
    message: HOW_TO_CHANGE,
  };
}
