// The CLI's logger: levelled lines with a timestamp to stderr or a log file; and the redaction of stdout/stderr.
import { appendFileSync } from 'node:fs';
import pc from 'picocolors';
import { UsageError } from '../core/errors.ts';
import type { Logger, LogLevel } from '../core/logger.ts';
import { redact } from '../core/secrets.ts';

const order: Record<LogLevel, number> = { debug: 10, info: 20, warning: 30, error: 40 };

export function toLogLevel(level: string): LogLevel {
  switch (level.toUpperCase()) {
    case 'DEBUG':
      return 'debug';
    case 'WARNING':
      return 'warning';
    case 'ERROR':
      return 'error';
    default:
      return 'info';
  }
}

export interface CliLoggerOptions {
  level: LogLevel;
  /** Append lines to this file instead of stderr. */
  file?: string | undefined;
  color?: boolean;
}

/** Builds a Logger writing `[time] LEVEL message` lines. Throws UsageError at once when the log file cannot be written. */
export function createLogger(options: CliLoggerOptions): Logger {
  if (options.file !== undefined) {
    try {
      appendFileSync(options.file, '');
    } catch (error) {
      throw new UsageError(`--logfile ${options.file} cannot be written (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'choose a file in a folder you can write to, or leave --logfile out to log to stderr');
    }
  }
  const min = order[options.level];
  const color = options.color ?? (process.stderr.isTTY === true && !process.env.NO_COLOR);
  const write = (level: LogLevel, message: string): void => {
    if (order[level] < min) return;
    const time = new Date().toISOString().replace('T', ' ').slice(0, 19);
    const label = level.toUpperCase();
    if (options.file !== undefined) {
      appendFileSync(options.file, `[${time}] ${label} ${redact(message)}\n`);
      return;
    }
    const tint = !color ? (s: string) => s : level === 'error' ? pc.red : level === 'warning' ? pc.yellow : level === 'debug' ? pc.dim : (s: string) => s;
    process.stderr.write(`${tint(`[${time}] ${label}`)} ${message}\n`);
  };
  return {
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warning: (m) => write('warning', m),
    error: (m) => write('error', m),
  };
}

const redacted = new WeakSet<NodeJS.WritableStream>();

/** A chunk with secrets masked; a Buffer only becomes a string when something in it was masked. */
function redactChunk(chunk: unknown): unknown {
  if (typeof chunk === 'string') return redact(chunk);
  if (!(chunk instanceof Uint8Array)) return chunk;
  const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
  const masked = redact(text);
  return masked === text ? chunk : masked;
}

/**
 * Masks secrets in everything written to `stream` (the process's stdout and stderr): the log, the console
 * reports, --json, and a cicadafile's own console.log, which no logger of ours sees. One place for all of
 * them, at the edge; a string in another encoding (hex, base64) is passed as it is.
 */
export function redactWrites(stream: NodeJS.WriteStream): void {
  if (redacted.has(stream)) return;
  redacted.add(stream);
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  const masked = (chunk: unknown, ...rest: unknown[]): boolean => {
    const encoding = rest[0];
    const textual = typeof encoding !== 'string' || encoding === 'utf8' || encoding === 'utf-8';
    return write(textual ? redactChunk(chunk) : chunk, ...rest);
  };
  stream.write = masked;
}
