// Pure builders of everything that INSTALLS the operator: its Namespace, ServiceAccount, RBAC (Role mode or
// ClusterRole mode), Deployment, the LoadTest CRD, and the `loadtest-creator` Role for the people who run tests.
// One `InstallValues` object in, plain Kubernetes objects out, no I/O. scripts/render-manifests.ts renders both
// the plain manifests (operator/deploy/) and the Helm chart (charts/cicada-operator) from these functions, and
// test/manifests.test.ts proves the chart renders exactly what they build.
import { hardenedContainerSecurity, hardenedPodSecurity } from './builders.ts';
import { crd } from './crd.ts';
import { GROUP, PLURAL, type JsonObject, type ResourceRequirements } from './types.ts';

export type RbacScope = 'Namespace' | 'Cluster';

export interface InstallValues {
  /** Where the operator runs (its ServiceAccount, Deployment). */
  namespace: string;
  /** The operator image (operator/Dockerfile). */
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /** Requests and limits of the operator container (both are always set). */
  resources: Required<ResourceRequirements>;
  /**
   * Namespace: a Role and RoleBinding in each watched namespace (the default).
   * Cluster: one ClusterRole and ClusterRoleBinding.
   */
  rbacScope: RbacScope;
  /**
   * The namespaces whose LoadTests the operator runs. Empty: the install namespace in Namespace mode,
   * every namespace in Cluster mode.
   */
  watchNamespaces: string[];
  /** Include the LoadTest CRD. */
  installCRD: boolean;
  /** Include the `loadtest-creator` Role in each test namespace (and a ClusterRole of it in Cluster mode). */
  createLoadTestCreatorRole: boolean;
  /** Include the Namespace object itself (the plain manifests do; Helm makes it with --create-namespace). */
  createNamespace: boolean;
}

export type PolicyRule = { apiGroups: string[]; resources: string[]; verbs: string[] };

export const OPERATOR_NAME = 'cicada-operator';
export const LOADTEST_CREATOR = 'loadtest-creator';
/** The ClusterRole twin of the loadtest-creator Role (Cluster mode), to bind in any namespace with a RoleBinding. */
export const CLUSTER_LOADTEST_CREATOR = 'cicada-loadtest-creator';
/** main.ts serves /healthz and /readyz here (env HEALTH_PORT). */
export const HEALTH_PORT = 8081;
export const DEFAULT_IMAGE = 'ghcr.io/example/cicada-operator:0.1.0';

export const DEFAULT_VALUES: InstallValues = {
  namespace: 'cicada-system',
  image: DEFAULT_IMAGE,
  imagePullPolicy: 'IfNotPresent',
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '384Mi' } },
  rbacScope: 'Namespace',
  watchNamespaces: [],
  installCRD: true,
  createLoadTestCreatorRole: true,
  createNamespace: true,
};

export function installValues(overrides: Partial<InstallValues> = {}): InstallValues {
  return { ...structuredClone(DEFAULT_VALUES), ...overrides };
}

const CHILD_VERBS = ['create', 'delete', 'get', 'list', 'watch'];
const READ_VERBS = ['get', 'list', 'watch'];

/**
 * Exactly what the operator uses (operator/src/kube.ts), nothing more: no Secrets, no ConfigMaps (it only names
 * them in the pods it makes), no wildcards. `loadtests/finalizers` update is what the API server asks of whoever
 * sets `blockOwnerDeletion` in an ownerReference to a LoadTest (the children's ownerReferences do).
 */
export const OPERATOR_RULES: readonly PolicyRule[] = [
  // The operator reads LoadTests and writes only their status (a JSON patch).
  { apiGroups: [GROUP], resources: [PLURAL], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ['patch'] },
  { apiGroups: [GROUP], resources: [`${PLURAL}/finalizers`], verbs: ['update'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: CHILD_VERBS },
  { apiGroups: [''], resources: ['services'], verbs: CHILD_VERBS },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: CHILD_VERBS },
  { apiGroups: [''], resources: ['pods'], verbs: READ_VERBS },
  { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
];

/**
 * For the people who run tests: create and follow LoadTests, manage the cicadafile ConfigMaps, read the test pods,
 * their logs and events. No Secrets (an admin creates those), no Jobs, no updates of LoadTests (the spec is immutable).
 */
export const LOADTEST_CREATOR_RULES: readonly PolicyRule[] = [
  { apiGroups: [GROUP], resources: [PLURAL], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
  { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'update', 'get', 'list', 'delete'] },
  { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: READ_VERBS },
  { apiGroups: [''], resources: ['events'], verbs: READ_VERBS },
];

const rules = (list: readonly PolicyRule[]): PolicyRule[] =>
  list.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] }));

function commonLabels(component?: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': OPERATOR_NAME,
    'app.kubernetes.io/part-of': 'cicada',
    ...(component ? { 'app.kubernetes.io/component': component } : {}),
  };
}

/** The namespaces where LoadTests run: the watched ones, or the install namespace when none are listed. */
export function testNamespaces(values: InstallValues): string[] {
  return values.watchNamespaces.length > 0 ? [...values.watchNamespaces] : [values.namespace];
}

/** The operator's WATCH_NAMESPACES: comma-separated; empty (all namespaces) only in Cluster mode. */
export function watchNamespacesEnv(values: InstallValues): string {
  return (values.rbacScope === 'Cluster' ? values.watchNamespaces : testNamespaces(values)).join(',');
}

