// connectWithRetry: network failures are retried until the master appears; auth failures end at once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { connect, connectWithRetry } from './client.ts';
import { isRetryable, TransportAuthError, TransportConfigError, TransportNetworkError, TransportRefusedError } from './errors.ts';
import { OTHER_SECRET, PROTOCOL, SECRET, startServer, type TestServer } from './test-support.test-helper.ts';

/** A port on 127.0.0.1 that nothing listens on (just freed). */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function options(port: number, secret = SECRET) {
  return { host: '127.0.0.1', port, workerId: 'retrier', meta: {}, secret, protocolVersion: PROTOCOL, handshakeTimeoutMs: 1000, connectTimeoutMs: 1000 };
}

describe('connectWithRetry', () => {
  it('retries a refused port until the master appears', async () => {
    const port = await freePort();
    const attempts: unknown[] = [];
    let srv: TestServer | undefined;
    const starting = new Promise<void>((resolve) => {
      setTimeout(() => {
        void startServer({ secret: SECRET, port }).then((s) => { srv = s; resolve(); });
      }, 300);
    });
    try {
      const conn = await connectWithRetry(options(port), {
        minDelayMs: 20,
        maxDelayMs: 80,
        signal: AbortSignal.timeout(3000),
        onRetry: (_attempt, error) => attempts.push(error),
      });
      assert.ok(attempts.length >= 2, `retried ${attempts.length} times`);
      assert.ok(attempts.every((e) => e instanceof TransportNetworkError && isRetryable(e)));
      assert.match(String(attempts[0]), /ECONNREFUSED/);
      conn.close();
    } finally {
      await starting;
      await srv?.close();
    }
  });

  it('does not retry an auth error', async () => {
    const srv = await startServer({ secret: SECRET });
    try {
      let retries = 0;
      const error = await connectWithRetry(options(srv.port, OTHER_SECRET), { minDelayMs: 10, onRetry: () => { retries += 1; } })
        .catch((e: unknown) => e);
      assert.ok(error instanceof TransportAuthError);
      assert.equal(retries, 0);
    } finally {
      await srv.close();
    }
  });

  it('stops when its signal aborts', async () => {
    const port = await freePort();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 150);
    const error = await connectWithRetry(options(port), { minDelayMs: 20, maxDelayMs: 40, signal: controller.signal }).catch((e: unknown) => e);
    assert.equal((error as Error).message, 'shutting down');
  });

  it('gives up after maxAttempts with the last network error', async () => {
    const port = await freePort();
    const error = await connectWithRetry(options(port), { minDelayMs: 5, maxAttempts: 3 }).catch((e: unknown) => e);
    assert.ok(error instanceof TransportNetworkError);
  });
});

describe('connect errors', () => {
  it('times out against a server that accepts but never answers, as a retryable error', async () => {
    const silent = net.createServer((socket) => socket.on('error', () => {}));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as net.AddressInfo;
      const error = await connect({ ...options(port), handshakeTimeoutMs: 100 }).catch((e: unknown) => e);
      assert.ok(error instanceof TransportNetworkError);
      assert.equal(isRetryable(error), true);
    } finally {
      silent.close();
    }
  });

  it('rejects a secret shorter than 16 bytes up front', async () => {
    const port = await freePort();
    assert.throws(() => void connect(options(port, Buffer.from('short'))), TransportConfigError);
  });

  it('rejects a worker id the master would not accept, up front', async () => {
    const port = await freePort();
    assert.throws(() => void connect({ ...options(port), workerId: 'has space' }), TransportConfigError);
    assert.throws(() => void connect({ ...options(port), workerId: 'x'.repeat(129) }), TransportConfigError);
    const error = await connect({ ...options(port), workerId: 'host-1_1234_ab12cd34' }).catch((e: unknown) => e);
    assert.ok(error instanceof TransportNetworkError, 'a valid id gets as far as the (closed) port');
  });

  it('classifies only network errors as retryable', () => {
    assert.equal(isRetryable(new TransportNetworkError('x')), true);
    assert.equal(isRetryable(new TransportAuthError('x')), false);
    assert.equal(isRetryable(new TransportRefusedError('x')), false);
    assert.equal(isRetryable(new Error('x')), false);
  });
});
