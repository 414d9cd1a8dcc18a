// A man in the middle between a real master and worker after an honest handshake: tamper, replay, drop, reorder, read.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { connect } from './client.ts';
import type { PeerConnection } from './connection.ts';
import { FrameDecoder } from './framing.ts';
import { flipBit, passThrough, startTamperProxy, type FrameRule } from './tamper-proxy.test-helper.ts';
import { PROTOCOL, recordingLogger, rogue, SECRET, startServer, type RecordingLogger, type TestServer } from './test-support.test-helper.ts';

const REAL_HOST = 'http://target.example:8080';
const EVIL_HOST = 'http://attack.example:8080'; // same length, so a rewrite keeps every frame length intact

function spawnMessage(seq: number) {
  return { type: 'spawn', seq, epoch: 0, classes: { Shopper: 5 }, host: REAL_HOST, stopTimeout: 0, drainTimeout: 5 };
}

interface Link {
  srv: TestServer;
  client: PeerConnection;
  server: PeerConnection;
  clientLog: RecordingLogger;
  /** Every message the worker side received, in order. */
  toWorker: unknown[];
  /** Every message the master side received, in order. */
  toMaster: unknown[];
  clientClosed: Promise<string>;
  serverClosed: Promise<string>;
  close(): Promise<void>;
}

/** A master and a worker talking through the proxy, with `rule` applied to every frame. */
async function linkThrough(rule: FrameRule): Promise<Link & { proxy: Awaited<ReturnType<typeof startTamperProxy>> }> {
  const srv = await startServer({ secret: SECRET });
  const proxy = await startTamperProxy(srv.port, rule);
  const clientLog = recordingLogger();
  const client = await connect({
    host: '127.0.0.1', port: proxy.port, workerId: 'worker-1', meta: { version: 'x' }, secret: SECRET, protocolVersion: PROTOCOL,
    handshakeTimeoutMs: 1000, connectTimeoutMs: 1000, logger: clientLog,
  });
  const server = await srv.nextConnection();
  const toWorker: unknown[] = [];
  const toMaster: unknown[] = [];
  client.onMessage((m) => toWorker.push(m));
  server.onMessage((m) => toMaster.push(m));
  return {
    srv, proxy, client, server, clientLog, toWorker, toMaster,
    clientClosed: new Promise((resolve) => client.onClose(resolve)),
    serverClosed: new Promise((resolve) => server.onClose(resolve)),
    close: async () => { client.close(); await proxy.close(); await srv.close(); },
  };
}

