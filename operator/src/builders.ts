// Pure builders: a LoadTest in, the Kubernetes objects that run it out (master Job, worker Job, Service,
// NetworkPolicy). No I/O here, so every object can be checked (restricted pods, OpenAPI schemas) without a cluster.
import { API_VERSION, KIND, MASTER_PORT, WEB_PORT, type JsonObject, type LoadTest, type PodSettings, type ResourceRequirements } from './types.ts';

export type Component = 'master' | 'worker';

/** Paths inside the test containers. */
export const PATHS = {
  testFiles: '/cicada/test',
  libFiles: '/cicada/lib',
  secret: '/cicada/secret',
  tls: '/cicada/tls',
  web: '/cicada/web',
  tmp: '/tmp',
} as const;

/** Flags the operator sets itself; `run.extraArgs` may not repeat or override them. */
export const RESERVED_FLAGS = [
  '-f', '--cicadafile', '--master', '--worker', '--master-host', '--master-port', '--master-bind-host', '--master-bind-port',
  '--expect-workers', '--secret-file', '--cluster-tls-cert', '--cluster-tls-key', '--cluster-tls-ca', '--insecure',
  '--headless', '--autostart', '--autoquit', '--web-host', '--web-port', '-P', '--web-users', '--processes',
  '-u', '--users', '-r', '--spawn-rate', '-t', '--run-time', '-H', '--host', '-T', '--tags', '-E', '--exclude-tags', '--config', '--expect-workers-max-wait',
] as const;

const DEFAULT_RESOURCES: Record<Component, Required<ResourceRequirements>> = {
  master: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  worker: { requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
};

/** How long the master waits for its workers before it fails (none came) or starts with those that did. */
export const EXPECT_WORKERS_MAX_WAIT_SECONDS = 600;

/** How long the master keeps its web UI up after the run ends, so people can look at the results. */
const AUTOQUIT_SECONDS = 60;

export function childName(test: LoadTest, component: Component): string {
  return `${test.metadata.name}-${component}`;
}

/** Labels on everything the operator makes: the recommended ones plus the seed-compatible performance-test-* pair. */
export function labels(test: LoadTest, component?: Component): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'cicada',
    'app.kubernetes.io/instance': test.metadata.name,
    'app.kubernetes.io/managed-by': 'cicada-operator',
    'performance-test-name': test.metadata.name,
    ...(component ? { 'app.kubernetes.io/component': component, 'performance-test-pod-name': childName(test, component) } : {}),
  };
}

/** What selects one component's pods (stable across spec changes, a subset of `labels`). */
export function selector(test: LoadTest, component: Component): Record<string, string> {
  return { 'app.kubernetes.io/instance': test.metadata.name, 'app.kubernetes.io/component': component };
}

