// Errors of the transport layer: stable codes, fix-it hints, and which failures a worker may retry.
import { CicadaError, ExitCode } from '../core/errors.ts';

/** A frame whose length prefix (or encoded size) is over the limit; raised before any body is buffered. */
export class FrameTooLargeError extends CicadaError {
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number) {
    super('CICADA_ERR_TRANSPORT_FRAME_TOO_LARGE', `frame of ${size} bytes is over the ${limit}-byte limit`, {
      hint: 'messages must stay under the frame limit; split large payloads',
      exitCode: ExitCode.internal,
    });
    this.name = 'FrameTooLargeError';
    this.size = size;
    this.limit = limit;
  }
}

/** A frame that is not acceptable msgpack: malformed, empty, too deep, an extension type or a `__proto__` key. */
export class FrameDecodeError extends CicadaError {
  constructor(message: string, cause?: unknown) {
    super('CICADA_ERR_TRANSPORT_FRAME_DECODE', `bad frame: ${message}`, { exitCode: ExitCode.internal, cause });
    this.name = 'FrameDecodeError';
  }
}

/** A sealed frame whose GCM tag does not verify: altered on the way, or sealed with another key. The link is closed. */
export class FrameAuthError extends CicadaError {
  constructor(message: string) {
    super('CICADA_ERR_TRANSPORT_FRAME_AUTH', message, {
      hint: 'something between master and worker altered the traffic; the link was closed and the worker reconnects',
      exitCode: ExitCode.internal,
    });
    this.name = 'FrameAuthError';
  }
}

/** A sealed frame whose counter is not the next one expected: replayed, dropped or reordered. The link is closed. */
export class FrameSequenceError extends CicadaError {
  constructor(message: string) {
    super('CICADA_ERR_TRANSPORT_FRAME_SEQUENCE', message, {
      hint: 'something between master and worker replayed, dropped or reordered frames; the link was closed and the worker reconnects',
      exitCode: ExitCode.internal,
    });
    this.name = 'FrameSequenceError';
  }
}

/** A message our side tried to send that cannot be framed (a bug in the caller: functions, Dates, Maps, cycles). */
export class FrameEncodeError extends CicadaError {
  constructor(message: string, cause?: unknown) {
    super('CICADA_ERR_TRANSPORT_FRAME_ENCODE', `cannot encode message: ${message}`, {
      hint: 'send plain objects, arrays, strings, numbers, booleans, null and Uint8Array only',
      exitCode: ExitCode.internal,
      cause,
    });
    this.name = 'FrameEncodeError';
  }
}

/** A network failure (refused, reset, timeout, DNS): the only kind of failure worth retrying. */
export class TransportNetworkError extends CicadaError {
  constructor(message: string, cause?: unknown) {
    super('CICADA_ERR_TRANSPORT_NETWORK', message, {
      hint: 'check --master-host / --master-port and that the master is running and reachable',
      exitCode: ExitCode.usage,
      cause,
    });
    this.name = 'TransportNetworkError';
  }
}

/** Authentication failed: wrong secret, fake master, certificate problem or protocol version mismatch. Not retryable. */
export class TransportAuthError extends CicadaError {
  constructor(message: string, cause?: unknown) {
    super('CICADA_ERR_TRANSPORT_AUTH', message, {
      hint: 'use the same CICADA_SECRET / --secret-file, certificates and Cicada version on master and workers',
      exitCode: ExitCode.usage,
      cause,
    });
    this.name = 'TransportAuthError';
  }
}

/** The master's own checks refused this worker (its reason is in the message). Not retryable. */
export class TransportRefusedError extends CicadaError {
  readonly reason: string;
  constructor(reason: string) {
    super('CICADA_ERR_TRANSPORT_REFUSED', `the master refused this worker: ${reason}`, { exitCode: ExitCode.usage });
    this.name = 'TransportRefusedError';
    this.reason = reason;
  }
}

/** The peer broke the handshake protocol (not a Cicada master, or a bug). Not retryable. */
export class TransportProtocolError extends CicadaError {
  constructor(message: string, cause?: unknown) {
    super('CICADA_ERR_TRANSPORT_PROTOCOL', message, {
      hint: 'check that --master-host / --master-port point at a Cicada master',
      exitCode: ExitCode.usage,
      cause,
    });
    this.name = 'TransportProtocolError';
  }
}

/** Transport options that cannot work (e.g. a secret that is too short). */
export class TransportConfigError extends CicadaError {
  constructor(message: string, hint?: string) {
    super('CICADA_ERR_TRANSPORT_CONFIG', message, { hint, exitCode: ExitCode.usage });
    this.name = 'TransportConfigError';
  }
}

/** Every error code defined in this layer; a test keeps them unique across layers. */
export const transportErrorCodes = [
  'CICADA_ERR_TRANSPORT_FRAME_TOO_LARGE',
  'CICADA_ERR_TRANSPORT_FRAME_DECODE',
  'CICADA_ERR_TRANSPORT_FRAME_ENCODE',
  'CICADA_ERR_TRANSPORT_FRAME_AUTH',
  'CICADA_ERR_TRANSPORT_FRAME_SEQUENCE',
  'CICADA_ERR_TRANSPORT_NETWORK',
  'CICADA_ERR_TRANSPORT_AUTH',
  'CICADA_ERR_TRANSPORT_REFUSED',
  'CICADA_ERR_TRANSPORT_PROTOCOL',
  'CICADA_ERR_TRANSPORT_CONFIG',
] as const;

export type TransportErrorCode = (typeof transportErrorCodes)[number];

/** True only for failures a retry can fix (network trouble); auth, refusal and protocol errors are final. */
export function isRetryable(error: unknown): boolean {
  return error instanceof TransportNetworkError;
}
