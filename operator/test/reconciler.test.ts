// The reconciler and the control loop against the fake API server (real HTTP, the real client's calls and watches).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Controller } from '../src/controller.ts';
import { kubeFor } from '../src/kube.ts';
import { Reconciler } from '../src/reconciler.ts';
import type { LoadTest } from '../src/types.ts';
import { kubeConfigFor, startFakeApiServer, type FakeApiServer } from './fake-apiserver.ts';
import { loadTest } from './samples.ts';

const NS = 'perf';

function stored(server: FakeApiServer, name: string): LoadTest {
  const lt = server.get<LoadTest>('loadtests', name, NS);
  assert.ok(lt, `LoadTest ${name} exists`);
  return lt;
}

function names(server: FakeApiServer, kind: string): string[] {
  return server.objects<{ metadata: { name: string } }>(kind, NS).map((o) => o.metadata.name).sort();
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function createTest(server: FakeApiServer, name: string): LoadTest {
  const { metadata, ...rest } = loadTest(name);
  return server.create<LoadTest>('loadtests', { ...rest, metadata: { name: metadata.name, namespace: NS } });
}

/** A pod of the test as the kubelet would report it. */
function addPod(server: FakeApiServer, test: string, component: 'master' | 'worker', suffix: string, status: object): void {
  server.create('pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${test}-${component}-${suffix}`,
      namespace: NS,
      labels: { 'app.kubernetes.io/instance': test, 'app.kubernetes.io/component': component, 'app.kubernetes.io/managed-by': 'cicada-operator' },
    },
    spec: { containers: [{ name: component, image: 'cicada' }] },
    status,
  });
}

