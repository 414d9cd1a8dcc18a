// Tests for the demo target: endpoints, cookie flow, exact counts, errors, body limits and close().
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { startDemoTarget, type DemoTarget, type DemoTargetOptions } from './target-server.ts';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One request over node:http, bounded in time; `agent: false` gives a fresh, non-kept-alive socket. */
function call(target: DemoTarget, method: string, path: string, init: { body?: string; headers?: Record<string, string>; agent?: Agent } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${target.url}${path}`, { method, headers: init.headers, agent: init.agent ?? false, signal: AbortSignal.timeout(5000) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const json = (body: unknown): { body: string; headers: Record<string, string> } => ({
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json' },
});

async function withTarget(options: DemoTargetOptions, fn: (target: DemoTarget) => Promise<void>): Promise<void> {
  const target = await startDemoTarget({ latencyScale: 0, errorRate: 0, seed: 42, ...options });
  try {
    await fn(target);
  } finally {
    await target.close();
  }
}

describe('demo target', { timeout: 20_000 }, () => {
  it('listens on 127.0.0.1 and a free port', () =>
    withTarget({}, (target) => {
      assert.match(target.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(target.port > 0);
      assert.equal(target.seed, 42);
      return Promise.resolve();
    }));

  it('answers every endpoint', () =>
    withTarget({}, async (target) => {
      const home = await call(target, 'GET', '/');
      assert.equal(home.status, 200);
      assert.match(String(home.headers['content-type']), /text\/html/);
      assert.deepEqual(JSON.parse((await call(target, 'GET', '/health')).text), { status: 'ok' });

      const items = await call(target, 'GET', '/items');
      const list = JSON.parse(items.text) as { items: { id: number }[]; total: number };
      assert.equal(items.status, 200);
      assert.equal(list.items.length, 20);
      assert.equal(list.total, 1000);
      assert.ok(items.text.length > 2000, 'a page of items is a few kB');
      assert.equal(JSON.parse((await call(target, 'GET', '/items?page=2')).text).items[0].id, 21);
      assert.equal((await call(target, 'GET', '/items?page=abc')).status, 400);

      const item = await call(target, 'GET', '/items/7');
      assert.equal(item.status, 200);
      assert.equal(JSON.parse(item.text).id, 7);
      assert.equal((await call(target, 'GET', '/items/1001')).status, 404);
      assert.equal((await call(target, 'GET', '/items/nope')).status, 404);

      const found = await call(target, 'GET', '/search?q=a');
      assert.equal(found.status, 200);
      assert.ok(JSON.parse(found.text).count > 0);
      assert.equal((await call(target, 'GET', '/search')).status, 400);

      const cart = await call(target, 'POST', '/cart', json({ id: 1 }));
      assert.equal(cart.status, 201);
      assert.equal(JSON.parse(cart.text).added.id, 1);
      assert.equal((await call(target, 'POST', '/cart', json({ id: 5000 }))).status, 404);
      assert.equal((await call(target, 'POST', '/cart', json({ id: 'x' }))).status, 400);
      assert.equal(JSON.parse((await call(target, 'POST', '/checkout')).text).status, 'confirmed');
      assert.equal((await call(target, 'GET', '/slow')).status, 200);
      assert.ok([200, 503].includes((await call(target, 'GET', '/flaky')).status));
      assert.equal((await call(target, 'HEAD', '/items')).text, '');
    }));

  it('sets a session cookie on login and requires it on /account', () =>
    withTarget({}, async (target) => {
      assert.equal((await call(target, 'GET', '/account')).status, 401);
      const login = await call(target, 'POST', '/login', json({ name: 'ann' }));
      assert.equal(login.status, 200);
      const cookie = login.headers['set-cookie']?.[0] ?? '';
      assert.match(cookie, /^session=[A-Za-z0-9_-]+; HttpOnly; Path=\/$/);
      const session = cookie.split(';')[0] ?? '';

      const account = await call(target, 'GET', '/account', { headers: { cookie: `theme=dark; ${session}` } });
      assert.equal(account.status, 200);
      assert.equal(JSON.parse(account.text).name, 'ann');
      assert.equal((await call(target, 'GET', '/account', { headers: { cookie: 'session=forged' } })).status, 401);

      await call(target, 'POST', '/cart', { ...json({ id: 3, quantity: 2 }), headers: { 'content-type': 'application/json', cookie: session } });
      const order = await call(target, 'POST', '/checkout', { headers: { cookie: session } });
      assert.equal(JSON.parse(order.text).items, 1);
    }));

  it('rejects bad JSON with 400 and bodies over 1 MB with 413', () =>
    withTarget({}, async (target) => {
      assert.equal((await call(target, 'POST', '/login', { body: '{"name":', headers: { 'content-type': 'application/json' } })).status, 400);
      assert.equal((await call(target, 'POST', '/login', json({ nom: 'ann' }))).status, 400);
      assert.equal((await call(target, 'POST', '/login', json(['ann']))).status, 400);
      assert.equal((await call(target, 'POST', '/login')).status, 400);
      const declared = await call(target, 'POST', '/login', { body: '{}', headers: { 'content-length': String(2 * 1024 * 1024) } });
      assert.equal(declared.status, 413);
      const streamed = await call(target, 'POST', '/cart', { body: `"${'x'.repeat(1024 * 1024 + 10)}"` });
      assert.equal(streamed.status, 413);
      assert.equal(streamed.headers.connection, 'close');
    }));

  it('counts every request per method and route, unmatched ones included', () =>
    withTarget({}, async (target) => {
      await call(target, 'GET', '/items/1');
      await call(target, 'GET', '/items/2?x=1');
      await call(target, 'GET', '/items/999999');
      await call(target, 'GET', '/items');
      await call(target, 'HEAD', '/items');
      await call(target, 'POST', '/login', { body: 'not json' });
      await call(target, 'POST', '/login', json({ name: 'bob' }));
      await call(target, 'GET', '/nowhere');
      await call(target, 'GET', '//evil.example/items');
      await call(target, 'DELETE', '/items');
      const mixed = await Promise.all(Array.from({ length: 25 }, () => call(target, 'GET', '/flaky')));
      assert.equal(mixed.length, 25);
      assert.deepEqual(target.counts(), {
        'GET /items/[id]': 3,
        'GET /items': 1,
        'HEAD /items': 1,
        'POST /login': 2,
        'GET (unmatched)': 2,
        'DELETE (unmatched)': 1,
        'GET /flaky': 25,
      });
    }));

  it('answers 503 at the configured error rate, only on error-prone endpoints', async () => {
    await withTarget({ errorRate: 1 }, async (target) => {
      const failed = await call(target, 'GET', '/items');
      assert.equal(failed.status, 503);
      assert.equal(failed.headers['retry-after'], '1');
      assert.equal((await call(target, 'POST', '/cart', json({ id: 1 }))).status, 503);
      assert.equal((await call(target, 'GET', '/health')).status, 200);
      assert.equal((await call(target, 'POST', '/login', json({ name: 'ann' }))).status, 200);
    });
    await withTarget({ errorRate: 0 }, async (target) => {
      for (let i = 0; i < 50; i++) assert.equal((await call(target, 'GET', '/items/1')).status, 200);
    });
  });

  it('fails /flaky about 30 % of the time, reproducibly for a seed', async () => {
    const run = async (seed: number): Promise<number[]> => {
      const statuses: number[] = [];
      await withTarget({ seed }, async (target) => {
        for (let i = 0; i < 200; i++) statuses.push((await call(target, 'GET', '/flaky')).status);
      });
      return statuses;
    };
    const first = await run(7);
    const failures = first.filter((s) => s === 503).length;
    assert.ok(failures > 30 && failures < 90, `expected ~60 failures of 200, got ${failures}`);
    assert.deepEqual(await run(7), first);
  });

  it('scales latency with latencyScale', () =>
    withTarget({ latencyScale: 0.1 }, async (target) => {
      let started = performance.now();
      await call(target, 'GET', '/slow');
      const slow = performance.now() - started;
      assert.ok(slow >= 40 && slow < 1000, `/slow at scale 0.1 took ${slow} ms`);
      started = performance.now();
      await call(target, 'GET', '/health');
      assert.ok(performance.now() - started < slow);
    }));

  it('close() drops idle keep-alive sockets and requests still waiting', async () => {
    const target = await startDemoTarget({ latencyScale: 1, errorRate: 0 });
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    try {
      assert.equal((await call(target, 'GET', '/health', { agent })).status, 200);
      const sockets = Object.values(agent.freeSockets).flat();
      assert.equal(sockets.length, 1, 'the socket is idle and kept alive');
      const socketClosed = new Promise((resolve) => sockets[0]?.once('close', resolve));
      const pending = call(target, 'GET', '/slow', { agent }).then(
        () => 'answered',
        () => 'dropped',
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = performance.now();
      await target.close();
      assert.ok(performance.now() - started < 300, 'close() did not wait for the keep-alive timeout or /slow');
      await socketClosed;
      assert.equal(await pending, 'dropped');
      await target.close(); // a second close is harmless
      await assert.rejects(call(target, 'GET', '/health'), /ECONNREFUSED/);
    } finally {
      agent.destroy();
    }
  });

  it('rejects invalid options', async () => {
    await assert.rejects(startDemoTarget({ errorRate: 2 }), RangeError);
    await assert.rejects(startDemoTarget({ latencyScale: -1 }), RangeError);
    await assert.rejects(startDemoTarget({ port: 70000 }), RangeError);
  });
});
