// Tests of HttpClient's transport failures, body cap and stop-signal behaviour.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { UserStopped } from '../../core/control-flow.ts';
import { makeClient, startServer } from './test-server.ts';

describe('HttpClient failures', () => {
  it('fails a request the server never answers with "timeout after 200 ms"', async () => {
    const server = await startServer(() => { /* never answers */ });
    const { client, events } = makeClient(server.url, { timeoutMs: 200 });
    try {
      const started = performance.now();
      const res = await client.get('/hang');
      const took = performance.now() - started;
      assert.equal(res.error?.message, 'timeout after 200 ms');
      assert.equal(res.error?.code, 'TIMEOUT');
      assert.equal(res.status, 0);
      assert.ok(took >= 195 && took < 2000, `took ${took} ms`);
      assert.equal(events.length, 1);
      assert.equal(events[0]!.error?.message, 'timeout after 200 ms');
      assert.ok(events[0]!.responseTime >= 195);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('uses the per-request timeoutMs over the default', async () => {
    const server = await startServer(() => { /* never answers */ });
    const { client } = makeClient(server.url, { timeoutMs: 60_000 });
    try {
      const res = await client.get('/hang', { timeoutMs: 100 });
      assert.equal(res.error?.message, 'timeout after 100 ms');
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('times out a body that stops half way', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('x'.repeat(10));
    });
    const { client } = makeClient(server.url, { timeoutMs: 150 });
    try {
      const res = await client.get('/slow-body');
      assert.equal(res.error?.message, 'timeout after 150 ms');
      assert.equal(res.contentLength, 10);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('fails with ECONNREFUSED when nothing listens on the port', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const { client, events } = makeClient(`http://127.0.0.1:${port}`);
    try {
      const res = await client.get('/');
      assert.equal(res.error?.message, 'ECONNREFUSED');
      assert.equal(res.error?.code, 'ECONNREFUSED');
      assert.equal(events.length, 1);
      assert.equal(events[0]!.responseLength, 0);
    } finally {
      await client.close();
    }
  });

  it('fails with ECONNRESET when the connection is reset mid-response', async () => {
    const server = await startServer((req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial', () => req.socket.resetAndDestroy());
    });
    const { client } = makeClient(server.url);
    try {
      const res = await client.get('/reset');
      assert.equal(res.error?.message, 'ECONNRESET');
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('counts a 20 MB body in full but keeps only the 1 MB cap', async () => {
    const size = 20 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 97);
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(size) });
      let sent = 0;
      const pump = (): void => {
        while (sent < size) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const { client, events } = makeClient(server.url, { maxBodyBytes: 1024 * 1024 });
    try {
      const res = await client.get('/big');
      assert.equal(res.error, null);
      assert.equal(res.contentLength, size);
      assert.equal(res.bodyBytes.length, 1024 * 1024);
      assert.equal(res.truncated, true);
      assert.equal(res.bodyBytes.every((b) => b === 97), true);
      assert.equal(events[0]!.responseLength, size);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('throws UserStopped and records nothing when the signal aborted before sending', async () => {
    const server = await startServer((_req, res) => res.end('ok'));
    const { client, events, controller } = makeClient(server.url);
    try {
      controller.abort();
      await assert.rejects(client.get('/'), UserStopped);
      assert.equal(events.length, 0);
      assert.equal(server.seen.length, 0);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('completes and records a request in flight when the signal aborts', async () => {
    const server = await startServer((_req, res) => {
      setTimeout(() => res.end('late'), 150);
    });
    const { client, events, controller } = makeClient(server.url);
    try {
      const pending = client.get('/slow');
      setTimeout(() => controller.abort(), 30);
      const res = await pending;
      assert.equal(controller.signal.aborted, true);
      assert.equal(res.error, null);
      assert.equal(res.text(), 'late');
      assert.equal(events.length, 1);
      assert.ok(events[0]!.responseTime >= 140);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('fails requests made after close with "client closed"', async () => {
    const server = await startServer((_req, res) => res.end('ok'));
    const { client, events } = makeClient(server.url);
    try {
      await client.get('/');
      await client.close();
      const res = await client.get('/');
      assert.equal(res.error?.message, 'client closed');
      assert.equal(events.length, 2);
    } finally {
      await server.close();
    }
  });

  it('opens up to connectionsPerUser connections to one origin', async () => {
    const sockets = new Set<unknown>();
    const server = await startServer((req, res) => {
      sockets.add(req.socket);
      setTimeout(() => res.end('ok'), 50);
    });
    const { client } = makeClient(server.url, { connectionsPerUser: 3 });
    try {
      const all = await Promise.all([1, 2, 3, 4, 5, 6].map(() => client.get('/')));
      assert.ok(all.every((r) => r.ok));
      assert.equal(sockets.size, 3);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('reuses one keep-alive connection for sequential requests', async () => {
    const sockets = new Set<unknown>();
    const server = await startServer((req, res) => {
      sockets.add(req.socket);
      res.end('ok');
    });
    const { client } = makeClient(server.url);
    try {
      for (let i = 0; i < 5; i++) await client.get('/');
      assert.equal(sockets.size, 1);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('sends through a shared dispatcher and leaves it open on close', async () => {
    const server = await startServer((_req, res) => res.end('shared'));
    const agent = new Agent({ connections: 2 });
    const a = makeClient(server.url, {}, { dispatcher: agent });
    const b = makeClient(server.url, {}, { dispatcher: agent });
    try {
      assert.equal((await a.client.get('/')).text(), 'shared');
      await a.client.close();
      assert.equal((await b.client.get('/')).text(), 'shared');
      assert.equal(b.events.length, 1);
    } finally {
      await b.client.close();
      await agent.close();
      await server.close();
    }
  });
});
