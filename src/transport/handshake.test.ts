// The mutual HMAC handshake over real loopback sockets: success, wrong secrets, fake master, replay, version, refusal.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { connect } from './client.ts';
import { isRetryable, TransportAuthError, TransportRefusedError } from './errors.ts';
import { encodeFrame, FrameDecoder } from './framing.ts';
import { clientProof, newNonce, serverProof } from './handshake.ts';
import { nextMessage, OTHER_SECRET, PROTOCOL, readFrames, rogue, SECRET, startServer } from './test-support.test-helper.ts';

const META = { version: '0.1.0', cicadafileHash: 'sha256-MARKER-5be0c1' };

function base(port: number) {
  return { host: '127.0.0.1', port, workerId: 'worker-1', meta: META, protocolVersion: PROTOCOL, handshakeTimeoutMs: 1000, connectTimeoutMs: 1000 };
}

/** Asserts no log line carries either secret in any common encoding. */
function assertNoSecretIn(lines: string[]): void {
  const text = lines.join('\n');
  for (const secret of [SECRET, OTHER_SECRET]) {
    for (const encoding of ['utf8', 'hex', 'base64'] as const) assert.ok(!text.includes(secret.toString(encoding)));
  }
}

describe('handshake with a shared secret', () => {
  it('connects both sides, passes meta to onHandshake, and carries messages both ways', async () => {
    let seenPeer = '';
    const srv = await startServer({
      secret: SECRET,
      onHandshake: (_hello, peer) => { seenPeer = peer.remoteAddress; return { accept: true }; },
    });
    try {
      const client = await connect({ ...base(srv.port), secret: SECRET });
      const server = await srv.nextConnection();
      assert.equal(server.peerId, 'worker-1');
      assert.equal(client.peerId, 'master');
      assert.equal(seenPeer, '127.0.0.1');
      assert.deepEqual(srv.hellos[0], { workerId: 'worker-1', meta: META });

      const toServer = nextMessage(server);
      assert.equal(client.send({ t: 'heartbeat', n: 1 }), true);
      assert.deepEqual(await toServer, { t: 'heartbeat', n: 1 });
      const toClient = nextMessage(client);
      server.send({ t: 'spawn', users: 5 });
      assert.deepEqual(await toClient, { t: 'spawn', users: 5 });

      const reasons: string[] = [];
      const closedOnServer = new Promise<string>((resolve) => server.onClose(resolve));
      client.onClose((reason) => reasons.push(reason));
      client.close('worker done');
      client.close('twice');
      assert.equal(client.closed, true);
      assert.equal(client.send({ late: true }), false);
      assert.deepEqual(reasons, ['worker done']);
      assert.equal(await closedOnServer, 'connection closed by peer');
      assert.equal(srv.logger.lines.filter((l) => l.startsWith('warning')).length, 0);
    } finally {
      await srv.close();
    }
  });

  it('refuses a worker with the wrong secret; the log says "bad secret" and never shows a secret', async () => {
    const srv = await startServer({ secret: SECRET });
    try {
      const error = await connect({ ...base(srv.port), secret: OTHER_SECRET }).catch((e: unknown) => e);
      assert.ok(error instanceof TransportAuthError);
      assert.equal(isRetryable(error), false);
      const line = await srv.logger.waitFor(/bad secret/);
      assert.match(line, /^warning rejected 127\.0\.0\.1:\d+: /);
      assert.equal(srv.connections.length, 0);
      assertNoSecretIn(srv.logger.lines);
      assertNoSecretIn([String(error), (error as Error).stack ?? '']);
    } finally {
      await srv.close();
    }
  });

  it('refuses an auth frame with a bad proof with an explicit "bad secret" refusal', async () => {
    const srv = await startServer({ secret: SECRET });
    try {
      const raw = await rogue(srv.port);
      const nonce = newNonce();
      raw.socket.write(encodeFrame({ t: 'hello', v: PROTOCOL, workerId: 'w2', nonce }));
      const challenge = await readFrames(raw, 1);
      const serverNonce = (challenge[0] as { nonce: Uint8Array }).nonce;
      raw.socket.write(encodeFrame({ t: 'auth', proof: clientProof(OTHER_SECRET, serverNonce, nonce, 'w2'), meta: {} }));
      await raw.closed();
      const frames = new FrameDecoder().push(raw.received());
      assert.deepEqual(frames[1], { t: 'refused', code: 'auth', reason: 'authentication failed: wrong shared secret' });
      await srv.logger.waitFor(/rejected 127\.0\.0\.1:\d+: bad secret \(worker w2\)/);
      assertNoSecretIn(srv.logger.lines);
    } finally {
      await srv.close();
    }
  });

  it('refuses a fake master before sending any meta', async () => {
    for (const fakeProof of ['other-secret', 'none'] as const) {
      const received: Buffer[] = [];
      const fake = net.createServer((socket) => {
        const decoder = new FrameDecoder();
        socket.on('error', () => {});
        socket.on('data', (chunk: Buffer) => {
          received.push(chunk);
          for (const m of decoder.push(chunk) as { t: string; nonce: Uint8Array; workerId: string }[]) {
            if (m.t !== 'hello') continue;
            const nonce = newNonce();
            const proof = fakeProof === 'none' ? {} : { proof: serverProof(OTHER_SECRET, m.nonce, nonce, m.workerId) };
            socket.write(encodeFrame({ t: 'challenge', v: PROTOCOL, nonce, ...proof }));
          }
        });
      });
      await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = fake.address() as net.AddressInfo;
        const error = await connect({ ...base(port), secret: SECRET }).catch((e: unknown) => e);
        assert.ok(error instanceof TransportAuthError, String(error));
        assert.match((error as Error).message, /this worker refused the master at .*: the master('s proof of the shared secret failed| did not prove the shared secret)/);
        const bytes = Buffer.concat(received);
        assert.ok(!bytes.includes('MARKER'), 'no meta reached the fake master');
        const frames = new FrameDecoder().push(bytes) as { t: string }[];
        assert.deepEqual(frames.map((f) => f.t), ['hello']);
      } finally {
        await new Promise((resolve) => fake.close(resolve));
      }
    }
  });

  it('refuses a replayed auth frame on a new connection', async () => {
    const srv = await startServer({ secret: SECRET });
    try {
      // First session: a complete, valid handshake whose hello and auth frames an eavesdropper records.
      const first = await rogue(srv.port);
      const nonce = newNonce();
      const hello = encodeFrame({ t: 'hello', v: PROTOCOL, workerId: 'w3', nonce });
      first.socket.write(hello);
      const [challenge] = await readFrames(first, 1) as [{ nonce: Uint8Array }];
      const auth = encodeFrame({ t: 'auth', proof: clientProof(SECRET, challenge.nonce, nonce, 'w3'), meta: {} });
      first.socket.write(auth);
      const frames = await readFrames(first, 2) as { t: string }[];
      assert.equal(frames[1]?.t, 'welcome');

      // Replay on a second connection: the server's fresh nonce makes the recorded proof worthless.
      const second = await rogue(srv.port);
      second.socket.write(hello);
      await readFrames(second, 1);
      second.socket.write(auth);
      await second.closed();
      assert.deepEqual((new FrameDecoder().push(second.received()) as { t: string }[]).map((f) => f.t), ['challenge', 'refused']);
      await srv.logger.waitFor(/bad secret \(worker w3\)/);
      assert.equal(srv.connections.length, 1);
      first.socket.destroy();
    } finally {
      await srv.close();
    }
  });

  it('refuses mismatched secret configuration on either side', async () => {
    const withSecret = await startServer({ secret: SECRET });
    const without = await startServer();
    try {
      const noClientSecret = await connect(base(withSecret.port)).catch((e: unknown) => e);
      assert.ok(noClientSecret instanceof TransportAuthError);
      assert.match(noClientSecret.message, /requires a shared secret/);
      const noServerSecret = await connect({ ...base(without.port), secret: SECRET }).catch((e: unknown) => e);
      assert.ok(noServerSecret instanceof TransportAuthError);
      assert.match(noServerSecret.message, /did not prove/);
    } finally {
      await withSecret.close();
      await without.close();
    }
  });

  it('connects unauthenticated when neither side has a secret (meta still sent)', async () => {
    const srv = await startServer();
    try {
      const client = await connect(base(srv.port));
      await srv.nextConnection();
      assert.deepEqual(srv.hellos[0]?.meta, META);
      client.close();
    } finally {
      await srv.close();
    }
  });
});

describe('handshake refusals', () => {
  it('refuses a protocol version mismatch, naming both versions, as a final error', async () => {
    const srv = await startServer({ secret: SECRET });
    try {
      const error = await connect({ ...base(srv.port), secret: SECRET, protocolVersion: PROTOCOL + 1 }).catch((e: unknown) => e);
      assert.ok(error instanceof TransportAuthError);
      assert.match(error.message, new RegExp(`worker speaks version ${PROTOCOL + 1}, the master speaks version ${PROTOCOL}`));
      assert.equal(isRetryable(error), false);
      await srv.logger.waitFor(/version mismatch \(worker 4, master 3\)/);
    } finally {
      await srv.close();
    }
  });

  it("delivers onHandshake's refusal reason to the worker", async () => {
    const srv = await startServer({
      secret: SECRET,
      onHandshake: (hello) => ({ accept: false, reason: `cicadafile differs (${String(hello.meta.cicadafileHash)})` }),
    });
    try {
      const error = await connect({ ...base(srv.port), secret: SECRET }).catch((e: unknown) => e);
      assert.ok(error instanceof TransportRefusedError);
      assert.equal(error.reason, 'cicadafile differs (sha256-MARKER-5be0c1)');
      assert.equal(isRetryable(error), false);
      await srv.logger.waitFor(/refused worker worker-1: cicadafile differs/);
      assert.equal(srv.connections.length, 0);
    } finally {
      await srv.close();
    }
  });
});
