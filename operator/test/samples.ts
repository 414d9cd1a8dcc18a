// LoadTest objects for tests: a minimal valid one and a fully loaded one.
import type { LoadTest, LoadTestSpec } from '../src/types.ts';

export function loadTest(name = 'shop', spec: Partial<LoadTestSpec> = {}, namespace = 'perf'): LoadTest {
  return {
    apiVersion: 'cicada.dev/v1',
    kind: 'LoadTest',
    metadata: { name, namespace, uid: `uid-${name}`, generation: 1 },
    spec: {
      image: 'ghcr.io/example/cicada:0.1.0',
      testFiles: { configMapRef: `${name}-test` },
      run: { users: 10, spawnRate: 2, runTime: '1m', host: 'http://shop.perf.svc:8080' },
      worker: { replicas: 2 },
      security: { clusterSecretRef: `${name}-secret` },
      ...spec,
    },
  };
}

/** Every optional field set. */
export function fullLoadTest(): LoadTest {
  return loadTest('full', {
    imagePullPolicy: 'Always',
    imagePullSecrets: [{ name: 'registry' }],
    testFiles: { configMapRef: 'full-test', libConfigMapRef: 'full-lib', cicadafile: 'shop.ts' },
    run: { users: 500, spawnRate: 50, runTime: '1h30m', host: 'https://shop.example.com', tags: ['checkout'], excludeTags: ['slow'], userClasses: ['Shopper', 'Browser'], extraArgs: ['--stop-timeout', '5', '--csv-full-history'] },
    master: { resources: { limits: { memory: '1Gi' } }, labels: { team: 'perf' }, annotations: { note: 'x' }, webUI: { enabled: true, usersSecretRef: 'full-users' } },
    worker: { replicas: 20, resources: { requests: { cpu: '2' }, limits: { cpu: '2' } }, labels: { team: 'perf' } },
    security: { clusterSecretRef: 'full-secret', clusterTLSSecretRef: 'full-tls' },
    env: { configMapRefs: ['full-env'], secretRefs: ['full-env-secret'], variables: [{ name: 'API_BASE', value: '/v2' }] },
    secretMounts: [{ secretRef: 'api-keys', mountPath: '/etc/api-keys' }],
    volumes: [{ name: 'data', configMap: { name: 'full-data' } }],
    volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }],
    scheduling: { nodeSelector: { pool: 'load' }, tolerations: [{ key: 'load', operator: 'Exists', effect: 'NoSchedule' }], runtimeClassName: 'gvisor', affinity: { podAntiAffinity: {} } },
    networkPolicy: { enabled: true, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ protocol: 'TCP', port: 443 }] }], webUIFrom: [{ namespaceSelector: { matchLabels: { team: 'perf' } } }] },
    observability: { openTelemetry: { endpoint: 'http://otel-collector:4318', protocol: 'http/protobuf', insecure: true, headersSecretRef: 'otel-headers' } },
    ttlSecondsAfterFinished: 3600,
  });
}
