// The transport layer's public API: framing, the authenticated (and sealed) server and client, the allow list, and their errors.
export { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FrameDecoder } from './framing.ts';
export { MAX_NESTING_DEPTH } from './msgpack-guard.ts';
export { MAX_WRITE_BUFFER_BYTES, type PeerConnection } from './connection.ts';
export {
  TransportServer,
  type HandshakeDecision,
  type HandshakeHello,
  type TransportServerOptions,
} from './server.ts';
export { connect, connectWithRetry, type ConnectOptions, type RetryOptions } from './client.ts';
export { MIN_SECRET_BYTES } from './handshake.ts';
export { AllowList } from './allow-list.ts';
export { SEAL_OVERHEAD_BYTES } from './link-cipher.ts';
export {
  FrameAuthError,
  FrameDecodeError,
  FrameEncodeError,
  FrameSequenceError,
  FrameTooLargeError,
  isRetryable,
  TransportAuthError,
  TransportConfigError,
  TransportNetworkError,
  TransportProtocolError,
  TransportRefusedError,
  transportErrorCodes,
  type TransportErrorCode,
} from './errors.ts';
