// `--prometheus-remote-write URL`: the run's metrics pushed every --metrics-interval, and once more at its end.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../core/errors.ts';
import { isLoopback } from '../core/loopback.ts';
import { metricFamilies } from '../exporters/metrics/model.ts';
import { PushChannel, pushSummary, type PushStats } from '../exporters/metrics/push-channel.ts';
import { RemoteWriteRejected, remoteWriteBatch, remoteWriteSender, type RemoteWriteBatch, type RemoteWriteSender } from '../exporters/metrics/remote-write.ts';
import type { Output } from '../exporters/output.ts';
import type { ReportData } from '../exporters/report-data.ts';
import type { ExportSettings } from './export-settings.ts';
import { readTokenFile } from './metrics-listener.ts';
import { cicadaVersion } from './version.ts';

/** How long the final push (and anything still queued) may take once the run is over, ms. */
const CLOSE_GRACE_MS = 5000;

function parseTarget(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--prometheus-remote-write ${text}: not a URL`, 'give the receiver\'s full URL, e.g. https://prometheus:9090/api/v1/write');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--prometheus-remote-write ${text}: ${url.protocol} is not http(s)`, 'give an http:// or https:// URL, e.g. https://prometheus:9090/api/v1/write');
  }
  // Credentials in the URL would be shown in every log line naming it; the token file keeps them out.
  if (url.username !== '' || url.password !== '') {
    throw new UsageError('--prometheus-remote-write: the URL holds credentials', 'remove user:password from the URL and put a bearer token in --prometheus-remote-write-token-file');
  }
  return url;
}

async function readCa(file: string): Promise<Buffer> {
  let ca: Buffer;
  try {
    ca = await readFile(file);
  } catch (error) {
    throw new UsageError(`--export-ca-file ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'give the path of a readable PEM file with the CA certificate');
  }
  try {
    // Only parsed to fail early: a file that is not PEM would otherwise surface as a TLS error on every push.
    new X509Certificate(ca);
  } catch {
    throw new UsageError(`--export-ca-file ${file}: no PEM certificate in it`, 'give the CA certificate that signed the receiver\'s certificate, in PEM (-----BEGIN CERTIFICATE-----)');
  }
  return ca;
}

/** The token (read once, trimmed) and CA of the receiver; refuses what would not work or would leak the token. */
async function loadCredentials(url: URL, settings: ExportSettings): Promise<{ token: string | undefined; ca: Buffer | undefined }> {
  const { options, logger } = settings;
  let token: string | undefined;
  if (options.prometheusRemoteWriteTokenFile !== undefined) {
    token = await readTokenFile(options.prometheusRemoteWriteTokenFile, '--prometheus-remote-write-token-file');
    // isLoopback takes a URL's hostname as it is, IPv6 brackets ([::1]) and all.
    if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
      if (!options.insecure) {
        throw new UsageError(
          `--prometheus-remote-write ${url.origin}: refusing to send the bearer token over plain http to a non-loopback host (anyone on the path could read it)`,
          'use an https:// URL (with --export-ca-file for a private CA); --insecure overrides this',
        );
      }
      logger.warning(`Prometheus remote write: the bearer token goes to ${url.origin} IN CLEAR over plain http (--insecure)`);
    }
  }
  const ca = options.exportCaFile !== undefined ? await readCa(options.exportCaFile) : undefined;
  return { token, ca };
}

/**
 * Pushes the run's metric families to a Prometheus remote-write receiver: `start` checks the URL, token
 * and CA before any load; `tick` queues the current families (never waiting for the network); `stop`
 * queues the final ones, gives the queue CLOSE_GRACE_MS to drain and logs what was and was not sent.
 * @example
 * ```ts
 * if (options.prometheusRemoteWrite !== undefined) outputs.push(remoteWriteOutput({ options, logger, workers: () => 0 }));
 * ```
 */
export function remoteWriteOutput(settings: ExportSettings): Output {
  const { options, logger } = settings;
  let name = 'Prometheus remote write';
  let sender: RemoteWriteSender | undefined;
  let channel: PushChannel<RemoteWriteBatch> | undefined;
  let lastTimestamp = 0;
  // A refused batch resolves the channel's send (retrying it cannot help), so it is counted here.
  const refused = { points: 0, batches: 0 };
  let refusing = false;

  const push = (data: ReportData, now: number): void => {
    // Each push must be later than the previous one: Prometheus refuses a second, different sample at the same ms.
    lastTimestamp = Math.max(Math.round(now), lastTimestamp + 1);
    const batch = remoteWriteBatch(metricFamilies(data, { workers: settings.workers() }), lastTimestamp);
    channel?.push({ payload: batch, points: batch.points });
  };

  const send = async (batch: RemoteWriteBatch, signal: AbortSignal): Promise<void> => {
    try {
      await sender!.send(batch.body, signal);
      refusing = false;
    } catch (error) {
      if (!(error instanceof RemoteWriteRejected) || error.retryable) throw error;
      refused.points += batch.points;
      refused.batches++;
      if (!refusing) {
        refusing = true;
        logger.error(`${name} refused a batch of ${batch.points} samples (${error.message}); dropping it without retrying (resending cannot help), and the next refusals silently until one is accepted`);
      }
    }
  };

  return {
    name: 'prometheus-remote-write',
    intervalMs: options.metricsInterval * 1000,
    start: async () => {
      const url = parseTarget(options.prometheusRemoteWrite ?? '');
      const { token, ca } = await loadCredentials(url, settings);
      name = `Prometheus remote write to ${url.href}`;
      sender = remoteWriteSender({ url, userAgent: `cicada/${cicadaVersion}`, token, ca });
      channel = new PushChannel({ name, send, logger, ...(settings.timers !== undefined ? { timers: settings.timers } : {}) });
    },
    tick: ({ data, now }) => push(data, now),
    stop: async (data) => {
      if (channel === undefined) return;
      push(data, Date.now());
      const stats = await channel.close(CLOSE_GRACE_MS);
      await sender?.close();
      const all: PushStats = { sentPoints: stats.sentPoints - refused.points, failedPoints: stats.failedPoints + refused.points, failures: stats.failures + refused.batches };
      const line = pushSummary(name, all);
      if (all.failedPoints === 0) logger.info(line);
      else logger.warning(line);
    },
  } satisfies Output;
}
