// Status from observed Jobs and pods: phases, conditions naming the pod and reason, worker counts, times.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nextStatus, podState, type Observed } from '../src/status.ts';
import { loadTest } from './samples.ts';

const all = ['shop', 'shop-master', 'shop-master', 'shop-worker'];
const base: Observed = { existing: new Set(all), desired: all, pods: [] };
const T1 = '2026-11-25T10:00:00Z';
const T2 = '2026-11-25T10:05:00Z';

function pod(name: string, component: string, status: Record<string, unknown>) {
  return podState({ metadata: { name, labels: { 'app.kubernetes.io/component': component } }, status });
}
const running = (name: string, component: string) => pod(name, component, { phase: 'Running', containerStatuses: [{ name: component, ready: true, state: { running: {} } }] });

describe('LoadTest status', () => {
  it('is Pending with missing resources named, then Running with ready workers counted', () => {
    const pending = nextStatus(loadTest(), { existing: new Set(['shop']), desired: ['shop', 'shop-master', 'shop-worker'], pods: [] }, T1);
    assert.equal(pending.phase, 'Pending');
    assert.match(pending.conditions!.find((c) => c.type === 'ResourcesCreated')!.message, /not created yet: shop-master, shop-worker/);
    const status = nextStatus(loadTest(), { ...base, pods: [running('shop-master-a', 'master'), running('shop-worker-a', 'worker'), pod('shop-worker-b', 'worker', { phase: 'Pending' })] }, T1);
    assert.equal(status.phase, 'Running');
    assert.deepEqual([status.expectedWorkers, status.readyWorkers], [2, 1]);
    assert.equal(status.startTime, T1);
    assert.match(status.message!, /delete it .* and create a new one/);
  });

  it('names image pull errors, crash loops and unschedulable pods', () => {
    const status = nextStatus(loadTest(), {
      ...base,
      pods: [
        pod('shop-master-a', 'master', { phase: 'Pending', containerStatuses: [{ name: 'master', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "cicada:nope"' } } }] }),
        pod('shop-worker-a', 'worker', { phase: 'Running', containerStatuses: [{ name: 'worker', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } } }] }),
        pod('shop-worker-b', 'worker', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' }] }),
      ],
    }, T1);
    const healthy = status.conditions!.find((c) => c.type === 'PodsHealthy')!;
    assert.equal(healthy.status, 'False');
    assert.equal(healthy.reason, 'ImagePullBackOff');
    assert.match(healthy.message, /pod shop-master-a: ImagePullBackOff: Back-off pulling image "cicada:nope"/);
    assert.match(healthy.message, /pod shop-worker-a: CrashLoopBackOff/);
    assert.match(healthy.message, /pod shop-worker-b: Unschedulable: 0\/3 nodes are available/);
  });

  it('flags a pod still creating after two minutes (a missing ConfigMap, Secret or key it mounts)', () => {
    const creating = (age: number) => podState({
      metadata: { name: 'shop-master-a', creationTimestamp: new Date(Date.parse(T1) - age).toISOString(), labels: { 'app.kubernetes.io/component': 'master' } },
      status: { phase: 'Pending', containerStatuses: [{ name: 'master', state: { waiting: { reason: 'ContainerCreating' } } }] },
    }, Date.parse(T1));
    assert.equal(creating(30_000).problem, undefined, 'young pods are just starting');
    const stuck = creating(180_000);
    assert.equal(stuck.problem?.reason, 'StuckCreating');
    assert.match(stuck.problem.message, /ConfigMaps and Secrets it mounts .*kubectl describe pod shop-master-a/);
  });

  it('is Failed with the reason when the master pod fails, and stays Failed', () => {
    const test = loadTest();
    const failed = nextStatus(test, { ...base, pods: [pod('shop-master-a', 'master', { phase: 'Failed', containerStatuses: [{ name: 'master', state: { terminated: { reason: 'Error', exitCode: 2 } } }] })] }, T1);
    assert.equal(failed.phase, 'Failed');
    const completed = failed.conditions!.find((c) => c.type === 'Completed')!;
    assert.equal(completed.reason, 'Error');
    assert.match(completed.message, /master pod shop-master-a: exit code 2/);
    assert.equal(failed.completionTime, T1);
    test.status = failed;
    const later = nextStatus(test, { ...base, pods: [] }, T2);
    assert.equal(later.phase, 'Failed');
    assert.equal(later.completionTime, T1, 'the completion time does not move');
    assert.equal(later.conditions!.find((c) => c.type === 'Completed')!.lastTransitionTime, T1);
  });

  it('forgets a failed worker pod once the Job has replaced it', () => {
    const failedWorker = pod('shop-worker-a', 'worker', { phase: 'Failed', containerStatuses: [{ name: 'worker', state: { terminated: { reason: 'Error', exitCode: 137 } } }] });
    const pods = [running('shop-master-a', 'master'), failedWorker, running('shop-worker-b', 'worker'), running('shop-worker-c', 'worker')];
    const replacing = nextStatus(loadTest(), { ...base, workerJob: { active: 1, failed: 1 }, pods }, T1);
    assert.equal(replacing.conditions!.find((c) => c.type === 'PodsHealthy')!.status, 'False');
    const replaced = nextStatus(loadTest(), { ...base, workerJob: { active: 2, failed: 1 }, pods }, T1);
    assert.equal(replaced.conditions!.find((c) => c.type === 'PodsHealthy')!.status, 'True');
    assert.equal(replaced.phase, 'Running');
  });

  it('is Succeeded when the master Job completes', () => {
    const status = nextStatus(loadTest(), { ...base, masterJob: { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] } }, T2);
    assert.equal(status.phase, 'Succeeded');
    assert.equal(status.conditions!.find((c) => c.type === 'Completed')!.status, 'True');
    assert.equal(status.readyWorkers, 0);
  });
});
