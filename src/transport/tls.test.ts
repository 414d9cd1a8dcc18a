// TLS and mutual TLS at the transport level: good certificates in, foreign/expired/missing ones and old TLS out.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { AllowList } from './allow-list.ts';
import { connect } from './client.ts';
import { isRetryable, TransportAuthError } from './errors.ts';
import { encodeFrame } from './framing.ts';
import { newNonce } from './handshake.ts';
import { makeTlsFixtures, type TlsFixtures } from './tls-fixtures.test-helper.ts';
import { PROTOCOL, rogue, SECRET, startServer } from './test-support.test-helper.ts';

let certs: TlsFixtures;
before(() => { certs = makeTlsFixtures(); });
after(() => certs.cleanup());

function worker(port: number, clientTls: { cert?: Buffer; key?: Buffer; ca?: Buffer }) {
  return {
    host: '127.0.0.1', port, workerId: 'tls-worker', meta: { version: 'x' }, protocolVersion: PROTOCOL,
    handshakeTimeoutMs: 1500, connectTimeoutMs: 1500, tls: { ca: certs.ca, ...clientTls },
  };
}

function mutualServer(extra: { secret?: Buffer } = {}) {
  return startServer({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca }, ...extra });
}

describe('mutual TLS', () => {
  it('connects with a client certificate from the CA, together with the shared secret', async () => {
    const srv = await mutualServer({ secret: SECRET });
    try {
      const conn = await connect({ ...worker(srv.port, { cert: certs.clientCert, key: certs.clientKey }), secret: SECRET });
      const server = await srv.nextConnection();
      assert.equal(server.peerId, 'tls-worker');
      const got = new Promise((resolve) => server.onMessage(resolve));
      conn.send({ over: 'tls' });
      assert.deepEqual(await got, { over: 'tls' });
      conn.close();
    } finally {
      await srv.close();
    }
  });

  for (const [name, pick, reason] of [
    ['from another CA', (c: TlsFixtures) => ({ cert: c.foreignClientCert, key: c.foreignClientKey }), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['that has expired', (c: TlsFixtures) => ({ cert: c.expiredClientCert, key: c.expiredClientKey }), 'CERT_HAS_EXPIRED'],
    ['that is missing', () => ({}), 'no client certificate'],
  ] as const) {
    it(`refuses a client certificate ${name}, as a final error that says why`, async () => {
      const srv = await mutualServer({ secret: SECRET });
      try {
        const error = await connect({ ...worker(srv.port, pick(certs)), secret: SECRET }).catch((e: unknown) => e);
        assert.ok(error instanceof TransportAuthError, String(error));
        assert.equal(isRetryable(error), false);
        assert.match(error.message, new RegExp(`client certificate rejected: ${reason}`));
        assert.equal(srv.connections.length, 0);
        await srv.logger.waitFor(new RegExp(`rejected 127\\.0\\.0\\.1:\\d+: client certificate rejected \\(${reason}\\)`));
        assert.equal(srv.logger.lines.length, 1, srv.logger.lines.join('\n'));
      } finally {
        await srv.close();
      }
    });
  }

  it('reads nothing from a worker whose certificate was rejected', async () => {
    const srv = await mutualServer({ secret: SECRET });
    try {
      const socket = tls.connect({ host: '127.0.0.1', port: srv.port, ca: certs.ca, cert: certs.expiredClientCert, key: certs.expiredClientKey });
      socket.on('error', () => {});
      socket.resume(); // read (and drop) the refusal so the close is seen
      socket.once('secureConnect', () => socket.write(encodeFrame({ t: 'stats', entries: [] })));
      await new Promise((resolve) => socket.once('close', resolve));
      await srv.logger.waitFor(/client certificate rejected \(CERT_HAS_EXPIRED\)/);
      assert.ok(!srv.logger.lines.some((l) => l.includes('stats')));
    } finally {
      await srv.close();
    }
  });
});

describe('TLS server', () => {
  it('refuses a worker that does not trust the server certificate, as a final error', async () => {
    const srv = await startServer({ tls: { cert: certs.serverCert, key: certs.serverKey } });
    try {
      const error = await connect({ ...worker(srv.port, {}), tls: { ca: certs.foreignClientCert } }).catch((e: unknown) => e);
      assert.ok(error instanceof TransportAuthError, String(error));
      assert.equal(isRetryable(error), false);
    } finally {
      await srv.close();
    }
  });

  it('closes a plaintext connection to the TLS port and keeps serving', async () => {
    const srv = await startServer({ tls: { cert: certs.serverCert, key: certs.serverKey } });
    try {
      const raw = await rogue(srv.port);
      raw.socket.write(encodeFrame({ t: 'hello', v: PROTOCOL, workerId: 'plain', nonce: newNonce() }));
      await raw.closed();
      // Node 20's OpenSSL fails the handshake on the server; Node 24's client gives up first, so the server sees it close.
      await srv.logger.waitFor(/rejected 127\.0\.0\.1:\d+: (TLS handshake failed|closed by the peer during the handshake)/);
      const conn = await connect(worker(srv.port, {}));
      conn.close();
    } finally {
      await srv.close();
    }
  });

  it('refuses a TLS 1.1-only client', async () => {
    const srv = await startServer({ tls: { cert: certs.serverCert, key: certs.serverKey } });
    try {
      const outcome = await new Promise<string>((resolve) => {
        let socket: tls.TLSSocket;
        try {
          socket = tls.connect({ host: '127.0.0.1', port: srv.port, ca: certs.ca, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' });
        } catch (error) {
          resolve(`client refused to even try: ${String(error)}`); // OpenSSL 3 may not allow 1.1 at all
          return;
        }
        socket.once('secureConnect', () => { socket.destroy(); resolve('connected'); });
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code ?? error.message}`));
        setTimeout(() => { socket.destroy(); resolve('timeout'); }, 2000).unref();
      });
      assert.notEqual(outcome, 'connected');
      assert.notEqual(outcome, 'timeout');
      // Node 20's OpenSSL fails the handshake on the server; Node 24's client gives up first, so the server sees it close.
      await srv.logger.waitFor(/rejected 127\.0\.0\.1:\d+: (TLS handshake failed|closed by the peer during the handshake)/);
    } finally {
      await srv.close();
    }
  });

  it('closes a connection from outside the allow list before the TLS handshake, and logs only that', async () => {
    const srv = await startServer({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca }, allow: AllowList.parse(['127.0.0.1']) });
    try {
      const outcome = await new Promise<string>((resolve) => {
        const raw = net.connect({ host: '127.0.0.1', port: srv.port, localAddress: '127.0.0.3' });
        raw.on('error', () => {});
        const socket = tls.connect({ socket: raw, ca: certs.ca, cert: certs.clientCert, key: certs.clientKey });
        socket.once('secureConnect', () => { socket.destroy(); resolve('connected'); });
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code ?? error.message}`));
        socket.once('close', () => resolve('closed'));
      });
      assert.notEqual(outcome, 'connected');
      await srv.logger.waitFor(/refused a connection from 127\.0\.0\.3: not in the allow list/);
      const conn = await connect(worker(srv.port, { cert: certs.clientCert, key: certs.clientKey }));
      conn.close();
      assert.deepEqual(srv.logger.lines.filter((l) => !l.startsWith('debug')), ['warning refused a connection from 127.0.0.3: not in the allow list (--master-allow)']);
    } finally {
      await srv.close();
    }
  });
});
