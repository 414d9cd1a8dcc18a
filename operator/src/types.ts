// The LoadTest custom resource (cicada.dev/v1) as TypeScript types. The CRD's schema (crd.ts) is the authority;
// these types follow it field by field. Kubernetes core types are kept structural (plain objects) on purpose:
// the operator passes them through unchanged.

export const GROUP = 'cicada.dev';
export const VERSION = 'v1';
export const KIND = 'LoadTest';
export const PLURAL = 'loadtests';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** The master's ports, fixed by DESIGN.md §1. */
export const MASTER_PORT = 5557;
export const WEB_PORT = 8089;

export type JsonObject = Record<string, unknown>;

export interface ResourceRequirements {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

export interface PodSettings {
  resources?: ResourceRequirements;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface LoadTestSpec {
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  imagePullSecrets?: { name: string }[];
  testFiles: {
    /** ConfigMap holding the cicadafile and its modules (mounted read-only at /cicada/test). */
    configMapRef: string;
    /** Optional ConfigMap of shared modules (mounted at /cicada/lib). */
    libConfigMapRef?: string;
    /** The cicadafile's key in the ConfigMap (default cicadafile.ts). */
    cicadafile?: string;
  };
  run: {
    users: number;
    spawnRate: number;
    /** `90`, `30s`, `5m`, `1h30m`; absent = until the LoadTest is deleted. */
    runTime?: string;
    host?: string;
    tags?: string[];
    excludeTags?: string[];
    userClasses?: string[];
    /** More cicada flags; those the operator sets itself are refused. */
    extraArgs?: string[];
  };
  master?: PodSettings & {
    webUI?: {
      enabled: boolean;
      /** Secret with key `users.toml` (see `cicada hash-password`), required when enabled. */
      usersSecretRef?: string;
    };
  };
  worker: PodSettings & { replicas: number };
  security: {
    /** Secret with key `secret`: the master/worker shared secret, mounted read-only as a file. */
    clusterSecretRef: string;
    /** Secret with tls.crt, tls.key and ca.crt: mutual TLS between master and workers. */
    clusterTLSSecretRef?: string;
  };
  env?: {
    configMapRefs?: string[];
    secretRefs?: string[];
    variables?: { name: string; value: string }[];
  };
  secretMounts?: { secretRef: string; mountPath: string }[];
  volumes?: JsonObject[];
  volumeMounts?: (JsonObject & { name: string; mountPath: string })[];
  scheduling?: {
    affinity?: JsonObject;
    tolerations?: JsonObject[];
    nodeSelector?: Record<string, string>;
    runtimeClassName?: string;
  };
  networkPolicy?: {
    enabled?: boolean;
    /** Where the test may send traffic (NetworkPolicy egress rules, e.g. the system under test). */
    egress?: JsonObject[];
    /** Who may open the web UI (a NetworkPolicy peer list); nobody when absent. */
    webUIFrom?: JsonObject[];
  };
  observability?: {
    openTelemetry?: {
      endpoint: string;
      protocol?: 'grpc' | 'http/protobuf' | 'http/json';
      insecure?: boolean;
      /** Secret with key `headers` (OTEL_EXPORTER_OTLP_HEADERS, e.g. an API token). */
      headersSecretRef?: string;
    };
  };
  ttlSecondsAfterFinished?: number;
}

export type Phase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface LoadTestStatus {
  phase?: Phase;
  conditions?: Condition[];
  expectedWorkers?: number;
  readyWorkers?: number;
  startTime?: string;
  completionTime?: string;
  observedGeneration?: number;
  /** How to change a test: the spec is immutable. */
  message?: string;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: JsonObject[];
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
}

export interface LoadTest {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: LoadTestSpec;
  status?: LoadTestStatus;
}