const hasEvilHost = (messages: unknown[]): boolean => messages.some((m) => JSON.stringify(m).includes('attack.example'));
const settle = (ms = 100): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or a rejection naming `what` after `ms`. */
function within<T>(promise: Promise<T>, what: string, ms = 2000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('a man in the middle after the handshake', () => {
  it('cannot redirect the load: a rewritten spawn.host (or, when unreadable, a flipped bit) closes the link, logged', async () => {
    // What an attacker does: rewrite the host where it can read it; flip a bit where it cannot.
    const rule: FrameRule = (frame, { direction, index }) => {
      if (direction !== 'down' || index < 2) return [frame];
      const at = frame.indexOf(REAL_HOST);
      if (at < 0) return [flipBit(frame, -20)];
      const copy = Buffer.from(frame);
      copy.write(EVIL_HOST, at);
      return [copy];
    };
    const link = await linkThrough(rule);
    try {
      link.server.send(spawnMessage(1));
      const reason = await within(link.clientClosed, 'closing the link').catch((error: Error) => error.message);
      assert.equal(hasEvilHost(link.toWorker), false, `the worker was sent to the attacker: ${JSON.stringify(link.toWorker)}`);
      assert.match(reason, /frame 0 from the master failed authentication/);
      assert.match(reason, /CICADA_ERR_TRANSPORT_FRAME_AUTH/);
      await link.clientLog.waitFor(/^error closing link to master \(127\.0\.0\.1\): frame 0 from the master failed authentication/);
      assert.equal(link.proxy.tampered, 1);
      assert.deepEqual(link.toWorker, [], 'the tampered spawn never reached the worker');
    } finally {
      await link.close();
    }
  });

  it('a flipped bit from the worker closes the link on the master, with one error line naming the code', async () => {
    const link = await linkThrough((frame, { direction, index }) => (direction === 'up' && index === 2 ? [flipBit(frame, 14)] : [frame]));
    try {
      link.client.send({ type: 'heartbeat', state: 'ready', userCount: 0, cpu: 0, memory: 0 });
      assert.match(await within(link.serverClosed, 'closing the link'), /frame 0 from worker-1 failed authentication/);
      await link.srv.logger.waitFor(/^error closing link to worker-1 \(127\.0\.0\.1\): frame 0 from worker-1 failed authentication.*\[CICADA_ERR_TRANSPORT_FRAME_AUTH\]$/);
      assert.deepEqual(link.toMaster, [], 'the altered frame was not delivered');
      assert.equal(link.srv.logger.lines.filter((l) => l.startsWith('error')).length, 1);
    } finally {
      await link.close();
    }
  });

  for (const [attack, rule, delivered] of [
    ['a replayed frame', ((frame, { direction, index }) => (direction === 'down' && index === 2 ? [frame, frame] : [frame])) as FrameRule, 1],
    ['a dropped frame', ((frame, { direction, index }) => (direction === 'down' && index === 2 ? [] : [frame])) as FrameRule, 0],
    ['two reordered frames', (() => {
      let held: Buffer | undefined;
      return ((frame, { direction, index }) => {
        if (direction !== 'down' || index < 2) return [frame];
        if (index === 2) { held = frame; return []; }
        return index === 3 && held !== undefined ? [frame, held] : [frame];
      }) as FrameRule;
    })(), 0],
  ] as const) {
    it(`${attack} closes the link as out of sequence, and nothing after it is delivered`, async () => {
      const link = await linkThrough(rule);
      try {
        link.server.send(spawnMessage(1));
        link.server.send(spawnMessage(2));
        link.server.send(spawnMessage(3));
        assert.match(await within(link.clientClosed, 'closing the link').catch((e: Error) => `${e.message}; delivered ${JSON.stringify(link.toWorker.map((m) => (m as { seq: number }).seq))}`), /out of sequence: frame \d+ where frame \d+ was expected \(replayed, dropped, reordered or altered\)/);
        await link.clientLog.waitFor(/CICADA_ERR_TRANSPORT_FRAME_SEQUENCE/);
        assert.deepEqual(link.toWorker, [spawnMessage(1)].slice(0, delivered));
      } finally {
        await link.close();
      }
    });
  }

  it('an altered handshake (the worker\'s meta, rewritten in its auth frame) leaves keys that open nothing', async () => {
    const link = await linkThrough((frame, { direction, index }) => {
      if (direction !== 'up' || index !== 1) return [frame];
      const copy = Buffer.from(frame);
      copy.write('Y', copy.indexOf('version') + 'version'.length + 1); // the value 'x' after its fixstr header
      return [copy];
    });
    try {
      assert.deepEqual(link.srv.hellos[0]?.meta, { version: 'Y' }, 'the master saw the altered meta');
      link.client.send({ type: 'heartbeat', state: 'ready', userCount: 0, cpu: 0, memory: 0 });
      link.server.send(spawnMessage(1));
      assert.match(await within(link.serverClosed, 'closing the link'), /frame 0 from worker-1 failed authentication/);
      assert.match(await within(link.clientClosed, 'closing the link'), /frame 0 from the master failed authentication|connection closed by peer/);
      assert.deepEqual([link.toMaster, link.toWorker], [[], []]);
    } finally {
      await link.close();
    }
  });

  it('sees no message field, host or request name in clear on the wire', async () => {
    const link = await linkThrough(passThrough);
    try {
      link.server.send(spawnMessage(1));
      link.client.send({ type: 'stats', entries: [{ name: '/checkout/confidential-path', numRequests: 7 }] });
      await settle();
      assert.deepEqual(link.toWorker, [spawnMessage(1)]);
      assert.equal(link.toMaster.length, 1);
      const [session] = link.proxy.captured;
      const wire = Buffer.concat([...session!.up, ...session!.down]);
      for (const clear of ['spawn', 'host', 'target.example', 'Shopper', 'stats', 'confidential-path', 'numRequests']) {
        assert.equal(wire.includes(clear), false, `"${clear}" crossed the wire in clear`);
      }
      // The capture is real: the handshake itself is plain msgpack (and authenticated by the keys it yields).
      assert.ok(wire.includes('hello') && wire.includes('welcome'));
    } finally {
      await link.close();
    }
  });
});

describe('a recorded session', () => {
  it('replayed to the master is refused at the handshake and none of its frames is delivered', async () => {
    const link = await linkThrough(passThrough);
    let replayed: Buffer;
    try {
      link.client.send({ type: 'heartbeat', state: 'ready', userCount: 0, cpu: 0, memory: 0 });
      link.client.send({ type: 'stats', seq: 1 });
      await settle();
      assert.equal(link.toMaster.length, 2);
      replayed = Buffer.concat(link.proxy.captured[0]!.up);
    } finally {
      link.client.close();
      await link.proxy.close();
    }
    try {
      const raw = await rogue(link.srv.port);
      raw.socket.write(replayed);
      await raw.closed();
      const answers = new FrameDecoder().push(raw.received()) as { t: string }[];
      assert.deepEqual(answers.map((a) => a.t), ['challenge', 'refused']);
      await link.srv.logger.waitFor(/rejected 127\.0\.0\.1:\d+: bad secret \(worker worker-1\)/);
      assert.equal(link.srv.connections.length, 1, 'no second link was made');
      assert.equal(link.toMaster.length, 2);
    } finally {
      await link.srv.close();
    }
  });

  it("replayed to a worker is refused: the master's recorded proof does not match the worker's fresh nonce", async () => {
    const link = await linkThrough(passThrough);
    const recorded = (): Buffer => Buffer.concat(link.proxy.captured[0]!.down);
    link.server.send(spawnMessage(1));
    await settle();
    await link.close();
    const sockets: Socket[] = [];
    const fake = createServer((socket) => { sockets.push(socket); socket.on('error', () => {}); socket.end(recorded()); });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const port = (fake.address() as { port: number }).port;
      const error = await connect({ host: '127.0.0.1', port, workerId: 'worker-1', meta: {}, secret: SECRET, protocolVersion: PROTOCOL, handshakeTimeoutMs: 1000 })
        .catch((e: unknown) => e);
      assert.match(String(error), /the master's proof of the shared secret failed/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => fake.close(resolve));
    }
  });
});
