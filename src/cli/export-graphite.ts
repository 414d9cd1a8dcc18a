// `--graphite HOST:PORT`: the run's metrics over one long-lived TCP (or TLS) connection to carbon's plaintext port.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import { UsageError } from '../core/errors.ts';
import { GraphiteEncoder, sanitizePrefix } from '../exporters/metrics/graphite.ts';
import { PushChannel, pushSummary } from '../exporters/metrics/push-channel.ts';
import type { Output } from '../exporters/output.ts';
import type { ReportData } from '../exporters/report-data.ts';
import type { ExportSettings } from './export-settings.ts';

/** How long the final push (and anything still queued) may take once the run is over, ms. */
const CLOSE_GRACE_MS = 5000;
/** How long a clean close (FIN, or TLS close_notify) may take before the socket is destroyed, ms. */
const END_MS = 1000;
/** TCP keep-alive probes after this idle time, ms: a peer that vanished is noticed between pushes. */
const KEEPALIVE_MS = 30_000;

interface GraphiteAddress {
  host: string;
  port: number;
}

const ADDRESS_HINT = 'give carbon\'s plaintext (line) receiver as HOST:PORT, e.g. --graphite 127.0.0.1:2003 ([::1]:2003 for IPv6)';

/** `HOST:PORT` or `[IPv6]:PORT`; anything else is a usage error that says what was expected. */
function parseGraphiteAddress(text: string): GraphiteAddress {
  const value = text.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new UsageError(`--graphite ${text}: a URL, but Graphite's plaintext protocol is plain TCP`, `${ADDRESS_HINT}; add --graphite-tls for TLS instead of a scheme`);
  }
  const m = /^\[([0-9a-f:.]+)\]:(\d{1,5})$/i.exec(value) ?? /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (m === null || !(port >= 1 && port <= 65_535)) {
    throw new UsageError(`--graphite ${JSON.stringify(text)}: expected HOST:PORT with a port from 1 to 65535`, ADDRESS_HINT);
  }
  const host = m[1]!;
  if (value.startsWith('[') && net.isIPv6(host) === false) throw new UsageError(`--graphite ${text}: ${host} is not an IPv6 address`, ADDRESS_HINT);
  return { host, port };
}

/** `host:port`, bracketing an IPv6 host, for messages. */
function addressText({ host, port }: GraphiteAddress): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Loopback needs no TLS: the metrics never leave the machine. */
function isLoopback(host: string): boolean {
  return host.toLowerCase() === 'localhost' || (net.isIPv4(host) && host.startsWith('127.')) || host === '::1';
}

async function readCa(file: string): Promise<Buffer> {
  let ca: Buffer;
  try {
    ca = await readFile(file);
  } catch (error) {
    throw new UsageError(`--export-ca-file ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'check the path and its permissions; the file holds the CA certificate (PEM) that signed carbon\'s TLS certificate');
  }
  try {
    new X509Certificate(ca);
  } catch {
    throw new UsageError(`--export-ca-file ${file}: no PEM certificate in it`, 'give the CA certificate that signed the TLS endpoint\'s certificate, in PEM (-----BEGIN CERTIFICATE-----)');
  }
  return ca;
}

/** Certificate checks that failed: the fix is the CA file (or the name), not a retry. */
const UNTRUSTED = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE']);

/**
 * A connection error as one actionable sentence (the channel logs it once per outage, followed by the
 * original message from `cause`). `handshake`: it happened while TLS was being set up.
 */
function explain(error: Error, where: string, caFile: string | undefined, handshake = false): Error {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const trust = caFile !== undefined ? `the CA in --export-ca-file ${caFile}` : 'the system\'s CAs (give --export-ca-file for a private CA)';
  let text = `the connection to ${where} failed${code !== '' ? ` (${code})` : ''}`;
  if (code === 'ECONNREFUSED') text = `cannot connect to ${where}: is carbon-cache (or its TLS terminator) listening there? carbon's plaintext port is its LINE_RECEIVER_PORT, usually 2003`;
  else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') text = `cannot resolve the host of ${where} (${code})`;
  else if (UNTRUSTED.has(code)) text = `TLS to ${where}: its certificate is not signed by ${trust} (${code})`;
  else if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') text = `TLS to ${where}: its certificate is outside its validity period (${code})`;
  else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') text = `TLS to ${where}: its certificate does not name this host (${code})`;
  else if (handshake) text = `TLS to ${where}: the handshake failed${code !== '' ? ` (${code})` : ''}; is it a TLS endpoint? carbon speaks plain TCP, so --graphite-tls needs a TLS terminator (e.g. stunnel) in front of it`;
  return new Error(text, { cause: error });
}

interface ConnectionOptions extends GraphiteAddress {
  /** TLS: verified against `ca` (the system's CAs when absent). */
  tls?: { ca: Buffer | undefined; caFile: string | undefined };
}

/**
 * One long-lived connection, opened by the first write and again by the first write after it dropped
 * (the PushChannel's backoff paces those attempts). Plaintext has no acknowledgements: a write counts as
 * sent once the kernel took it, so lines in flight when the peer vanishes are lost, as with any carbon client.
 */
class GraphiteConnection {
  private readonly options: ConnectionOptions;
  private readonly where: string;
  private socket: net.Socket | undefined;

  constructor(options: ConnectionOptions) {
    this.options = options;
    this.where = addressText(options);
  }

  async write(text: string, signal: AbortSignal): Promise<void> {
    const socket = this.socket ?? (await this.connect(signal));
    await new Promise<void>((resolve, reject) => {
      // An abandoned send (the channel's timeout, or the end of the grace period) must not leave half a batch behind.
      const onAbort = (): void => {
        socket.destroy();
        reject(new Error(`${this.where}: the send was abandoned`));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      socket.write(text, (error) => {
        signal.removeEventListener('abort', onAbort);
        if (error) reject(explain(error, this.where, this.options.tls?.caFile));
        else resolve();
      });
    });
  }

  private connect(signal: AbortSignal): Promise<net.Socket> {
    const { host, port } = this.options;
    const secure = this.options.tls;
    return new Promise<net.Socket>((resolve, reject) => {
      // SNI carries host names only (RFC 6066); an IP address is checked against the certificate's IP SANs.
      const socket = secure !== undefined
        ? tls.connect({ host, port, ...(net.isIP(host) === 0 ? { servername: host } : {}), ...(secure.ca !== undefined ? { ca: secure.ca } : {}), rejectUnauthorized: true })
        : net.connect({ host, port });
      let settled = false;
      const fail = (error: Error): void => {
        socket.destroy();
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        reject(explain(error, this.where, secure?.caFile, secure !== undefined));
      };
      const onAbort = (): void => fail(new Error('no connection before the send was abandoned'));
      signal.addEventListener('abort', onAbort, { once: true });
      socket.on('error', fail);
      socket.once(secure !== undefined ? 'secureConnect' : 'connect', () => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        socket.off('error', fail);
        socket.setKeepAlive(true, KEEPALIVE_MS);
        // Carbon never writes back: an end or an error means the connection is gone, and the next write reconnects.
        const drop = (): void => {
          if (this.socket === socket) this.socket = undefined;
          socket.destroy();
        };
        socket.on('error', drop);
        socket.on('end', drop);
        socket.on('close', drop);
        socket.resume();
        this.socket = socket;
        resolve(socket);
      });
    });
  }

  /** Ends the connection cleanly (what was written is delivered before the FIN), destroying it after `ms`. */
  async close(ms: number): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => socket.destroy(), ms);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.end();
    });
  }
}