describe('reconciler against the fake API server', () => {
  let server: FakeApiServer;
  let reconciler: Reconciler;
  before(async () => {
    server = await startFakeApiServer();
    reconciler = new Reconciler(kubeFor(kubeConfigFor(server, NS)));
  });
  after(() => server.close());

  it('creates the Jobs, the Service and the NetworkPolicy, owned by the LoadTest, and a Pending status with events', async () => {
    createTest(server, 'shop');
    await reconciler.reconcile(NS, 'shop');
    assert.deepEqual(names(server, 'jobs'), ['shop-master', 'shop-worker']);
    assert.deepEqual(names(server, 'services'), ['shop-master']);
    assert.deepEqual(names(server, 'networkpolicies'), ['shop']);
    const uid = stored(server, 'shop').metadata.uid;
    for (const kind of ['jobs', 'services', 'networkpolicies']) {
      for (const o of server.objects<{ metadata: { ownerReferences: { uid: string; controller: boolean }[] } }>(kind, NS)) {
        assert.equal(o.metadata.ownerReferences[0]!.uid, uid);
        assert.equal(o.metadata.ownerReferences[0]!.controller, true);
      }
    }
    const status = stored(server, 'shop').status!;
    assert.equal(status.phase, 'Pending');
    assert.equal(status.expectedWorkers, 2);
    assert.equal(status.conditions!.find((c) => c.type === 'ResourcesCreated')!.status, 'True');
    const events = server.objects<{ reason: string; involvedObject: { name: string } }>('events', NS).filter((e) => e.involvedObject.name === 'shop');
    assert.ok(events.some((e) => e.reason === 'Created'));
  });

  it('is idempotent: a second pass creates nothing and writes no status', async () => {
    const before = server.requests.length;
    await reconciler.reconcile(NS, 'shop');
    const writes = server.requests.slice(before).filter((r) => r.method !== 'GET');
    assert.deepEqual(writes, [], `no writes: ${JSON.stringify(writes)}`);
  });

  it('moves to Running with the ready workers counted', async () => {
    addPod(server, 'shop', 'master', 'a', { phase: 'Running', containerStatuses: [{ name: 'master', ready: true, state: { running: {} } }] });
    addPod(server, 'shop', 'worker', 'a', { phase: 'Running', containerStatuses: [{ name: 'worker', ready: true, state: { running: {} } }] });
    await reconciler.reconcile(NS, 'shop');
    const status = stored(server, 'shop').status!;
    assert.equal(status.phase, 'Running');
    assert.deepEqual([status.expectedWorkers, status.readyWorkers], [2, 1]);
    assert.ok(status.startTime);
  });

  it('re-creates a child deleted while the test runs', async () => {
    server.delete('services', { name: 'shop-master', namespace: NS });
    await reconciler.reconcile(NS, 'shop');
    assert.deepEqual(names(server, 'services'), ['shop-master']);
    const events = server.objects<{ reason: string }>('events', NS);
    assert.ok(events.some((e) => e.reason === 'Recreated'));
  });

  it('names an image pull error in the status', async () => {
    addPod(server, 'shop', 'worker', 'b', { phase: 'Pending', containerStatuses: [{ name: 'worker', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "cicada:nope"' } } }] });
    await reconciler.reconcile(NS, 'shop');
    const healthy = stored(server, 'shop').status!.conditions!.find((c) => c.type === 'PodsHealthy')!;
    assert.equal(healthy.status, 'False');
    assert.match(healthy.message, /pod shop-worker-b: ImagePullBackOff/);
    assert.ok(server.objects<{ reason: string; type: string }>('events', NS).some((e) => e.reason === 'ImagePullBackOff' && e.type === 'Warning'));
  });

  it('ends Failed with the reason when the master fails, stops the workers, and creates nothing afterwards', async () => {
    server.patch('pods', { name: 'shop-master-a', namespace: NS }, { status: { phase: 'Failed', containerStatuses: [{ name: 'master', ready: false, state: { terminated: { reason: 'Error', exitCode: 2 } } }] } });
    // What the Job controller writes for a failed master (backoffLimit 0).
    server.patch('jobs', { name: 'shop-master', namespace: NS }, { status: { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] } });
    await reconciler.reconcile(NS, 'shop');
    const status = stored(server, 'shop').status!;
    assert.equal(status.phase, 'Failed');
    assert.match(status.conditions!.find((c) => c.type === 'Completed')!.message, /backoff limit|exit code 2/);
    assert.ok(status.completionTime);
    assert.deepEqual(names(server, 'jobs'), ['shop-master'], 'the still-running worker Job is deleted (no load after a failure); the master Job stays for its logs');
    assert.ok(server.objects<{ reason: string }>('events', NS).some((e) => e.reason === 'Stopped'));
    const before = server.requests.length;
    await reconciler.reconcile(NS, 'shop');
    assert.deepEqual(names(server, 'jobs'), ['shop-master'], 'a finished test is not restarted');
    assert.equal(server.requests.length - before, 1, 'a finished test costs one read per pass');
  });

  it('does not re-create a master Job that disappeared (that would run the test again): Failed, MasterJobGone', async () => {
    createTest(server, 'gone');
    await reconciler.reconcile(NS, 'gone');
    server.delete('jobs', { name: 'gone-master', namespace: NS }, { propagationPolicy: 'Background' });
    await reconciler.reconcile(NS, 'gone');
    const status = stored(server, 'gone').status!;
    assert.equal(status.phase, 'Failed');
    assert.equal(status.conditions!.find((c) => c.type === 'Completed')!.reason, 'MasterJobGone');
    assert.ok(!names(server, 'jobs').includes('gone-master'));
  });

  it('reports a child the API server refuses in the status and retries', async () => {
    createTest(server, 'refused');
    server.setAdmission((request) => (request.resource === 'jobs.batch' && request.name === 'refused-worker' ? 'exceeded quota: compute-resources, requested: limits.cpu=2' : undefined));
    await assert.rejects(reconciler.reconcile(NS, 'refused'), /could not create Job\/refused-worker: .*exceeded quota/);
    const created = stored(server, 'refused').status!.conditions!.find((c) => c.type === 'ResourcesCreated')!;
    assert.equal(created.status, 'False');
    assert.equal(created.reason, 'CreateFailed');
    assert.match(created.message, /Job\/refused-worker: .*exceeded quota/);
    assert.ok(!names(server, 'jobs').includes('refused-master'), 'no master is started without its workers');
    assert.ok(server.objects<{ reason: string }>('events', NS).some((e) => e.reason === 'CreateFailed'));
    server.setAdmission(undefined);
    await reconciler.reconcile(NS, 'refused');
    assert.deepEqual(names(server, 'jobs').filter((n) => n.startsWith('refused-')), ['refused-master', 'refused-worker']);
  });

  it('never reads or writes a Secret or a ConfigMap', () => {
    const touched = server.requests.filter((r) => /\/(secrets|configmaps)\b/.test(r.path));
    assert.deepEqual(touched, []);
  });

  it('deleting the LoadTest removes everything it owns', async () => {
    server.delete('loadtests', { name: 'shop', namespace: NS });
    await reconciler.reconcile(NS, 'shop');
    const shop = (kind: string): string[] => names(server, kind).filter((n) => n === 'shop' || n.startsWith('shop-'));
    assert.deepEqual([shop('jobs'), shop('services'), shop('networkpolicies')], [[], [], []]);
  });
});

describe('control loop (watches) against the fake API server', () => {
  let server: FakeApiServer;
  let controller: Controller;
  before(async () => {
    server = await startFakeApiServer();
    controller = new Controller(kubeFor(kubeConfigFor(server, NS)), { namespaces: [NS], logger: { info: () => {}, warning: () => {}, error: () => {} }, resyncMs: 60_000, retryMs: 100 });
    await controller.start();
  });
  after(async () => {
    await controller.stop();
    await server.close();
  });

  it('reacts to a new LoadTest, to pods, and to a completed master Job through its watches', async () => {
    createTest(server, 'cart');
    await until(() => names(server, 'jobs').length === 2, 'the Jobs');
    await until(() => stored(server, 'cart').status?.phase === 'Pending', 'the Pending status');
    addPod(server, 'cart', 'master', 'x', { phase: 'Running', containerStatuses: [{ name: 'master', ready: true, state: { running: {} } }] });
    await until(() => stored(server, 'cart').status?.phase === 'Running', 'Running');
    server.patch('jobs', { name: 'cart-master', namespace: NS }, { status: { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] } });
    await until(() => stored(server, 'cart').status?.phase === 'Succeeded', 'Succeeded');
    // The event follows the status write.
    await until(() => server.objects<{ reason: string }>('events', NS).some((e) => e.reason === 'Succeeded'), 'the Succeeded event');
  });

  it('re-creates a child deleted behind its back, from the watch alone', async () => {
    createTest(server, 'again');
    await until(() => names(server, 'services').includes('again-master'), 'the Service');
    addPod(server, 'again', 'master', 'y', { phase: 'Running', containerStatuses: [{ name: 'master', ready: true, state: { running: {} } }] });
    await until(() => stored(server, 'again').status?.phase === 'Running', 'Running');
    server.delete('jobs', { name: 'again-worker', namespace: NS });
    await until(() => names(server, 'jobs').includes('again-worker'), 'the worker Job re-created');
  });

  it('survives the API server closing its watches', async () => {
    server.closeWatches();
    createTest(server, 'late');
    await until(() => names(server, 'jobs').includes('late-master'), 'a test created after the watches were cut');
  });
});
