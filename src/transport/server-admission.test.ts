// Who may take a handshake slot: a sustained flood from one address, the per-address cap, the first-frame deadline, --master-allow.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { FakeClock } from '../core/fake-clock.test-helper.ts';
import { AllowList } from './allow-list.ts';
import { connect, connectWithRetry } from './client.ts';
import { encodeFrame } from './framing.ts';
import { newNonce } from './handshake.ts';
import { PROTOCOL, SECRET, startServer } from './test-support.test-helper.ts';

const ATTACKER = '127.0.0.3';

function workerOptions(port: number) {
  return { host: '127.0.0.1', port, workerId: 'real-worker', meta: {}, secret: SECRET, protocolVersion: PROTOCOL, handshakeTimeoutMs: 1000, connectTimeoutMs: 1000 };
}

/** An idle socket from `localAddress`; resolves once connected or closed, with whether the server closed it at once. */
function idleSocket(port: number, localAddress: string): Promise<{ socket: net.Socket; closed: () => boolean }> {
  return new Promise((resolve) => {
    let isClosed = false;
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    socket.on('error', () => {});
    socket.on('close', () => { isClosed = true; });
    socket.once('connect', () => resolve({ socket, closed: () => isClosed }));
    socket.once('close', () => resolve({ socket, closed: () => true }));
  });
}

/** `count` idle sockets from `localAddress`, each re-opened the moment it closes, until stop(). */
function sustainedFlood(port: number, localAddress: string, count: number): { opened: () => number; stop: () => void } {
  let stopped = false;
  let opened = 0;
  const live = new Set<net.Socket>();
  const open = (): void => {
    if (stopped) return;
    opened += 1;
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    live.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => {
      live.delete(socket);
      setImmediate(open);
    });
  };
  for (let i = 0; i < count; i += 1) open();
  return {
    opened: () => opened,
    stop: () => {
      stopped = true;
      for (const socket of live) socket.destroy();
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('handshake slots under a flood', () => {
  it('200 idle sockets from one address, re-opened as they close, do not keep a real worker out (joins within 2 s)', async (t) => {
    const srv = await startServer({ secret: SECRET, handshakeTimeoutMs: 5000, firstFrameTimeoutMs: 1000 }); // the defaults
    const flood = sustainedFlood(srv.port, ATTACKER, 200);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    try {
      await sleep(500); // the flood is at full strength: every slot it can get is taken
      delay.enable();
      const started = Date.now();
      const conn = await connectWithRetry(workerOptions(srv.port), { signal: AbortSignal.timeout(5000) });
      const joinedMs = Date.now() - started;
      delay.disable();
      conn.close();
      assert.ok(joinedMs < 2000, `joined after ${joinedMs} ms`);
      const lines = srv.logger.lines.filter((l) => l.includes(ATTACKER));
      assert.ok(lines.length <= 7, `a few lines for the attacker, not one per socket:\n${lines.join('\n')}`);
      assert.ok(lines.some((l) => /4 handshakes from 127\.0\.0\.3 already pending/.test(l)), srv.logger.lines.join('\n'));
      t.diagnostic(`flood: ${flood.opened()} sockets opened; worker joined in ${joinedMs} ms; loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms`);
    } finally {
      flood.stop();
      delay.disable();
      await srv.close();
    }
  });

  it('closes the fifth pending socket from one address at once, while another address still gets a slot', async () => {
    const srv = await startServer({ secret: SECRET, firstFrameTimeoutMs: 2000 });
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 4; i += 1) {
        const held = await idleSocket(srv.port, ATTACKER);
        sockets.push(held.socket);
      }
      await sleep(50);
      const fifth = await idleSocket(srv.port, ATTACKER);
      const other = await idleSocket(srv.port, '127.0.0.4');
      sockets.push(fifth.socket, other.socket);
      await sleep(100);
      assert.equal(fifth.closed(), true, 'the fifth socket from 127.0.0.3 was closed');
      assert.equal(other.closed(), false, '127.0.0.4 has its own slots');
      assert.equal(sockets.slice(0, 4).some((s) => s.destroyed), false, 'the four pending ones wait for their deadline');
      await srv.logger.waitFor(/^warning 4 handshakes from 127\.0\.0\.3 already pending: closing its new connections/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await srv.close();
    }
  });

  it('closes a socket that sends no whole frame within the first-frame deadline, trickling or silent', async () => {
    const srv = await startServer({ secret: SECRET, firstFrameTimeoutMs: 150, handshakeTimeoutMs: 5000 });
    try {
      const started = Date.now();
      const silent = await idleSocket(srv.port, '127.0.0.1');
      const trickler = await idleSocket(srv.port, '127.0.0.1');
      const frame = encodeFrame({ t: 'hello', v: PROTOCOL, workerId: 'slow', nonce: newNonce() });
      trickler.socket.write(frame.subarray(0, 10));
      await new Promise<void>((resolve) => { if (silent.closed() && trickler.closed()) resolve(); else { silent.socket.once('close', () => { if (trickler.closed()) resolve(); }); trickler.socket.once('close', () => { if (silent.closed()) resolve(); }); } });
      const took = Date.now() - started;
      assert.ok(took >= 120 && took < 1500, `closed after ${took} ms`);
      await srv.logger.waitFor(/rejected 127\.0\.0\.1:\d+: no hello within 150 ms/);
      // A real worker sends its hello at once and is not affected.
      const conn = await connect(workerOptions(srv.port));
      conn.close();
    } finally {
      await srv.close();
    }
  });
});

describe('--master-allow', () => {
  it('refuses 127.0.0.3 at accept, before reading a byte, logging once a minute; 127.0.0.1 is allowed', async () => {
    const clock = new FakeClock();
    let handshakes = 0;
    const srv = await startServer({
      secret: SECRET,
      allow: AllowList.parse(['127.0.0.1/32', 'fd00::/8']),
      clock,
      onHandshake: () => { handshakes += 1; return { accept: true }; },
    });
    try {
      const received: Buffer[] = [];
      for (let i = 0; i < 3; i += 1) {
        const socket = net.connect({ host: '127.0.0.1', port: srv.port, localAddress: ATTACKER });
        socket.on('error', () => {});
        socket.on('data', (chunk: Buffer) => received.push(chunk));
        socket.write(encodeFrame({ t: 'hello', v: PROTOCOL, workerId: 'intruder', nonce: newNonce() }));
        await new Promise((resolve) => socket.once('close', resolve));
      }
      assert.equal(Buffer.concat(received).length, 0, 'not even a challenge came back');
      const refusals = (): string[] => srv.logger.lines.filter((l) => l.includes('not in the allow list'));
      assert.deepEqual(refusals(), ['warning refused a connection from 127.0.0.3: not in the allow list (--master-allow)']);
      assert.equal(srv.logger.lines.some((l) => l.includes('intruder')), false, 'its hello was never read');

      await clock.advance(60_000);
      const again = net.connect({ host: '127.0.0.1', port: srv.port, localAddress: ATTACKER });
      again.on('error', () => {});
      await new Promise((resolve) => again.once('close', resolve));
      assert.match(refusals()[1] ?? '', /from 127\.0\.0\.3: not in the allow list \(--master-allow\) \(2 more like it before were not logged\)$/);

      const conn = await connect(workerOptions(srv.port));
      await srv.nextConnection();
      assert.equal(handshakes, 1);
      conn.close();
    } finally {
      await srv.close();
    }
  });
});