/**
 * Sends the run's metrics to Graphite: `start` checks `--graphite` and the CA before any load (a bad value
 * is a usage error; clear text beyond loopback a warning); `tick` queues the current lines (the network
 * is never waited for); `stop` queues the final ones, gives the queue CLOSE_GRACE_MS and logs what was and
 * was not sent.
 * @example
 * ```ts
 * if (options.graphite !== undefined) outputs.push(graphiteOutput({ options, logger, workers: () => 0 }));
 * ```
 */
export function graphiteOutput(settings: ExportSettings): Output {
  const { options, logger } = settings;
  let name = 'Graphite';
  let encoder: GraphiteEncoder | undefined;
  let connection: GraphiteConnection | undefined;
  let channel: PushChannel<string> | undefined;

  const push = (data: ReportData, now: number): void => {
    if (encoder === undefined || channel === undefined) return;
    const lines = encoder.lines(data, { workers: settings.workers() }, now);
    if (lines.length > 0) channel.push({ payload: lines.join(''), points: lines.length });
  };

  return {
    name: 'graphite',
    intervalMs: options.metricsInterval * 1000,
    start: async () => {
      const address = parseGraphiteAddress(options.graphite ?? '');
      const where = addressText(address);
      const ca = options.graphiteTls && options.exportCaFile !== undefined ? await readCa(options.exportCaFile) : undefined;
      if (!options.graphiteTls && !isLoopback(address.host)) {
        logger.warning(`Graphite: metrics go to ${where} in clear text (the plaintext protocol has no encryption and no authentication); put carbon behind a TLS terminator (e.g. stunnel) and add --graphite-tls`);
      }
      const prefix = sanitizePrefix(options.graphitePrefix);
      if (prefix !== options.graphitePrefix) logger.warning(`Graphite: --graphite-prefix ${JSON.stringify(options.graphitePrefix)} is sent as ${prefix} (letters, digits, '_' and '-' only, dots between parts)`);
      name = `Graphite at ${where}${options.graphiteTls ? ' (TLS)' : ''}`;
      encoder = new GraphiteEncoder(prefix);
      connection = new GraphiteConnection({ ...address, ...(options.graphiteTls ? { tls: { ca, caFile: options.exportCaFile } } : {}) });
      const conn = connection;
      channel = new PushChannel<string>({ name, send: (text, signal) => conn.write(text, signal), logger, ...(settings.timers !== undefined ? { timers: settings.timers } : {}) });
    },
    tick: ({ data, now }) => push(data, now),
    stop: async (data) => {
      if (channel === undefined) return;
      push(data, Date.now());
      const stats = await channel.close(CLOSE_GRACE_MS);
      await connection?.close(END_MS);
      const line = pushSummary(name, stats);
      if (stats.failedPoints === 0) logger.info(line);
      else logger.warning(line);
    },
  } satisfies Output;
}
