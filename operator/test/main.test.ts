// The operator's real entry point (bin/cicada-operator.mjs) as a process: kubeconfig from KUBECONFIG, the
// watched namespace from WATCH_NAMESPACES, health on HEALTH_PORT, a LoadTest turned into Jobs, a clean SIGTERM.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../test/helpers.ts';
import { startFakeApiServer, type FakeApiServer } from './fake-apiserver.ts';
import { loadTest } from './samples.ts';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'cicada-operator.mjs');

describe('cicada-operator process', () => {
  let api: FakeApiServer;
  let child: ChildProcess;
  let output = '';
  let healthPort: number;
  before(async () => {
    api = await startFakeApiServer({ namespaces: ['default', 'perf'] });
    const dir = await mkdtemp(path.join(tmpdir(), 'cicada-operator-'));
    const kubeconfig = path.join(dir, 'config');
    await writeFile(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: fake',
      'clusters: [{name: fake, cluster: {server: "' + api.url + '", insecure-skip-tls-verify: true}}]',
      'users: [{name: fake, user: {token: "' + (api.token ?? 'fake-token') + '"}}]',
      'contexts: [{name: fake, context: {cluster: fake, user: fake, namespace: perf}}]',
    ].join('\n'));
    healthPort = await freePort();
    child = spawn(process.execPath, [BIN], { env: { ...process.env, KUBECONFIG: kubeconfig, WATCH_NAMESPACES: 'perf', HEALTH_PORT: String(healthPort) }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  });
  after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await api.close();
  });

  it('watches its namespace, makes the Jobs of a new LoadTest, answers /healthz, and stops on SIGTERM', async () => {
    const { metadata, ...rest } = loadTest('smoke');
    api.create('loadtests', { ...rest, metadata: { name: metadata.name, namespace: 'perf' } });
    await api.waitFor(() => api.objects('jobs', 'perf').length === 2, 20_000, `the Jobs (operator output:\n${output})`);
    const health = await fetch(`http://127.0.0.1:${healthPort}/healthz`);
    assert.equal(health.status, 200);
    assert.match(output, /"message":"watching LoadTests in perf"/);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
  });
});
