// Transport error codes stay unique, prefixed, and distinct from other layers' codes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { coreErrorCodes } from '../core/errors.ts';
import {
  FrameAuthError,
  FrameDecodeError,
  FrameEncodeError,
  FrameSequenceError,
  FrameTooLargeError,
  TransportAuthError,
  TransportConfigError,
  transportErrorCodes,
  TransportNetworkError,
  TransportProtocolError,
  TransportRefusedError,
} from './errors.ts';

describe('transport errors', () => {
  it('have unique CICADA_ERR_TRANSPORT_* codes that no core error uses', () => {
    assert.equal(new Set(transportErrorCodes).size, transportErrorCodes.length);
    for (const code of transportErrorCodes) {
      assert.match(code, /^CICADA_ERR_TRANSPORT_[A-Z_]+$/);
      assert.ok(!(coreErrorCodes as readonly string[]).includes(code));
    }
  });

  it('each class carries a listed code', () => {
    const errors = [
      new FrameTooLargeError(2, 1), new FrameDecodeError('x'), new FrameEncodeError('x'), new FrameAuthError('x'), new FrameSequenceError('x'),
      new TransportNetworkError('x'),
      new TransportAuthError('x'), new TransportRefusedError('x'), new TransportProtocolError('x'), new TransportConfigError('x'),
    ];
    assert.deepEqual(errors.map((e) => e.code), [...transportErrorCodes]);
  });
});
