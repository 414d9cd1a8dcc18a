// Test-only: a frame-aware man in the middle on 127.0.0.1 that records, rewrites, drops, repeats or reorders frames.
import net from 'node:net';

/** 'up' is worker → master, 'down' is master → worker. */
export type Direction = 'up' | 'down';

/**
 * Decides what to forward for one whole frame (4-byte length prefix included). `index` counts frames per
 * direction and connection from 0: the handshake is frames 0–1 each way (hello, auth / challenge, welcome),
 * so `index >= 2` is the link proper. Return the frames to send on (none drops it, two repeats it).
 */
export type FrameRule = (frame: Buffer, info: { direction: Direction; index: number; connection: number }) => Buffer[];

export interface TamperProxy {
  port: number;
  /** Every byte each direction carried, per connection, as received from its sender (before any rule). */
  captured: { up: Buffer[]; down: Buffer[] }[];
  /** Frames a rule changed, dropped, repeated or reordered so far. */
  tampered: number;
  close(): Promise<void>;
}

export const passThrough: FrameRule = (frame) => [frame];

/** A copy of `frame` with one bit flipped at `offset` bytes into it (negative: from the end). */
export function flipBit(frame: Buffer, offset: number): Buffer {
  const copy = Buffer.from(frame);
  const at = offset < 0 ? copy.length + offset : offset;
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return copy;
}

/** Splits a byte stream into length-prefixed frames; bytes of an unfinished frame stay buffered. */
class FrameSplitter {
  private pending = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.pending = Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    while (this.pending.length >= 4) {
      const total = 4 + this.pending.readUInt32BE(0);
      if (this.pending.length < total) break;
      frames.push(this.pending.subarray(0, total));
      this.pending = this.pending.subarray(total);
    }
    return frames;
  }
}

/** Listens on 127.0.0.1:0 and relays each connection to 127.0.0.1:`targetPort`, applying `rule` to every frame. */
export async function startTamperProxy(targetPort: number, rule: FrameRule = passThrough): Promise<TamperProxy> {
  const sockets = new Set<net.Socket>();
  const captured: TamperProxy['captured'] = [];
  const proxy: TamperProxy = { port: 0, captured, tampered: 0, close: () => Promise.resolve() };
  const server = net.createServer((worker) => {
    const connection = captured.length;
    const record = { up: [] as Buffer[], down: [] as Buffer[] };
    captured.push(record);
    const master = net.connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [worker, master]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => { sockets.delete(s); worker.destroy(); master.destroy(); });
    }
    const relay = (from: net.Socket, to: net.Socket, direction: Direction): void => {
      const splitter = new FrameSplitter();
      let index = 0;
      from.on('data', (chunk: Buffer) => {
        record[direction].push(Buffer.from(chunk));
        for (const frame of splitter.push(chunk)) {
          const out = rule(frame, { direction, index, connection });
          index += 1;
          if (out.length !== 1 || !out[0]!.equals(frame)) proxy.tampered += 1;
          for (const f of out) to.write(f);
        }
      });
    };
    relay(worker, master, 'up');
    relay(master, worker, 'down');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as net.AddressInfo).port;
  proxy.close = () => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  return proxy;
}
