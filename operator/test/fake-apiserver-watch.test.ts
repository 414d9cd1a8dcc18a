// The fake Kubernetes API server's watches and informers, driven by the real @kubernetes/client-node (Watch,
// makeInformer): events, resourceVersions, bookmarks, reconnects. Requests and errors are in fake-apiserver-crud.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BatchV1Api, CoreV1Api, makeInformer, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { kubeConfigFor, startFakeApiServer, type FakeApiServer, type StoredObject } from './fake-apiserver.ts';
import { SUITE, T, asMergePatch, eventually, job, openWatch } from './fake-apiserver-fixtures.ts';

describe('fake apiserver: watches and informers', SUITE, () => {
  let server: FakeApiServer;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let batch: BatchV1Api;
  const cleanups: Array<() => unknown> = [];
  before(async () => {
    server = await startFakeApiServer({ bookmarkIntervalMs: 50 });
    kc = kubeConfigFor(server);
    core = kc.makeApiClient(CoreV1Api);
    batch = kc.makeApiClient(BatchV1Api);
  });
  after(async () => {
    for (const c of cleanups) await c();
    await server.close();
  });

  it('a Watch receives ADDED, MODIFIED, DELETED in order', T, async () => {
    const rv = (await batch.listNamespacedJob({ namespace: 'default' })).metadata!.resourceVersion!;
    const w = await openWatch(kc, '/apis/batch/v1/namespaces/default/jobs', { resourceVersion: rv });
    cleanups.push(() => w.controller.abort());
    await batch.createNamespacedJob({ namespace: 'default', body: job('watched') });
    await batch.patchNamespacedJob({ name: 'watched', namespace: 'default', body: { metadata: { labels: { x: 'y' } } } }, asMergePatch);
    await batch.deleteNamespacedJob({ name: 'watched', namespace: 'default', propagationPolicy: 'Background' });
    await eventually(() => w.events.length >= 3, 'three events');
    assert.deepEqual(w.events.map((e) => `${e.type}:${e.object.metadata.name}`), ['ADDED:watched', 'MODIFIED:watched', 'DELETED:watched']);
    const rvs = w.events.map((e) => Number(e.object.metadata.resourceVersion));
    assert.deepEqual([...rvs].sort((a, b) => a - b), rvs, 'resourceVersions increase');
    assert.equal(w.events[0]!.object.kind, 'Job', 'watch objects carry kind');
    assert.deepEqual(server.requests.filter((r) => r.verb === 'watch').map((r) => r.query.watch), ['true']);
    w.controller.abort();
    await server.waitFor(() => server.openWatches === 0, 2000, 'watch closed on the server');
  });

  it('resumes from a resourceVersion, filters by label, and answers a compacted one with 410 Expired', T, async () => {
    const start = server.resourceVersion;
    server.create('pods', { metadata: { name: 'p1', labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i' }] } });
    server.create('pods', { metadata: { name: 'p2', labels: { app: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } });
    server.patch('pods', 'p1', { metadata: { labels: { app: 'b' } } });
    const w = await openWatch(kc, '/api/v1/namespaces/default/pods', { resourceVersion: start, labelSelector: 'app=a' });
    cleanups.push(() => w.controller.abort());
    // p1 was added matching, then left the selector: a selector-filtered watch sees that as DELETED.
    await eventually(() => w.events.length >= 2, 'replayed events');
    assert.deepEqual(w.events.map((e) => `${e.type}:${e.object.metadata.name}`), ['ADDED:p1', 'DELETED:p1']);
    w.controller.abort();

    const initial = await openWatch(kc, '/api/v1/namespaces/default/pods', {});
    cleanups.push(() => initial.controller.abort());
    await eventually(() => initial.events.length >= 2, 'synthetic ADDED events for the current state');
    assert.deepEqual(initial.events.map((e) => e.type), ['ADDED', 'ADDED']);
    initial.controller.abort();

    server.compact();
    const expired = await openWatch(kc, '/api/v1/namespaces/default/pods', { resourceVersion: start });
    await eventually(() => expired.ended() !== 'open', 'server ends the expired watch');
    assert.equal(expired.events[0]!.type, 'ERROR');
    assert.equal(expired.events[0]!.object.code, 410);
    assert.equal(expired.events[0]!.object.reason, 'Expired');
  });

  it('sends BOOKMARK events to watches that allow them', T, async () => {
    const w = await openWatch(kc, '/apis/batch/v1/namespaces/default/jobs', { allowWatchBookmarks: true });
    cleanups.push(() => w.controller.abort());
    await eventually(() => w.events.some((e) => e.type === 'BOOKMARK'), 'a bookmark');
    const bm = w.events.find((e) => e.type === 'BOOKMARK')!;
    assert.equal(bm.object.kind, 'Job');
    assert.equal(bm.object.metadata.resourceVersion, server.resourceVersion);
    w.controller.abort();
  });

  it('serves ?watch=1 as newline-delimited JSON, with sendInitialEvents ending in a bookmark (raw HTTP)', T, async () => {
    server.create('configmaps', { metadata: { name: 'raw' } });
    const ac = new AbortController();
    cleanups.push(() => ac.abort());
    const res = await fetch(
      `${server.url}/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`,
      { headers: { authorization: `Bearer ${server.token}` }, signal: ac.signal },
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    const reader = res.body!.getReader();
    let text = '';
    while (text.split('\n').length < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    ac.abort();
    const [added, bookmark] = text.split('\n').slice(0, 2).map((l) => JSON.parse(l) as { type: string; object: StoredObject });
    assert.equal(added!.type, 'ADDED');
    assert.equal(added!.object.metadata.name, 'raw');
    assert.equal(bookmark!.type, 'BOOKMARK');
    assert.equal(bookmark!.object.metadata.annotations!['k8s.io/initial-events-end'], 'true');
    const bad = await fetch(`${server.url}/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    assert.equal(bad.status, 422);
  });

  it('an informer lists, then sees adds, updates and deletes, and survives the server ending its watch', T, async () => {
    server.create('pods', { metadata: { name: 'before-start', labels: { app: 'inf' } }, spec: { containers: [{ name: 'c', image: 'i' }] } });
    let lists = 0;
    const informer = makeInformer<V1Pod>(kc, '/api/v1/namespaces/default/pods', () => {
      lists++;
      return core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=inf' });
    }, 'app=inf');
    const seen: string[] = [];
    const errors: unknown[] = [];
    informer.on('add', (p) => seen.push(`add:${p.metadata!.name}`));
    informer.on('update', (p) => seen.push(`update:${p.metadata!.name}:${p.status!.phase}`));
    informer.on('delete', (p) => seen.push(`delete:${p.metadata!.name}`));
    informer.on('error', (e) => errors.push(e));
    cleanups.push(() => informer.stop());
    await informer.start();
    await eventually(() => seen.includes('add:before-start'), 'initial list');
    await server.waitFor(() => server.watchesByResource().pods === 1, 2000, 'informer watch');

    const pod = server.create<V1Pod>('pods', { metadata: { name: 'kubelet-made', labels: { app: 'inf' } }, spec: { containers: [{ name: 'c', image: 'i' }] } });
    server.patch('pods', pod as never, { status: { phase: 'Failed', reason: 'OOMKilled' } });
    server.delete('pods', 'kubelet-made');
    await eventually(() => seen.includes('delete:kubelet-made'), 'delete seen');
    assert.deepEqual(seen, ['add:before-start', 'add:kubelet-made', 'update:kubelet-made:Failed', 'delete:kubelet-made']);

    // The server ends the watch: the informer re-watches from its resourceVersion, no relist.
    server.closeWatches();
    await server.waitFor(() => server.requests.filter((r) => r.verb === 'watch' && r.resource === 'pods').length >= 2, 2000, 're-watch');
    server.create('pods', { metadata: { name: 'after-reconnect', labels: { app: 'inf' } }, spec: { containers: [{ name: 'c', image: 'i' }] } });
    await eventually(() => seen.includes('add:after-reconnect'), 'add after reconnect');
    assert.equal(lists, 1);

    // The server expires the watch (410 ERROR event): the informer relists, then watches again.
    server.compact();
    server.expireWatches();
    await eventually(() => lists === 2, 'relist after 410');
    assert.deepEqual(errors, []);
    assert.deepEqual(informer.list('default').map((p) => p.metadata!.name).sort(), ['after-reconnect', 'before-start']);
    await informer.stop();
    await server.waitFor(() => server.openWatches === 0, 2000, 'informer watch closed');
  });
});
