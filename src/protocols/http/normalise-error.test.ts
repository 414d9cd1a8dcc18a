// Unit tests of error normalisation: undici and Node errors become short, stable messages.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HttpRequestError, httpStatusError, normaliseError, tooManyRedirectsError, validationError } from './normalise-error.ts';

const timeouts = { timeoutMs: 1000, connectTimeoutMs: 300 };
const withCode = (code: string, message = 'boom', cause?: unknown): Error =>
  Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code });

describe('normaliseError', () => {
  it('keeps socket error codes as the message', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'CERT_HAS_EXPIRED']) {
      const e = normaliseError(withCode(code, `connect ${code} 10.0.0.1:80`), timeouts);
      assert.equal(e.message, code);
      assert.equal(e.code, code);
    }
  });

  it('words undici timeouts with the configured milliseconds', () => {
    assert.equal(normaliseError(withCode('UND_ERR_HEADERS_TIMEOUT'), timeouts).message, 'timeout after 1000 ms');
    assert.equal(normaliseError(withCode('UND_ERR_BODY_TIMEOUT'), timeouts).message, 'timeout after 1000 ms');
    assert.equal(normaliseError(withCode('UND_ERR_CONNECT_TIMEOUT'), timeouts).message, 'connect timeout after 300 ms');
  });

  it('reports a peer that closed mid-response as ECONNRESET, or the cause code when there is one', () => {
    assert.equal(normaliseError(withCode('UND_ERR_SOCKET', 'other side closed'), timeouts).message, 'ECONNRESET');
    assert.equal(normaliseError(withCode('UND_ERR_SOCKET', 'x', withCode('EPIPE')), timeouts).message, 'EPIPE');
  });

  it('takes the first error of an AggregateError from happy-eyeballs connects', () => {
    const aggregate = new AggregateError([withCode('ECONNREFUSED'), withCode('ENETUNREACH')], 'all failed');
    assert.equal(normaliseError(aggregate, timeouts).message, 'ECONNREFUSED');
  });

  it('names HTTP parser errors and falls back to the message for errors without a code', () => {
    assert.equal(normaliseError(withCode('HPE_INVALID_CONSTANT'), timeouts).message, 'invalid HTTP response (HPE_INVALID_CONSTANT)');
    const plain = normaliseError(new Error('weird'), timeouts);
    assert.equal(plain.message, 'weird');
    assert.equal(plain.code, 'UNKNOWN');
    assert.equal(normaliseError('text', timeouts).message, 'text');
  });

  it('returns an HttpRequestError unchanged', () => {
    const e = new HttpRequestError('X', 'y');
    assert.equal(normaliseError(e, timeouts), e);
  });

  it('builds the status, redirect and validation failures with exact messages', () => {
    assert.equal(httpStatusError(503).message, 'HTTP 503');
    assert.equal(httpStatusError(799).message, 'HTTP 799');
    assert.equal(tooManyRedirectsError(10).message, 'too many redirects (max 10)');
    assert.equal(validationError(undefined).message, 'validation failed');
    assert.equal(validationError('expected 201').message, 'expected 201');
    assert.ok(httpStatusError(500) instanceof Error);
  });
});
