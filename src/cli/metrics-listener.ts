// --metrics-port: a small /metrics listener (HTTP or HTTPS) for runs without the web UI, bearer-token protected beyond loopback.
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../core/errors.ts';
import { registerSecret } from '../core/secrets.ts';
import type { Logger } from '../core/logger.ts';
import { PROMETHEUS_CONTENT_TYPE } from '../exporters/metrics/prometheus-text.ts';
import type { Output } from '../exporters/output.ts';
import { isLoopback } from '../core/loopback.ts';
import { sameSecret } from '../core/same-secret.ts';
import { bearerOf } from '../web/bearer.ts';
import type { CicadaOptions } from './options.ts';

/** Reads a token file (trimmed), as a usage error naming the flag when it cannot be read or is empty. */
export async function readTokenFile(file: string, flag: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'give the path of a readable file holding the token');
  }
  const token = text.trim();
  if (token === '' || /\s/.test(token)) throw new UsageError(`${flag} ${file}: ${token === '' ? 'the file is empty' : 'the token has white space in it'}`, 'put one token on one line, e.g. `openssl rand -hex 32 > token`');
  // A token is a secret like any other: masked wherever it might be shown.
  registerSecret(token);
  return token;
}

async function readPem(file: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new UsageError(`${flag} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'give the path of a readable PEM file');
  }
}

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `text()` at GET /metrics on `--metrics-host:--metrics-port`. Beyond loopback a token is required
 * (refused otherwise: anyone who reaches the port would read the target's names and figures).
 */
export async function startMetricsListener(options: CicadaOptions, text: () => string, logger: Logger): Promise<MetricsListener> {
  const host = options.metricsHost;
  const token = options.metricsTokenFile !== undefined ? await readTokenFile(options.metricsTokenFile, '--metrics-token-file') : undefined;
  if (token === undefined && !isLoopback(host)) {
    throw new UsageError(`refusing to serve /metrics on ${host} without a token: anyone who can reach it could read the run's metrics`, 'add --metrics-token-file FILE (Prometheus: authorization: { credentials_file: FILE }), or bind 127.0.0.1');
  }
  const tls = options.tlsCert !== undefined && options.tlsKey !== undefined ? { cert: await readPem(options.tlsCert, '--tls-cert'), key: await readPem(options.tlsKey, '--tls-key') } : undefined;
  if (tls === undefined && !isLoopback(host)) logger.warning(`/metrics on ${host} is plain HTTP: the bearer token crosses the network in clear text; add --tls-cert and --tls-key`);
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('cache-control', 'no-store');
    const path = (req.url ?? '/').split('?')[0];
    const answer = (status: number, body: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (path !== '/metrics') return answer(404, 'not found: the metrics are at /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(405, 'only GET\n', { allow: 'GET, HEAD' });
    // A presence check only: the comparison itself is sameSecret, in constant time.
    // eslint-disable-next-line security/detect-possible-timing-attacks
    if (token !== undefined) {
      const given = bearerOf(req.headers.authorization);
      if (given === undefined || !sameSecret(given, token)) return answer(401, 'a bearer token is needed: Authorization: Bearer <the token of --metrics-token-file>\n', { 'www-authenticate': 'Bearer' });
    }
    let body: string;
    try {
      body = text();
    } catch (error) {
      logger.error(`/metrics failed: ${error instanceof Error ? error.message : String(error)}`);
      return answer(500, 'internal error (see the Cicada log)\n');
    }
    res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const server = tls !== undefined ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new UsageError(
      `--metrics-port ${options.metricsPort}: cannot listen on ${host} (${error.code === 'EADDRINUSE' ? 'the port is in use' : error.code ?? error.message})`,
      error.code === 'EADDRINUSE' ? 'choose another --metrics-port' : 'give --metrics-host an address of this machine',
    )));
    server.listen(options.metricsPort, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  const url = `http${tls !== undefined ? 's' : ''}://${shown}:${port}/metrics`;
  logger.info(`metrics: ${url}${token !== undefined ? ' (bearer token required)' : ''}`);
  return {
    url,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The listener as an output of the run: up before the load, down after the final report (a last scrape still sees the end). */
export function metricsListenerOutput(options: CicadaOptions, text: () => string, logger: Logger): Output {
  let listener: MetricsListener | undefined;
  return {
    name: 'metrics listener',
    start: async () => {
      listener = await startMetricsListener(options, text, logger);
    },
    stop: () => listener?.close(),
  } satisfies Output;
}
