// PeerConnection behaviour on a real socket pair: bounded write buffering, early messages, listeners, closing once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { SocketConnection } from './connection.ts';
import { encodeFrame, FrameDecoder } from './framing.ts';
import { recordingLogger } from './test-support.test-helper.ts';

/** A connected pair on 127.0.0.1: the server end wrapped in a SocketConnection, the client end raw. */
async function pair(options: { maxWriteBufferBytes?: number; initialBodies?: Buffer[] } = {}) {
  const logger = recordingLogger();
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const raw = net.connect({ host: '127.0.0.1', port });
  raw.on('error', () => {});
  const socket = await accepted;
  const conn = new SocketConnection({
    socket, decoder: new FrameDecoder(), peerId: 'w1', remoteAddress: '127.0.0.1', logger, maxFrameBytes: 1024 * 1024, ...options,
  });
  const cleanup = async (): Promise<void> => {
    raw.destroy();
    socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return { conn, raw, logger, cleanup };
}

describe('PeerConnection', () => {
  it('closes with one error line instead of buffering without bound when the peer stops reading', async () => {
    const { conn, raw, logger, cleanup } = await pair({ maxWriteBufferBytes: 1024 * 1024 });
    try {
      raw.pause(); // the peer reads nothing
      const reasons: string[] = [];
      conn.onClose((reason) => reasons.push(reason));
      const chunk = new Uint8Array(256 * 1024);
      let accepted = 0;
      while (conn.send(chunk) && accepted < 1000) accepted += 1;
      assert.ok(accepted < 1000, 'send() must eventually refuse');
      assert.equal(conn.closed, true);
      assert.deepEqual(reasons, ['peer not reading (send buffer full)']);
      assert.equal(logger.lines.length, 1);
      assert.match(logger.lines[0] ?? '', /^error closing link to w1 \(127\.0\.0\.1\): over 1 MiB waiting to be sent/);
      assert.equal(conn.send({ more: 1 }), false);
    } finally {
      await cleanup();
    }
  });

  it('keeps messages that arrive before the first listener and delivers them in order', async () => {
    const { conn, raw, cleanup } = await pair({ initialBodies: [encodeFrame({ n: 0 }).subarray(4)] });
    try {
      raw.write(Buffer.concat([encodeFrame({ n: 1 }), encodeFrame({ n: 2 })]));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const got: unknown[] = [];
      const third = new Promise<void>((resolve) => conn.onMessage((m) => { got.push(m); if (got.length === 4) resolve(); }));
      raw.write(encodeFrame({ n: 3 }));
      await third;
      assert.deepEqual(got, [{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }]);
    } finally {
      await cleanup();
    }
  });

  it('survives a throwing listener and logs it', async () => {
    const { conn, raw, logger, cleanup } = await pair();
    try {
      const second = new Promise<unknown>((resolve) => {
        conn.onMessage(() => { throw new Error('listener bug'); });
        conn.onMessage(resolve);
      });
      raw.write(encodeFrame('hi'));
      assert.equal(await second, 'hi');
      assert.equal(conn.closed, false);
      assert.match(logger.lines.join('\n'), /message listener for w1 \(127\.0\.0\.1\) threw: listener bug/);
    } finally {
      await cleanup();
    }
  });

  it('fires onClose once with the peer reason, and late listeners still hear it', async () => {
    const { conn, raw, cleanup } = await pair();
    try {
      const reasons: string[] = [];
      const first = new Promise<void>((resolve) => conn.onClose((r) => { reasons.push(r); resolve(); }));
      raw.end();
      await first;
      conn.close('again');
      const late = await new Promise<string>((resolve) => conn.onClose(resolve));
      assert.deepEqual(reasons, ['connection closed by peer']);
      assert.equal(late, 'connection closed by peer');
    } finally {
      await cleanup();
    }
  });

  it('flushes queued frames before closing', async () => {
    const { conn, raw, cleanup } = await pair();
    try {
      const received: Buffer[] = [];
      raw.on('data', (chunk: Buffer) => received.push(chunk));
      const ended = new Promise((resolve) => raw.once('end', resolve));
      conn.send({ last: 'words' });
      conn.close('done');
      await ended;
      assert.deepEqual(new FrameDecoder().push(Buffer.concat(received)), [{ last: 'words' }]);
    } finally {
      await cleanup();
    }
  });
});
