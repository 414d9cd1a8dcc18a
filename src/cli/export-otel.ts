// `--otel`: the run's metrics over OTLP (grpc, http/protobuf or http/json), configured by the standard OTEL_* variables.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ExportResultCode } from '@opentelemetry/core';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { settlesWithin, systemTimers } from '../core/clock.ts';
import { UsageError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { ReportMetricProducer } from '../exporters/metrics/otlp.ts';
import { PushChannel, pushSummary } from '../exporters/metrics/push-channel.ts';
import type { Output } from '../exporters/output.ts';
import type { ReportData } from '../exporters/report-data.ts';
import type { ExportSettings } from './export-settings.ts';
import { cicadaVersion } from './version.ts';

export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';
const PROTOCOLS: readonly OtlpProtocol[] = ['grpc', 'http/protobuf', 'http/json'];

/** The final snapshot (and anything queued) gets this long once the run is over, ms; then the exporter this long to shut down. */
const CLOSE_GRACE_MS = 5000;
const SHUTDOWN_MS = 1000;

/**
 * What Cicada reads of the OTEL_* variables. The exporters read the rest themselves (endpoint, headers,
 * timeout, compression, certificate, client certificate and key, and for grpc OTEL_EXPORTER_OTLP_INSECURE),
 * each `OTEL_EXPORTER_OTLP_METRICS_*` before its `OTEL_EXPORTER_OTLP_*`; what they would silently ignore
 * when wrong (a bad URL, an unreadable file) is checked here first, so it fails the run before any load.
 */
export interface OtlpSettings {
  protocol: OtlpProtocol;
  /** The endpoint the exporter will use, for messages (credentials masked). */
  endpoint: string;
  /** OTEL_METRIC_EXPORT_INTERVAL, else --metrics-interval; whole seconds (the run lifecycle ticks once a second). */
  intervalMs: number;
  /** OTEL_EXPORTER_OTLP_(METRICS_)TIMEOUT, default 10 s: one export, the exporter's own retries included. */
  timeoutMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The signal-specific variable, else the general one; blank counts as unset (as the exporters do). */
function pick(env: Env, suffix: string): { name: string; value: string } | undefined {
  for (const name of [`OTEL_EXPORTER_OTLP_METRICS_${suffix}`, `OTEL_EXPORTER_OTLP_${suffix}`]) {
    const value = env[name]?.trim();
    if (value !== undefined && value !== '') return { name, value };
  }
  return undefined;
}

function positiveMs(variable: { name: string; value: string } | undefined, fallback: number): number {
  if (variable === undefined) return fallback;
  const n = Number(variable.value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${variable.name}=${variable.value}: not a number of milliseconds`, `give a positive number of milliseconds, e.g. ${variable.name}=10000`);
  return n;
}

function masked(url: URL): string {
  if (url.username !== '') url.username = '***';
  if (url.password !== '') url.password = '***';
  return url.href;
}

function endpointOf(env: Env, protocol: OtlpProtocol): string {
  const specific = env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT?.trim() || undefined;
  const general = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || undefined;
  const variable = specific !== undefined ? 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  const raw = specific ?? general;
  if (protocol === 'grpc') {
    if (raw === undefined) return 'http://localhost:4317';
    // host:port without a scheme is valid for grpc (TLS unless OTEL_EXPORTER_OTLP_INSECURE=true).
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) return raw;
    const url = URL.canParse(raw) ? new URL(raw) : undefined;
    if (url === undefined || !['http:', 'https:', 'unix:'].includes(url.protocol)) {
      throw new UsageError(`${variable}=${raw}: not an endpoint for OTLP/gRPC`, 'give http://HOST:4317 (plain), https://HOST:4317 (TLS) or HOST:4317');
    }
    return masked(url).replace(/\/$/, '');
  }
  if (raw === undefined) return 'http://localhost:4318/v1/metrics';
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  // The exporters would fall back to localhost without a word: say it instead.
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UsageError(`${variable}=${raw}: not an http(s) URL`, `give the collector's URL, e.g. ${variable}=http://collector:4318${specific !== undefined ? '/v1/metrics' : ''}`);
  }
  // The general endpoint is a base the signal's path is appended to; the specific one is used as it is.
  if (specific === undefined) url.pathname = `${url.pathname.replace(/\/$/, '')}/v1/metrics`;
  return masked(url);
}

/** OTLP settings from the environment (`process.env` in a run); throws UsageError on a value that cannot work. */
export function otlpSettings(env: Env, metricsIntervalSeconds: number): OtlpSettings {
  const chosen = pick(env, 'PROTOCOL');
  const protocol = (chosen?.value ?? 'http/protobuf') as OtlpProtocol;
  if (!PROTOCOLS.includes(protocol)) {
    throw new UsageError(`${chosen!.name}=${chosen!.value}: not an OTLP protocol`, `use one of ${PROTOCOLS.join(', ')} (default http/protobuf)`);
  }
  const interval = env.OTEL_METRIC_EXPORT_INTERVAL?.trim() ? { name: 'OTEL_METRIC_EXPORT_INTERVAL', value: env.OTEL_METRIC_EXPORT_INTERVAL.trim() } : undefined;
  const intervalMs = Math.max(1000, Math.round(positiveMs(interval, metricsIntervalSeconds * 1000) / 1000) * 1000);
  return { protocol, endpoint: endpointOf(env, protocol), intervalMs, timeoutMs: positiveMs(pick(env, 'TIMEOUT'), 10_000) };
}

/** The certificate files must be readable (the exporters only log a debug line and go on without them). */
async function checkTlsFiles(env: Env): Promise<void> {
  const read = async (suffix: string, what: string): Promise<Buffer | undefined> => {
    const variable = pick(env, suffix);
    if (variable === undefined) return undefined;
    try {
      return await readFile(variable.value);
    } catch (error) {
      throw new UsageError(`${variable.name}=${variable.value}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, `check the path and its permissions; the file holds ${what}`);
    }
  };
  const ca = await read('CERTIFICATE', "the CA certificate (PEM) that signed the collector's certificate");
  if (ca !== undefined) {
    try {
      new X509Certificate(ca);
    } catch {
      throw new UsageError(`${pick(env, 'CERTIFICATE')!.name}: no PEM certificate in the file`, "give the CA certificate that signed the collector's, in PEM (-----BEGIN CERTIFICATE-----)");
    }
  }
  const cert = await read('CLIENT_CERTIFICATE', 'the client certificate (PEM)');
  const key = await read('CLIENT_KEY', 'the client private key (PEM)');
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError('OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY go together: only one is set', 'set both (mutual TLS) or neither');
  }
}

/** The chosen exporter, loaded only now: runs without --otel never load OTel (the SDK alone costs ~250 ms). */
async function createExporter(protocol: OtlpProtocol): Promise<PushMetricExporter> {
  // No options: every setting comes from the OTEL_* variables, as the exporter reads them.
  switch (protocol) {
    case 'grpc':
      return new (await import('@opentelemetry/exporter-metrics-otlp-grpc')).OTLPMetricExporter();
    case 'http/protobuf':
      return new (await import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter();
    case 'http/json':
      return new (await import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter();
  }
}

/** An export error as one line, with a hint where the usual fix is known. */
export function describeExportError(error: unknown, protocol: OtlpProtocol): string {
  const e = error instanceof Error ? (error as Error & { code?: unknown; data?: unknown }) : undefined;
  // grpc-js ends its messages with an empty "Resolution note: " when it has none.
  let text = (e === undefined ? String(error) : e.message || e.name).replace(/\.? Resolution note: *$/, '');
  if (protocol !== 'grpc' && typeof e?.code === 'number') text = `HTTP ${e.code} ${text}${typeof e.data === 'string' && e.data !== '' ? `: ${e.data.slice(0, 200)}` : ''}`;
  if (/\b(401|403)\b|UNAUTHENTICATED|PERMISSION_DENIED/.test(text)) return `${text} (check the token in OTEL_EXPORTER_OTLP_HEADERS)`;
  if (protocol === 'grpc' && /Protocol error/.test(text)) return `${text} (not a gRPC endpoint? OTLP/gRPC is usually port 4317, OTLP/HTTP 4318: set OTEL_EXPORTER_OTLP_PROTOCOL to match)`;
  if (/certificate|self[- ]signed|CERT_|SSL|TLS/i.test(text)) return `${text} (for a private CA set OTEL_EXPORTER_OTLP_CERTIFICATE to its PEM file)`;
  return text;
}

/** The SDK's internal messages go to Cicada's log at debug level; the last warning explains an abandoned export. */
async function routeDiagnostics(logger: Logger): Promise<{ last: () => string | undefined }> {
  const { diag, DiagLogLevel } = await import('@opentelemetry/api');
  let last: string | undefined;
  const line = (level: string) => (message: string, ...args: unknown[]): void => {
    const text = [message, ...args.map((a) => (a instanceof Error ? a.message : String(a)))].join(' ');
    if (level === 'error' || level === 'warning') last = text;
    logger.debug(`OTel ${level}: ${text}`);
  };
  diag.setLogger({ error: line('error'), warn: line('warning'), info: line('info'), debug: line('debug'), verbose: line('debug') }, DiagLogLevel.INFO);
  return { last: () => last };
}

/**
 * `--otel`: every interval, and once at the end, the latest report as cumulative OTLP metrics. `start`
 * reads and checks the OTEL_* variables and loads the exporter; `tick` queues the current report (never
 * waiting for the network); `stop` queues the final one, gives it CLOSE_GRACE_MS, flushes and shuts
 * the exporter down within SHUTDOWN_MS, and logs how many points were and were not sent. A failing
 * collector is logged once per outage (PushChannel), and retried with backoff beside the exporter's own retries.
 * @example
 * ```ts
 * if (options.otel) outputs.push(otelOutput({ options, logger, workers: () => 0 }));
 * ```
 */
export function otelOutput(settings: ExportSettings): Output {
  const { options, logger } = settings;
  const timers = settings.timers ?? systemTimers;
  let config: OtlpSettings | undefined;
  let name = 'OTLP';
  let producer: ReportMetricProducer | undefined;
  let exporter: PushMetricExporter | undefined;
  let channel: PushChannel<ResourceMetrics> | undefined;
  let pointsOf: (metrics: ResourceMetrics) => number = () => 0;
  let success: ExportResultCode | undefined;
  let lastDiagnostic: () => string | undefined = () => undefined;

  const send = (metrics: ResourceMetrics, signal: AbortSignal): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      // The exporter cannot be cancelled: an abandoned export may still finish (or retry) in the background.
      const onAbort = (): void => {
        const last = lastDiagnostic();
        reject(new Error(`no answer within the ${CLOSE_GRACE_MS / 1000} s the end of the run leaves (the exporter was still retrying: the collector is unreachable or slow${last !== undefined ? `; last: ${last}` : ''})`));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      exporter!.export(metrics, (result) => {
        signal.removeEventListener('abort', onAbort);
        if (result.code === success) resolve();
        else reject(new Error(describeExportError(result.error ?? 'export failed', config!.protocol)));
      });
    });

  const push = async (data: ReportData, now: number): Promise<void> => {
    if (producer === undefined || channel === undefined) return;
    producer.observe(data, now);
    const { resourceMetrics } = await producer.collect();
    const points = pointsOf(resourceMetrics);
    if (points > 0) channel.push({ payload: resourceMetrics, points });
  };

  return {
    name: 'otel',
    // Known once start has read the variables; the lifecycle reads it after every output has started.
    get intervalMs() {
      return config?.intervalMs;
    },
    start: async () => {
      config = otlpSettings(process.env, options.metricsInterval);
      await checkTlsFiles(process.env);
      name = `OTLP ${config.protocol} export to ${config.endpoint}`;
      if (pick(process.env, 'HEADERS') !== undefined && /^http:\/\/(?!(localhost|127\.|\[::1\]))/.test(config.endpoint)) {
        logger.warning(`${name}: OTEL_EXPORTER_OTLP_HEADERS go over plain http (readable on the path); use https:// for a token`);
      }
      lastDiagnostic = (await routeDiagnostics(logger)).last;
      const otlp = await import('../exporters/metrics/otlp.ts');
      pointsOf = otlp.pointCount;
      success = (await import('@opentelemetry/core')).ExportResultCode.SUCCESS;
      producer = new otlp.ReportMetricProducer({ resource: otlp.otlpResource(cicadaVersion), version: cicadaVersion, workers: settings.workers });
      exporter = await createExporter(config.protocol);
      // A little past the exporter's own deadline, so its answer (with the real reason) comes before ours.
      channel = new PushChannel({ name, send, logger, sendTimeoutMs: config.timeoutMs + 1000, timers });
    },
    tick: ({ data, now }) => push(data, now),
    stop: async (data) => {
      if (channel === undefined || exporter === undefined) return;
      await push(data, Date.now());
      const stats = await channel.close(CLOSE_GRACE_MS);
      const done = exporter.forceFlush().then(() => exporter!.shutdown());
      done.catch(() => undefined);
      // After a failure the flush would only wait for an abandoned export still retrying inside the exporter.
      const waitMs = stats.failedPoints === 0 ? SHUTDOWN_MS : 0;
      if (!(await settlesWithin(done, waitMs, timers))) logger.debug(`${name}: not waiting for the exporter to shut down (an abandoned export may still be retrying)`);
      const line = pushSummary(name, stats);
      if (stats.failedPoints === 0) logger.info(line);
      else logger.warning(line);
    },
  } satisfies Output;
}
