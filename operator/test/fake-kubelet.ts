// A fake kubelet for one machine: runs the containers of the operator's Jobs as local `cicada` processes.
// ConfigMap and Secret contents are written to temp folders standing in for their mount paths, service names
// resolve to 127.0.0.1, and the master's fixed port is swapped for a free one. It reports pod and Job status
// back to the fake API server as a kubelet and the Job controller would.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FakeApiServer, KubeObject } from './fake-apiserver.ts';
import { podForJob } from './fake-apiserver.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const CICADA = path.join(REPO, 'bin', 'cicada.mjs');

type Json = Record<string, unknown>;
interface Container {
  name: string;
  args: string[];
  env?: { name: string; value?: string }[];
  volumeMounts: { name: string; mountPath: string }[];
}
interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  emptyDir?: Json;
}

export interface RunningPod {
  name: string;
  job: string;
  /** stdout and stderr interleaved, as `kubectl logs` shows them. */
  output: string;
  stdout: string;
  exitCode: number | null;
}

export class FakeKubelet {
  readonly pods: RunningPod[] = [];
  private readonly started = new Set<string>();
  private readonly children = new Set<ChildProcess>();
  private readonly dirs: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  /** `ports` maps a service port (5557) to the loopback port used instead. */
  constructor(private readonly api: FakeApiServer, private readonly namespace: string, private readonly ports: Record<number, number>, private readonly serviceNames: string[]) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), 100);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const c of this.children) c.kill('SIGKILL');
    await Promise.all(this.dirs.map((d) => rm(d, { recursive: true, force: true })));
  }

  private async tick(): Promise<void> {
    for (const job of this.api.objects<KubeObject>('jobs', this.namespace)) {
      const name = job.metadata?.name ?? '';
      if (this.started.has(name)) continue;
      this.started.add(name);
      const parallelism = ((job.spec as Json).parallelism as number | undefined) ?? 1;
      for (let i = 0; i < parallelism; i++) await this.runPod(job, `${name}-${i}`);
    }
  }

  /**
   * Writes files the way the kubelet lays out a ConfigMap or Secret volume: the real files in a timestamped
   * folder, `..data` a link to it, and each key a link through `..data` (so updates swap one link).
   */
  private async writeAtomic(dir: string, files: [string, Buffer | string][]): Promise<void> {
    const stamp = `..${new Date().toISOString().replace(/[-:T.Z]/g, '_')}${Math.random().toString(36).slice(2, 8)}`;
    await mkdir(path.join(dir, stamp));
    for (const [name, content] of files) {
      await mkdir(path.dirname(path.join(dir, stamp, name)), { recursive: true });
      await writeFile(path.join(dir, stamp, name), content);
    }
    await symlink(stamp, path.join(dir, '..data'));
    for (const [name] of files) {
      const top = name.split('/')[0]!;
      await symlink(path.join('..data', top), path.join(dir, top)).catch(() => undefined);
    }
  }

  /** Writes each volume's content into a temp folder; returns container path → local path. */
  private async mountVolumes(container: Container, volumes: Volume[]): Promise<[string, string][]> {
    const mounts: [string, string][] = [];
    // One root per pod, each volume at its mount path under it: `/cicada/test/../lib` is `/cicada/lib` here too.
    const root = await mkdtemp(path.join(tmpdir(), 'kubelet-pod-'));
    this.dirs.push(root);
    for (const mount of container.volumeMounts) {
      const volume = volumes.find((v) => v.name === mount.name);
      const dir = path.join(root, mount.mountPath);
      await mkdir(dir, { recursive: true });
      if (volume?.configMap) {
        const cm = this.api.get<{ data?: Record<string, string> }>('configmaps', volume.configMap.name, this.namespace);
        if (!cm) throw new Error(`ConfigMap ${volume.configMap.name} not found`);
        await this.writeAtomic(dir, Object.entries(cm.data ?? {}));
      } else if (volume?.secret) {
        const secret = this.api.get<{ data?: Record<string, string> }>('secrets', volume.secret.secretName, this.namespace);
        if (!secret) throw new Error(`Secret ${volume.secret.secretName} not found`);
        const items = volume.secret.items ?? Object.keys(secret.data ?? {}).map((key) => ({ key, path: key }));
        await this.writeAtomic(dir, items.map((item): [string, Buffer] => [item.path, Buffer.from(secret.data?.[item.key] ?? '', 'base64')]));
      }
      mounts.push([mount.mountPath, dir]);
    }
    // Longest paths first, so /cicada/test wins over a hypothetical /cicada.
    return mounts.sort((a, b) => b[0].length - a[0].length);
  }

  /** The container's arguments as this machine can run them: mounts, service names and ports made local. */
  private localArgs(args: string[], mounts: [string, string][]): string[] {
    return args.map((arg, i) => {
      const previous = args[i - 1];
      if (previous === '--master-host' && this.serviceNames.includes(arg)) return '127.0.0.1';
      if (previous === '--master-bind-host') return '127.0.0.1';
      if ((previous === '--master-port' || previous === '--master-bind-port') && this.ports[Number(arg)] !== undefined) return String(this.ports[Number(arg)]);
      for (const [from, to] of mounts) if (arg === from || arg.startsWith(`${from}/`)) return to + arg.slice(from.length);
      return arg;
    });
  }

  private async runPod(job: KubeObject, podName: string): Promise<void> {
    const pod = this.api.create<KubeObject>('pods', podForJob(job, { name: podName, phase: 'Pending' }));
    const spec = pod.spec as { containers: Container[]; volumes: Volume[] };
    const container = spec.containers[0]!;
    const mounts = await this.mountVolumes(container, spec.volumes);
    const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
    for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    for (const [from, to] of mounts) for (const key of Object.keys(env)) if (env[key] === from) env[key] = to;
    const args = this.localArgs(container.args, mounts);
    const child = spawn(process.execPath, [CICADA, ...args], { cwd: env.TMPDIR ?? tmpdir(), env: { ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    const record: RunningPod = { name: podName, job: job.metadata?.name ?? '', output: '', stdout: '', exitCode: null };
    this.pods.push(record);
    child.stdout.on('data', (d: Buffer) => {
      record.output += d.toString();
      record.stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => (record.output += d.toString()));
    this.api.patch('pods', { name: podName, namespace: this.namespace }, { status: { phase: 'Running', containerStatuses: [{ name: container.name, ready: true, state: { running: { startedAt: new Date().toISOString() } } }] } });
    child.once('exit', (code) => {
      this.children.delete(child);
      record.exitCode = code;
      const phase = code === 0 ? 'Succeeded' : 'Failed';
      this.api.patch('pods', { name: podName, namespace: this.namespace }, {
        status: { phase, containerStatuses: [{ name: container.name, ready: false, state: { terminated: { exitCode: code ?? 137, reason: code === 0 ? 'Completed' : 'Error' } } }] },
      });
      this.updateJob(job);
    });
  }

  /** What the Job controller would write: counts, and Complete or Failed once decided. */
  private updateJob(job: KubeObject): void {
    const name = job.metadata?.name ?? '';
    const mine = this.pods.filter((p) => p.job === name);
    const completions = ((job.spec as Json).completions as number | undefined) ?? 1;
    const succeeded = mine.filter((p) => p.exitCode === 0).length;
    const failed = mine.filter((p) => p.exitCode !== null && p.exitCode !== 0).length;
    const backoffLimit = ((job.spec as Json).backoffLimit as number | undefined) ?? 6;
    const conditions = succeeded >= completions
      ? [{ type: 'Complete', status: 'True' }]
      : failed > backoffLimit
        ? [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }]
        : [];
    this.api.patch('jobs', { name, namespace: this.namespace }, { status: { active: mine.filter((p) => p.exitCode === null).length, succeeded, failed, conditions } });
  }
}
