// The server against hostile or broken peers: early messages, silence, garbage, oversized frames, a socket flood.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connect, connectWithRetry } from './client.ts';
import { FrameTooLargeError } from './errors.ts';
import { encodeFrame } from './framing.ts';
import { clientProof, newNonce } from './handshake.ts';
import { PROTOCOL, readFrames, rogue, rogueWorker, SECRET, startServer, type TestServer } from './test-support.test-helper.ts';

function workerOptions(port: number) {
  return { host: '127.0.0.1', port, workerId: 'real-worker', meta: {}, secret: SECRET, protocolVersion: PROTOCOL, handshakeTimeoutMs: 1000, connectTimeoutMs: 1000 };
}

/** After any abuse, a real worker must still get in. */
async function assertStillServing(srv: TestServer): Promise<void> {
  const conn = await connect(workerOptions(srv.port));
  conn.close();
}

describe('the server before the handshake', () => {
  it('closes a socket whose first frame is not a hello, with one log line', async () => {
    const srv = await startServer({ secret: SECRET });
    try {
      const raw = await rogue(srv.port);
      raw.socket.write(encodeFrame({ t: 'stats', entries: [] }));
      await raw.closed();
      assert.equal(raw.received().length, 0, 'nothing is sent back');
      await srv.logger.waitFor(/rejected 127\.0\.0\.1:\d+: expected a valid hello, got 'stats'/);
      assert.equal(srv.logger.lines.filter((l) => l.includes('rejected')).length, 1);
      assert.equal(srv.connections.length, 0);
      await assertStillServing(srv);
    } finally {
      await srv.close();
    }
  });

  it('closes a socket that sends a heartbeat instead of auth', async () => {
    const srv = await startServer({ secret: SECRET });
    try {
      const raw = await rogue(srv.port);
      raw.socket.write(encodeFrame({ t: 'hello', v: PROTOCOL, workerId: 'w', nonce: newNonce() }));
      raw.socket.write(encodeFrame({ t: 'heartbeat' }));
      await raw.closed();
      await srv.logger.waitFor(/expected auth, got 'heartbeat'/);
      assert.equal(srv.connections.length, 0);
    } finally {
      await srv.close();
    }
  });

  it('refuses a valid auth with a message piggy-backed before the welcome', async () => {
    const srv = await startServer({ secret: SECRET });
    try {
      const raw = await rogue(srv.port);
      const nonce = newNonce();
      raw.socket.write(encodeFrame({ t: 'hello', v: PROTOCOL, workerId: 'eager', nonce }));
      const [challenge] = await readFrames(raw, 1) as [{ nonce: Uint8Array }];
      const serverNonce = challenge.nonce;
      const auth = encodeFrame({ t: 'auth', proof: clientProof(SECRET, serverNonce, nonce, 'eager'), meta: {} });
      raw.socket.write(Buffer.concat([auth, encodeFrame({ t: 'stats' })]));
      await raw.closed();
      await srv.logger.waitFor(/message before welcome \(worker eager\)/);
      assert.equal(srv.connections.length, 0);
    } finally {
      await srv.close();
    }
  });

  it('closes a silent socket after the handshake timeout', async () => {
    const srv = await startServer({ secret: SECRET, handshakeTimeoutMs: 200 });
    try {
      const started = Date.now();
      const raw = await rogue(srv.port);
      await raw.closed(2000);
      assert.ok(Date.now() - started >= 150);
      await srv.logger.waitFor(/rejected 127\.0\.0\.1:\d+: no handshake within 200 ms/);
    } finally {
      await srv.close();
    }
  });

  it('closes a slowloris that trickles a truncated frame', async () => {
    const srv = await startServer({ secret: SECRET, handshakeTimeoutMs: 300 });
    try {
      const raw = await rogue(srv.port);
      const frame = encodeFrame({ t: 'hello', v: PROTOCOL, workerId: 'slow', nonce: newNonce() });
      let sent = 0;
      const drip = setInterval(() => { if (sent < frame.length - 1) raw.socket.write(frame.subarray(sent, ++sent)); }, 20);
      try {
        await raw.closed(2000);
      } finally {
        clearInterval(drip);
      }
      await srv.logger.waitFor(/no handshake within 300 ms/);
    } finally {
      await srv.close();
    }
  });

  it('closes a socket that sends garbage, and keeps serving', async () => {
    const srv = await startServer({ secret: SECRET });
    try {
      const raw = await rogue(srv.port);
      raw.socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      await raw.closed();
      await srv.logger.waitFor(/rejected 127\.0\.0\.1:\d+: frame of \d+ bytes is over the 65536-byte limit/);
      await assertStillServing(srv);
    } finally {
      await srv.close();
    }
  });

  it('closes on an oversized length prefix (0xFFFFFFFF and max + 1) from the header alone', async () => {
    const srv = await startServer({ secret: SECRET });
    try {
      for (const length of [0xffffffff, 64 * 1024 + 1]) {
        const raw = await rogue(srv.port);
        const header = Buffer.alloc(4);
        header.writeUInt32BE(length, 0);
        raw.socket.write(header); // no body follows: the server must not wait for (or allocate) it
        await raw.closed();
        await srv.logger.waitFor(new RegExp(`rejected 127\\.0\\.0\\.1:\\d+: frame of ${length} bytes is over`));
      }
      await assertStillServing(srv);
    } finally {
      await srv.close();
    }
  });

  it('closes a worker that sends an oversized frame after the handshake, with one error line', async () => {
    const srv = await startServer({ secret: SECRET, maxFrameBytes: 1024 });
    try {
      const raw = await rogueWorker(srv.port, 'big-sender', SECRET);
      const server = await srv.nextConnection();
      const reason = new Promise<string>((resolve) => server.onClose(resolve));
      const header = Buffer.alloc(4);
      header.writeUInt32BE(5000, 0);
      raw.socket.write(header);
      assert.match(await reason, /frame of 5000 bytes is over the 1024-byte limit/);
      await raw.closed();
      await srv.logger.waitFor(/^error closing link to big-sender \(127\.0\.0\.1\): frame of 5000 bytes/);
      assert.equal(srv.logger.lines.filter((l) => l.startsWith('error')).length, 1);
    } finally {
      await srv.close();
    }
  });

  it('refuses to send a message over its own limit', async () => {
    const srv = await startServer({ secret: SECRET });
    try {
      const client = await connect({ ...workerOptions(srv.port), maxFrameBytes: 1024 });
      assert.throws(() => client.send(new Uint8Array(2000)), FrameTooLargeError);
      client.close();
    } finally {
      await srv.close();
    }
  });
});

