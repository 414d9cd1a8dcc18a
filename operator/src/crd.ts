// The LoadTest CustomResourceDefinition: a full structural OpenAPI schema plus CEL rules, so the API server
// refuses a bad spec with the field named, before the operator ever sees it. The chart and the plain
// manifests are rendered from this object (scripts/render-manifests.ts), so there is one source.
import { RESERVED_FLAGS } from './builders.ts';
import { GROUP, KIND, PLURAL, VERSION, type JsonObject } from './types.ts';

type Schema = JsonObject;

const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const int = (extra: Schema = {}): Schema => ({ type: 'integer', ...extra });
const bool = (extra: Schema = {}): Schema => ({ type: 'boolean', ...extra });
const arr = (items: Schema, extra: Schema = {}): Schema => ({ type: 'array', items, ...extra });
// No `additionalProperties: false` (the API server refuses it next to `properties`): a structural schema prunes
// unknown fields, and kubectl's strict field validation (the default) refuses them with the field named.
const obj = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({ type: 'object', properties, ...extra });
/** A Kubernetes object passed through as is (affinity, tolerations, volume sources, NetworkPolicy rules). */
const opaque = (description: string): Schema => ({ type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true });
const stringMap = (description: string): Schema => ({ type: 'object', description, additionalProperties: { type: 'string', maxLength: 4096 }, maxProperties: 64 });
const rule = (ruleText: string, message: string, fieldPath?: string): Schema => ({ rule: ruleText, message, ...(fieldPath ? { fieldPath } : {}) });