export function namespace(values: InstallValues): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: values.namespace,
      labels: {
        ...commonLabels(),
        // The operator's pod and the test pods it makes pass "restricted": let the cluster enforce it.
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/audit': 'restricted',
      },
    },
  };
}

/**
 * The LoadTest CRD as installed: crd.ts's object plus `helm.sh/resource-policy: keep` (uninstalling the chart must
 * not delete every LoadTest with the CRD). The API server forbids `additionalProperties: false` next to
 * `properties` in a CRD schema ("additionalProperties and properties are mutual exclusive"); such a pair is
 * dropped here: a structural schema already prunes unknown fields, and kubectl's strict field validation
 * reports them ("unknown field"). With no such pair in crd.ts this changes nothing else.
 */
export function customResourceDefinition(): JsonObject {
  const installed = installableSchema(crd) as JsonObject;
  const metadata = installed.metadata as JsonObject;
  return { ...installed, metadata: { ...metadata, annotations: { ...(metadata.annotations as Record<string, string> | undefined), 'helm.sh/resource-policy': 'keep' } } };
}

function installableSchema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(installableSchema);
  if (typeof value !== 'object' || value === null) return value;
  const source = value as JsonObject;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(source)) {
    if (key === 'additionalProperties' && child === false && typeof source.properties === 'object') continue;
    out[key] = installableSchema(child);
  }
  return out;
}

export function serviceAccount(values: InstallValues): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: OPERATOR_NAME, namespace: values.namespace, labels: commonLabels('operator') },
    // Off by default; the operator's own pod (and only it) opts in, explicitly.
    automountServiceAccountToken: false,
  };
}

const operatorSubject = (values: InstallValues): JsonObject => ({ kind: 'ServiceAccount', name: OPERATOR_NAME, namespace: values.namespace });

/** Role mode: a Role and a RoleBinding in each test namespace. Cluster mode: a ClusterRole and a ClusterRoleBinding. */
export function operatorRbac(values: InstallValues): JsonObject[] {
  const labels = commonLabels('operator');
  if (values.rbacScope === 'Cluster') {
    return [
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: OPERATOR_NAME, labels }, rules: rules(OPERATOR_RULES) },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: OPERATOR_NAME, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: OPERATOR_NAME },
        subjects: [operatorSubject(values)],
      },
    ];
  }
  return testNamespaces(values).flatMap((ns) => [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: OPERATOR_NAME, namespace: ns, labels }, rules: rules(OPERATOR_RULES) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: OPERATOR_NAME, namespace: ns, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: OPERATOR_NAME },
      subjects: [operatorSubject(values)],
    },
  ]);
}

/** The operator, hardened like the test pods (PSS "restricted"); the one pod that mounts its API token. */
export function deployment(values: InstallValues): JsonObject {
  const selector = { 'app.kubernetes.io/name': OPERATOR_NAME, 'app.kubernetes.io/component': 'operator' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: OPERATOR_NAME, namespace: values.namespace, labels: commonLabels('operator') },
    spec: {
      // One operator: there is no leader election, so never two at once (Recreate, not RollingUpdate).
      replicas: 1,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: commonLabels('operator') },
        spec: {
          serviceAccountName: OPERATOR_NAME,
          // Explicitly on: the operator talks to the API server with this token (the ServiceAccount defaults to off).
          automountServiceAccountToken: true,
          enableServiceLinks: false,
          securityContext: hardenedPodSecurity(),
          containers: [{
            name: 'operator',
            image: values.image,
            imagePullPolicy: values.imagePullPolicy,
            env: [
              { name: 'WATCH_NAMESPACES', value: watchNamespacesEnv(values) },
              { name: 'HEALTH_PORT', value: String(HEALTH_PORT) },
              { name: 'HOME', value: '/tmp' },
              { name: 'TMPDIR', value: '/tmp' },
              { name: 'NODE_ENV', value: 'production' },
            ],
            ports: [{ name: 'health', containerPort: HEALTH_PORT, protocol: 'TCP' }],
            livenessProbe: { httpGet: { path: '/healthz', port: 'health' }, initialDelaySeconds: 15, periodSeconds: 20, timeoutSeconds: 3, failureThreshold: 3 },
            readinessProbe: { httpGet: { path: '/readyz', port: 'health' }, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
            resources: structuredClone(values.resources),
            securityContext: hardenedContainerSecurity(),
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          }],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
        },
      },
    },
  };
}

/** The `loadtest-creator` Role in each test namespace; in Cluster mode also a ClusterRole to bind anywhere. */
export function loadTestCreatorRoles(values: InstallValues): JsonObject[] {
  const labels = commonLabels('loadtest-creator');
  return [
    ...testNamespaces(values).map((ns) => ({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: LOADTEST_CREATOR, namespace: ns, labels }, rules: rules(LOADTEST_CREATOR_RULES),
    })),
    ...(values.rbacScope === 'Cluster'
      ? [{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: CLUSTER_LOADTEST_CREATOR, labels }, rules: rules(LOADTEST_CREATOR_RULES) }]
      : []),
  ];
}

/** Everything, in apply order: CRD, Namespace, ServiceAccount, RBAC, Deployment, loadtest-creator. */
export function all(values: InstallValues): JsonObject[] {
  return [
    ...(values.installCRD ? [customResourceDefinition()] : []),
    ...(values.createNamespace ? [namespace(values)] : []),
    serviceAccount(values),
    ...operatorRbac(values),
    deployment(values),
    ...(values.createLoadTestCreatorRole ? loadTestCreatorRoles(values) : []),
  ];
}