describe('a flood of unauthenticated sockets', () => {
  it('caps pending handshakes in total, logs once, and a real worker still connects within 2 s', async () => {
    // Everything comes from 127.0.0.1 here: lift the per-address cap so the total cap is what is tested.
    const srv = await startServer({ secret: SECRET, handshakeTimeoutMs: 500, maxPendingHandshakes: 64, maxPendingPerAddress: 2000 });
    const flood: net.Socket[] = [];
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    try {
      await Promise.all(Array.from({ length: 1000 }, () => new Promise<void>((resolve) => {
        const socket = net.connect({ host: '127.0.0.1', port: srv.port });
        socket.on('error', () => {});
        socket.once('connect', () => resolve());
        socket.once('close', () => resolve());
        flood.push(socket);
      })));
      const floodDone = Date.now();
      // The flood stays open (half-open from the worker's view): only the cap and the timeout protect the server.
      const conn = await connectWithRetry(workerOptions(srv.port), { minDelayMs: 20, maxDelayMs: 100 });
      assert.ok(Date.now() - floodDone < 2000, `connected after ${Date.now() - floodDone} ms`);
      conn.close();
      delay.disable();
      assert.ok(delay.percentile(99) / 1e6 < 200, `loop delay p99 ${delay.percentile(99) / 1e6} ms`);
      const capLines = srv.logger.lines.filter((l) => l.includes('handshakes already pending'));
      assert.equal(capLines.length, 1, capLines.join('\n'));
      assert.match(capLines[0] ?? '', /^warning 64 handshakes already pending/);
    } finally {
      delay.disable();
      for (const socket of flood) socket.destroy();
      await srv.close();
    }
  });
});