/** DNS-1123 subdomain name of an object in the same namespace (ConfigMap, Secret). */
const objectName = (description: string): Schema =>
  str({ description, minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' });
const quantity = str({ maxLength: 64, pattern: '^[+]?[0-9.]+([eE][-+]?[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$' });
const resources = obj({ requests: { type: 'object', additionalProperties: quantity, maxProperties: 16 }, limits: { type: 'object', additionalProperties: quantity, maxProperties: 16 } }, {
  description: 'Requests and limits of the container; what is left out gets the operator\'s defaults (both are always set).',
});
const labelMap = (what: string): Schema => ({
  ...stringMap(`${what} added to the pods (the operator's own app.kubernetes.io/* and performance-test-* labels win)`),
  // Label values: at most 63 characters of [A-Za-z0-9_.-], starting and ending alphanumeric.
  additionalProperties: { type: 'string', maxLength: 63, pattern: '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$' },
  'x-kubernetes-validations': [rule("self.all(k, !k.startsWith('app.kubernetes.io/') && !k.startsWith('performance-test-'))", 'labels under app.kubernetes.io/ and performance-test-* are set by the operator')],
});
const podSettings = (extra: Record<string, Schema> = {}): Record<string, Schema> => ({
  resources,
  labels: labelMap('Labels'),
  annotations: stringMap('Annotations added to the pods'),
  ...extra,
});
/** Volume sources a "restricted" pod may use (Pod Security Standards); anything else is refused. */
export const RESTRICTED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'] as const;
const TIME_SPAN = '^([0-9]+|([0-9]+h)?([0-9]+m)?([0-9]+s)?)$';
const reservedList = `[${RESERVED_FLAGS.map((f) => `'${f}'`).join(', ')}]`;

export const specSchema: Schema = obj({
  image: str({ description: 'The Cicada image (e.g. ghcr.io/example/cicada:0.1.0).', minLength: 1, maxLength: 512 }),
  imagePullPolicy: str({ enum: ['Always', 'IfNotPresent', 'Never'] }),
  imagePullSecrets: arr(obj({ name: objectName('Secret for pulling the image') }, { required: ['name'] }), { maxItems: 16 }),
  testFiles: obj({
    configMapRef: objectName('ConfigMap with the cicadafile and its modules, mounted read-only at /cicada/test'),
    libConfigMapRef: objectName('Optional ConfigMap of shared modules, mounted read-only at /cicada/lib'),
    cicadafile: str({ description: 'Key of the cicadafile in the ConfigMap (default cicadafile.ts)', maxLength: 253, pattern: '^[-._a-zA-Z0-9]+\\.(ts|mts|js|mjs)$' }),
  }, { required: ['configMapRef'] }),
  run: obj({
    users: int({ minimum: 0, maximum: 10_000_000, description: 'Peak number of concurrent users (-u)' }),
    spawnRate: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 100_000, description: 'Users started per second (-r)' },
    runTime: str({ description: 'Stop after this long: 90, 30s, 5m, 1h30m (-t); absent = until deleted', maxLength: 32, pattern: TIME_SPAN }),
    host: str({ description: 'Base URL of the system under test (-H)', maxLength: 2048, pattern: '^https?://[^\\s/$.?#][^\\s]*$' }),
    tags: arr(str({ maxLength: 128, pattern: '^[^-\\s][^\\s]*$' }), { maxItems: 64 }),
    excludeTags: arr(str({ maxLength: 128, pattern: '^[^-\\s][^\\s]*$' }), { maxItems: 64 }),
    userClasses: arr(str({ maxLength: 128, pattern: '^[A-Za-z_$][A-Za-z0-9_$]*$' }), { maxItems: 64 }),
    extraArgs: {
      ...arr(str({ maxLength: 1024 }), { maxItems: 64 }),
      description: 'More cicada flags (typed fields first); the flags the operator sets are refused',
      // `--flag`, `--flag=value`, and single-letter flags with the value attached (`-u5000`).
      'x-kubernetes-validations': [rule(`self.all(a, !(a in ${reservedList}) && !${reservedList}.exists(f, (f.startsWith('--') && a.startsWith(f + '=')) || (!f.startsWith('--') && a.startsWith(f))))`, 'extraArgs may not set a flag the operator manages (use the typed fields: users, spawnRate, runTime, host, tags, ...)')],
    },
  }, { required: ['users', 'spawnRate'] }),
  master: obj(podSettings({
    webUI: obj({
      enabled: bool(),
      usersSecretRef: objectName('Secret with key users.toml (see `cicada hash-password`); required when enabled'),
    }, { required: ['enabled'], 'x-kubernetes-validations': [rule('!self.enabled || has(self.usersSecretRef)', 'webUI.enabled needs usersSecretRef: the UI is never exposed without logins', '.usersSecretRef')] }),
  })),
  worker: obj(podSettings({ replicas: int({ minimum: 1, maximum: 500, description: 'Worker pods (1–500)' }) }), { required: ['replicas'] }),
  security: obj({
    clusterSecretRef: objectName('Secret with key `secret`: the master/worker shared secret, mounted read-only as a file'),
    clusterTLSSecretRef: objectName('Secret with tls.crt, tls.key and ca.crt: mutual TLS between master and workers'),
  }, { required: ['clusterSecretRef'] }),
  env: obj({
    configMapRefs: arr(objectName('ConfigMap exposed as environment variables'), { maxItems: 16 }),
    secretRefs: arr(objectName('Secret exposed as environment variables'), { maxItems: 16 }),
    variables: arr(obj({ name: str({ minLength: 1, maxLength: 256, pattern: '^[-._a-zA-Z][-._a-zA-Z0-9]*$' }), value: str({ maxLength: 32_768 }) }, { required: ['name', 'value'] }), {
      maxItems: 128,
      'x-kubernetes-validations': [rule("self.all(v, !v.name.startsWith('CICADA_') && !v.name.startsWith('OTEL_EXPORTER_OTLP_'))", 'CICADA_* and OTEL_EXPORTER_OTLP_* variables are set by the operator from the typed fields')],
    }),
  }),
  secretMounts: arr(obj({ secretRef: objectName('Secret to mount read-only'), mountPath: str({ maxLength: 1024, pattern: '^/' }) }, { required: ['secretRef', 'mountPath'] }), {
    maxItems: 16,
    'x-kubernetes-validations': [rule("self.all(m, !m.mountPath.startsWith('/cicada') && m.mountPath != '/tmp' && !m.mountPath.startsWith('/tmp/'))", 'mountPath may not be under /cicada or /tmp (the operator uses them)')],
  }),
  // Volume items name every source a "restricted" pod may use as a typed property: CEL cannot see fields kept
  // only by x-kubernetes-preserve-unknown-fields, and any other source (hostPath, …) is an unknown field.
  volumes: {
    ...arr(obj({
      name: str({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }),
      ...Object.fromEntries(RESTRICTED_VOLUME_TYPES.map((t) => [t, opaque(`a ${t} volume source`)])),
    }, { required: ['name'], description: 'A pod volume; only the types a "restricted" pod may use' }), { maxItems: 32 }),
    'x-kubernetes-validations': [
      rule(`self.all(v, ${RESTRICTED_VOLUME_TYPES.map((t) => `(has(v.${t}) ? 1 : 0)`).join(' + ')} == 1)`, `each volume needs a name and exactly one of ${RESTRICTED_VOLUME_TYPES.join(', ')} (hostPath and other types break the "restricted" Pod Security Standard)`),
      rule("self.all(v, !(v.name in ['test-files', 'lib-files', 'cluster-secret', 'cluster-tls', 'web-users', 'tmp']) && !v.name.startsWith('secret-mount-'))", 'volume names test-files, lib-files, cluster-secret, cluster-tls, web-users, tmp and secret-mount-* are the operator\'s'),
    ],
  },
  volumeMounts: {
    ...arr(obj({
      name: str({ minLength: 1, maxLength: 63 }),
      mountPath: str({ minLength: 1, maxLength: 1024, pattern: '^/' }),
      readOnly: bool(),
      subPath: str({ maxLength: 1024 }),
      subPathExpr: str({ maxLength: 1024 }),
      // Bidirectional needs a privileged container: not offered.
      mountPropagation: str({ enum: ['None', 'HostToContainer'] }),
    }, { required: ['name', 'mountPath'], description: 'A mount of one of `volumes`' }), { maxItems: 32 }),
    'x-kubernetes-validations': [rule("self.all(m, m.mountPath != '/cicada' && !m.mountPath.startsWith('/cicada/') && m.mountPath != '/tmp' && !m.mountPath.startsWith('/tmp/'))", 'mountPath may not be /cicada, /tmp or under them (the operator uses them)')],
  },
  scheduling: obj({
    affinity: opaque('Pod affinity'),
    tolerations: arr(opaque('A toleration'), { maxItems: 32 }),
    nodeSelector: stringMap('Node selector'),
    runtimeClassName: str({ maxLength: 253 }),
  }),
  networkPolicy: obj({
    enabled: bool({ description: 'One NetworkPolicy per test (default true)' }),
    egress: arr(opaque('A NetworkPolicy egress rule: where the test may send traffic (DNS and the master are always allowed)'), { maxItems: 32 }),
    webUIFrom: arr(opaque('A NetworkPolicy peer that may open the web UI (port 8089)'), { maxItems: 32 }),
  }),
  observability: obj({
    openTelemetry: obj({
      endpoint: str({ minLength: 1, maxLength: 2048, pattern: '^https?://' }),
      protocol: str({ enum: ['grpc', 'http/protobuf', 'http/json'] }),
      insecure: bool(),
      headersSecretRef: objectName('Secret with key `headers` (OTEL_EXPORTER_OTLP_HEADERS)'),
    }, { required: ['endpoint'] }),
  }),
  // At least a minute: the operator must see a finished Job before it is removed, or it cannot tell the outcome.
  ttlSecondsAfterFinished: int({ minimum: 60, maximum: 31_536_000, description: 'Remove the finished Jobs (and their pods and logs) after this many seconds (≥ 60)' }),
}, {
  required: ['image', 'testFiles', 'run', 'worker', 'security'],
  'x-kubernetes-validations': [
    rule('self == oldSelf', 'the spec of a LoadTest cannot change: delete it and create a new one'),
    rule('!has(self.volumeMounts) || (has(self.volumes) && self.volumeMounts.all(m, self.volumes.exists(v, v.name == m.name)))', 'every volumeMount must name one of volumes', '.volumeMounts'),
  ],
});

const condition = obj({
  type: str(), status: str({ enum: ['True', 'False', 'Unknown'] }), reason: str(), message: str(),
  lastTransitionTime: str({ format: 'date-time' }), observedGeneration: int(),
}, { required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'] });

export const statusSchema: Schema = obj({
  phase: str({ enum: ['Pending', 'Running', 'Succeeded', 'Failed'] }),
  conditions: { ...arr(condition), 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
  expectedWorkers: int(),
  readyWorkers: int(),
  startTime: str({ format: 'date-time' }),
  completionTime: str({ format: 'date-time' }),
  observedGeneration: int(),
  message: str(),
});

export const crd: JsonObject = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${PLURAL}.${GROUP}`, labels: { 'app.kubernetes.io/name': 'cicada-operator', 'app.kubernetes.io/part-of': 'cicada' } },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: 'loadtest', shortNames: ['lt'], categories: ['cicada'] },
    versions: [{
      name: VERSION,
      served: true,
      storage: true,
      subresources: { status: {} },
      additionalPrinterColumns: [
        { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
        { name: 'Workers', type: 'integer', jsonPath: '.status.expectedWorkers', description: 'workers expected' },
        { name: 'Ready', type: 'integer', jsonPath: '.status.readyWorkers', description: 'workers ready' },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
      schema: {
        openAPIV3Schema: {
          type: 'object',
          description: 'A Cicada load test: a master Job and worker Jobs running a cicadafile from a ConfigMap.',
          required: ['spec'],
          properties: {
            apiVersion: str(),
            kind: str(),
            metadata: { type: 'object', properties: { name: str({ maxLength: 52, pattern: '^[a-z]([-a-z0-9]*[a-z0-9])?$' }) } },
            spec: specSchema,
            status: statusSchema,
          },
        },
      },
    }],
  },
};