function ownerReference(test: LoadTest): JsonObject {
  return { apiVersion: API_VERSION, kind: KIND, name: test.metadata.name, uid: test.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

function metadata(test: LoadTest, name: string, component?: Component, extra: PodSettings = {}): JsonObject {
  return {
    name,
    namespace: test.metadata.namespace,
    // Ours last: a user label may not take over the selector labels.
    labels: { ...extra.labels, ...labels(test, component) },
    ...(extra.annotations ? { annotations: { ...extra.annotations } } : {}),
    ownerReferences: [ownerReference(test)],
  };
}

const SUFFIX: Record<string, number> = { m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** A Kubernetes quantity as a number (`500m` → 0.5, `1Gi` → 1073741824); NaN when not one. */
export function quantity(text: string): number {
  const trimmed = text.trim().replace(/^\+/, '');
  const suffix = /(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)$/.exec(trimmed)?.[1] ?? '';
  const digits = trimmed.slice(0, trimmed.length - suffix.length);
  return /^[0-9.eE+-]+$/.test(digits) ? Number(digits) * (SUFFIX[suffix] ?? Number.NaN) : Number.NaN;
}

/**
 * Requests and limits always set: the user's values, the defaults for whatever they left out. A default request
 * never exceeds the user's limit (the API server refuses a request above its limit).
 */
function resources(given: ResourceRequirements | undefined, component: Component): Required<ResourceRequirements> {
  const d = DEFAULT_RESOURCES[component];
  const limits = { ...d.limits, ...given?.limits };
  const requests = { ...d.requests, ...given?.requests };
  for (const [name, request] of Object.entries(d.requests)) {
    const limit = limits[name];
    if (given?.requests?.[name] === undefined && limit !== undefined && quantity(request) > quantity(limit)) requests[name] = limit;
  }
  return { requests, limits };
}

function cicadaArgs(test: LoadTest, component: Component): string[] {
  const { spec } = test;
  const run = spec.run;
  const file = `${PATHS.testFiles}/${spec.testFiles.cicadafile ?? 'cicadafile.ts'}`;
  const args = ['-f', file, '--secret-file', `${PATHS.secret}/secret`];
  if (spec.security.clusterTLSSecretRef) {
    args.push('--cluster-tls-cert', `${PATHS.tls}/tls.crt`, '--cluster-tls-key', `${PATHS.tls}/tls.key`, '--cluster-tls-ca', `${PATHS.tls}/ca.crt`);
  }
  if (run.host) args.push('-H', run.host);
  if (run.tags?.length) args.push('-T', ...run.tags);
  if (run.excludeTags?.length) args.push('-E', ...run.excludeTags);
  if (component === 'master') {
    // Workers that never come (image pull errors, quota) fail the master after 10 minutes instead of a wait forever.
    args.push('--master', '--master-bind-host', '0.0.0.0', '--master-bind-port', String(MASTER_PORT), '--expect-workers', String(spec.worker.replicas),
      '--expect-workers-max-wait', String(EXPECT_WORKERS_MAX_WAIT_SECONDS),
      '-u', String(run.users), '-r', String(run.spawnRate));
    if (run.runTime) args.push('-t', run.runTime);
    // The master alone exports (one series per run): the OTEL_* variables below configure its --otel.
    if (spec.observability?.openTelemetry) args.push('--otel');
    if (spec.master?.webUI?.enabled) {
      args.push('--autostart', '--autoquit', String(AUTOQUIT_SECONDS), '--web-host', '0.0.0.0', '--web-port', String(WEB_PORT), '--web-users', `${PATHS.web}/users.toml`);
    } else {
      args.push('--headless');
    }
  } else {
    args.push('--worker', '--master-host', childName(test, 'master'), '--master-port', String(MASTER_PORT));
  }
  args.push(...(run.extraArgs ?? []));
  // Class names last: a variadic flag such as -T would swallow them otherwise.
  if (run.userClasses?.length) args.push('--', ...run.userClasses);
  return args;
}

function env(test: LoadTest, component: Component): JsonObject[] {
  const out: JsonObject[] = [
    { name: 'HOME', value: PATHS.tmp },
    { name: 'TMPDIR', value: PATHS.tmp },
    { name: 'NO_COLOR', value: '1' },
    ...(test.spec.env?.variables ?? []).map((v) => ({ name: v.name, value: v.value })),
  ];
  const otel = test.spec.observability?.openTelemetry;
  if (otel) {
    out.push(
      { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: otel.endpoint },
      { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: otel.protocol ?? 'http/protobuf' },
      { name: 'OTEL_EXPORTER_OTLP_INSECURE', value: String(otel.insecure ?? false) },
      { name: 'OTEL_SERVICE_NAME', value: 'cicada' },
      { name: 'OTEL_RESOURCE_ATTRIBUTES', value: `cicada.loadtest=${test.metadata.name},cicada.component=${component}` },
    );
    if (otel.headersSecretRef) {
      out.push({ name: 'OTEL_EXPORTER_OTLP_HEADERS', valueFrom: { secretKeyRef: { name: otel.headersSecretRef, key: 'headers' } } });
    }
  }
  return out;
}

function volumesAndMounts(test: LoadTest, component: Component): { volumes: JsonObject[]; mounts: JsonObject[] } {
  const { spec } = test;
  // 0444: the pod's user is assigned by the platform (no fixed runAsUser), so files must be world-readable inside the pod.
  const readable = 0o444;
  const volumes: JsonObject[] = [
    { name: 'test-files', configMap: { name: spec.testFiles.configMapRef, defaultMode: readable } },
    { name: 'cluster-secret', secret: { secretName: spec.security.clusterSecretRef, defaultMode: readable, items: [{ key: 'secret', path: 'secret' }] } },
    { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
  ];
  const mounts: JsonObject[] = [
    { name: 'test-files', mountPath: PATHS.testFiles, readOnly: true },
    { name: 'cluster-secret', mountPath: PATHS.secret, readOnly: true },
    { name: 'tmp', mountPath: PATHS.tmp },
  ];
  if (spec.testFiles.libConfigMapRef) {
    volumes.push({ name: 'lib-files', configMap: { name: spec.testFiles.libConfigMapRef, defaultMode: readable } });
    mounts.push({ name: 'lib-files', mountPath: PATHS.libFiles, readOnly: true });
  }
  if (spec.security.clusterTLSSecretRef) {
    volumes.push({ name: 'cluster-tls', secret: { secretName: spec.security.clusterTLSSecretRef, defaultMode: readable } });
    mounts.push({ name: 'cluster-tls', mountPath: PATHS.tls, readOnly: true });
  }
  if (component === 'master' && spec.master?.webUI?.enabled && spec.master.webUI.usersSecretRef) {
    volumes.push({ name: 'web-users', secret: { secretName: spec.master.webUI.usersSecretRef, defaultMode: readable, items: [{ key: 'users.toml', path: 'users.toml' }] } });
    mounts.push({ name: 'web-users', mountPath: PATHS.web, readOnly: true });
  }
  (spec.secretMounts ?? []).forEach((m, i) => {
    volumes.push({ name: `secret-mount-${i}`, secret: { secretName: m.secretRef, defaultMode: readable } });
    mounts.push({ name: `secret-mount-${i}`, mountPath: m.mountPath, readOnly: true });
  });
  volumes.push(...(spec.volumes ?? []).map((v) => ({ ...v })));
  mounts.push(...(spec.volumeMounts ?? []).map((m) => ({ ...m })));
  return { volumes, mounts };
}

/** The pod-level part of the "restricted" hardening (the operator's own pod uses it too). */
export function hardenedPodSecurity(): JsonObject {
  return { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
}

/** The container-level part: no privilege, no capabilities, a read-only root (the pod mounts an emptyDir on /tmp). */
export function hardenedContainerSecurity(): JsonObject {
  return {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** The pod template of one component: hardened whatever the spec says (PSS "restricted"). */
export function podTemplate(test: LoadTest, component: Component): JsonObject {
  const { spec } = test;
  const settings: PodSettings = (component === 'master' ? spec.master : spec.worker) ?? {};
  const { volumes, mounts } = volumesAndMounts(test, component);
  const ports = component === 'master'
    ? [{ name: 'cluster', containerPort: MASTER_PORT, protocol: 'TCP' }, ...(spec.master?.webUI?.enabled ? [{ name: 'web', containerPort: WEB_PORT, protocol: 'TCP' }] : [])]
    : [];
  const scheduling = spec.scheduling ?? {};
  return {
    metadata: {
      labels: { ...settings.labels, ...labels(test, component) },
      ...(settings.annotations ? { annotations: { ...settings.annotations } } : {}),
    },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: hardenedPodSecurity(),
      ...(spec.imagePullSecrets?.length ? { imagePullSecrets: spec.imagePullSecrets.map((s) => ({ name: s.name })) } : {}),
      ...(scheduling.affinity ? { affinity: scheduling.affinity } : {}),
      ...(scheduling.tolerations ? { tolerations: scheduling.tolerations } : {}),
      ...(scheduling.nodeSelector ? { nodeSelector: { ...scheduling.nodeSelector } } : {}),
      ...(scheduling.runtimeClassName ? { runtimeClassName: scheduling.runtimeClassName } : {}),
      containers: [{
        name: component,
        image: spec.image,
        imagePullPolicy: spec.imagePullPolicy ?? 'IfNotPresent',
        args: cicadaArgs(test, component),
        workingDir: PATHS.tmp,
        env: env(test, component),
        ...(spec.env?.configMapRefs?.length || spec.env?.secretRefs?.length
          ? { envFrom: [...(spec.env.configMapRefs ?? []).map((name) => ({ configMapRef: { name } })), ...(spec.env.secretRefs ?? []).map((name) => ({ secretRef: { name } }))] }
          : {}),
        ...(ports.length ? { ports } : {}),
        resources: resources(settings.resources, component),
        volumeMounts: mounts,
        securityContext: hardenedContainerSecurity(),
      }],
      volumes,
    },
  };
}

function job(test: LoadTest, component: Component): JsonObject {
  const replicas = component === 'master' ? 1 : test.spec.worker.replicas;
  const settings: PodSettings = (component === 'master' ? test.spec.master : test.spec.worker) ?? {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(test, childName(test, component), component, { ...(settings.labels ? { labels: settings.labels } : {}) }),
    spec: {
      parallelism: replicas,
      completions: replicas,
      // The master runs once: a failed master is a failed test. A crashed worker may be replaced (it rejoins).
      backoffLimit: component === 'master' ? 0 : replicas,
      ...(test.spec.ttlSecondsAfterFinished !== undefined ? { ttlSecondsAfterFinished: test.spec.ttlSecondsAfterFinished } : {}),
      template: podTemplate(test, component),
    },
  };
}

export const masterJob = (test: LoadTest): JsonObject => job(test, 'master');
export const workerJob = (test: LoadTest): JsonObject => job(test, 'worker');

export function masterService(test: LoadTest): JsonObject {
  const web = test.spec.master?.webUI?.enabled === true;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(test, childName(test, 'master'), 'master'),
    spec: {
      type: 'ClusterIP',
      selector: selector(test, 'master'),
      ports: [
        { name: 'cluster', port: MASTER_PORT, targetPort: MASTER_PORT, protocol: 'TCP' },
        ...(web ? [{ name: 'web', port: WEB_PORT, targetPort: WEB_PORT, protocol: 'TCP' }] : []),
      ],
    },
  };
}

/**
 * One NetworkPolicy per test, selecting all its pods: ingress to 5557 only from this test's workers, to
 * 8089 only from `networkPolicy.webUIFrom`; egress only to DNS, the master, and `networkPolicy.egress`.
 */
export function networkPolicy(test: LoadTest): JsonObject | undefined {
  if (test.spec.networkPolicy?.enabled === false) return undefined;
  const web = test.spec.master?.webUI?.enabled === true;
  const webFrom = test.spec.networkPolicy?.webUIFrom ?? [];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: metadata(test, test.metadata.name, undefined),
    spec: {
      podSelector: { matchLabels: { 'app.kubernetes.io/instance': test.metadata.name, 'app.kubernetes.io/managed-by': 'cicada-operator' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        { from: [{ podSelector: { matchLabels: selector(test, 'worker') } }], ports: [{ protocol: 'TCP', port: MASTER_PORT }] },
        ...(web && webFrom.length > 0 ? [{ from: webFrom, ports: [{ protocol: 'TCP', port: WEB_PORT }] }] : []),
      ],
      egress: [
        {
          to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
        },
        { to: [{ podSelector: { matchLabels: selector(test, 'master') } }], ports: [{ protocol: 'TCP', port: MASTER_PORT }] },
        ...(test.spec.networkPolicy?.egress ?? []),
      ],
    },
  };
}

/** Everything one LoadTest needs, in creation order. */
export function children(test: LoadTest): JsonObject[] {
  const policy = networkPolicy(test);
  // Workers first: if the master's Job cannot be made, no master waits for workers that will never come.
  return [...(policy ? [policy] : []), masterService(test), workerJob(test), masterJob(test)];
}
