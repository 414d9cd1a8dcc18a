// Tests of HttpClient's request building, naming, events, status failures and validation.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HttpRequestError } from './normalise-error.ts';
import { makeClient, startServer, type TestServer } from './test-server.ts';

describe('HttpClient requests', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer((req, res, body) => {
      const url = req.url ?? '/';
      if (url.startsWith('/status/')) {
        res.statusCode = Number(url.slice('/status/'.length));
        res.end('status body');
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-custom', 'yes');
      res.end(JSON.stringify({ method: req.method, url, body }));
    });
  });
  after(() => server.close());

  it('sends each method with the right method, path and body', async () => {
    const { client } = makeClient(server.url);
    try {
      await client.get('/g');
      await client.post('/p', { body: 'plain' });
      await client.put('/u', { body: Buffer.from('buf') });
      await client.patch('/pa', { body: new Uint8Array([104, 105]) });
      await client.delete('/d');
      await client.head('/h');
      await client.options('/o');
      await client.request('PURGE', '/x');
      const seen = server.seen.slice(-8).map((r) => [r.method, r.url, r.body]);
      assert.deepEqual(seen, [
        ['GET', '/g', ''], ['POST', '/p', 'plain'], ['PUT', '/u', 'buf'], ['PATCH', '/pa', 'hi'],
        ['DELETE', '/d', ''], ['HEAD', '/h', ''], ['OPTIONS', '/o', ''], ['PURGE', '/x', ''],
      ]);
    } finally {
      await client.close();
    }
  });

  it('serialises json and sets its content type unless one is given', async () => {
    const { client } = makeClient(server.url);
    try {
      await client.post('/j', { json: { a: 1, b: ['x'] } });
      let last = server.seen.at(-1)!;
      assert.equal(last.body, '{"a":1,"b":["x"]}');
      assert.equal(last.headers['content-type'], 'application/json');
      await client.post('/j', { json: 1, headers: { 'Content-Type': 'application/vnd.x+json' } });
      last = server.seen.at(-1)!;
      assert.equal(last.headers['content-type'], 'application/vnd.x+json');
    } finally {
      await client.close();
    }
  });

  it('sends per-request headers over the client defaults, and client headers on every request', async () => {
    const { client } = makeClient(server.url);
    try {
      client.headers['authorization'] = 'Bearer t';
      await client.get('/h1', { headers: { 'X-Trace': 'abc', 'User-Agent': 'mine' } });
      const last = server.seen.at(-1)!;
      assert.equal(last.headers['x-trace'], 'abc');
      assert.equal(last.headers['user-agent'], 'mine');
      assert.equal(last.headers['authorization'], 'Bearer t');
      await client.get('/h2');
      assert.equal(server.seen.at(-1)!.headers['user-agent'], 'cicada');
    } finally {
      await client.close();
    }
  });

  it('encodes the query option and joins paths to the base path', async () => {
    const { client } = makeClient(server.url + '/api/');
    try {
      await client.get('/items?x=1', { query: { page: 2, tag: ['a b', 'c'], skip: undefined } });
      assert.equal(server.seen.at(-1)!.url, '/api/items?x=1&page=2&tag=a%20b&tag=c');
      await client.get('rel');
      assert.equal(server.seen.at(-1)!.url, '/api/rel');
      await client.get(`${server.url}/abs`);
      assert.equal(server.seen.at(-1)!.url, '/abs');
    } finally {
      await client.close();
    }
  });

  it('resolves with status, lower-case headers, url, body text and json', async () => {
    const { client } = makeClient(server.url);
    try {
      const res = await client.get('/thing?q=1');
      assert.equal(res.status, 200);
      assert.equal(res.ok, true);
      assert.equal(res.error, null);
      assert.equal(res.headers['x-custom'], 'yes');
      assert.equal(res.url, `${server.url}/thing?q=1`);
      assert.deepEqual(res.json(), { method: 'GET', url: '/thing?q=1', body: '' });
      assert.equal(res.contentLength, res.bodyBytes.length);
      assert.equal(res.text(), res.bodyBytes.toString('utf8'));
    } finally {
      await client.close();
    }
  });

  it('fires one request event per call with method, name, timing, length and url', async () => {
    const { client, events } = makeClient(server.url, {}, { context: () => ({ user: 7 }) });
    try {
      const before = Date.now();
      const res = await client.get('/items/42?x=1');
      assert.equal(events.length, 1);
      const e = events[0]!;
      assert.equal(e.requestType, 'GET');
      assert.equal(e.name, '/items/42');
      assert.ok(e.responseTime > 0);
      assert.equal(e.responseTime, res.elapsedMs);
      assert.equal(e.responseLength, res.bodyBytes.length);
      assert.ok(e.responseLength > 0);
      assert.equal(e.error, null);
      assert.ok(e.startTime >= before && e.startTime <= Date.now());
      assert.equal(e.url, `${server.url}/items/42?x=1`);
      assert.equal(e.response, res);
      assert.deepEqual(e.context, { user: 7 });
    } finally {
      await client.close();
    }
  });

  it('groups requests under the name option', async () => {
    const { client, events } = makeClient(server.url);
    try {
      await client.get('/items/1', { name: '/items/[id]' });
      await client.get('/items/2', { name: '/items/[id]' });
      assert.deepEqual(events.map((e) => e.name), ['/items/[id]', '/items/[id]']);
    } finally {
      await client.close();
    }
  });

  it('records HTTP 404 and 503 as failures with exact messages, without throwing', async () => {
    const { client, events } = makeClient(server.url);
    try {
      const r404 = await client.get('/status/404');
      const r503 = await client.post('/status/503');
      assert.equal(r404.status, 404);
      assert.equal(r404.ok, false);
      assert.ok(r404.error instanceof HttpRequestError);
      assert.equal(r404.error.message, 'HTTP 404');
      assert.equal(r404.error.code, 'HTTP_STATUS');
      assert.equal(r503.error?.message, 'HTTP 503');
      assert.equal(r503.text(), 'status body');
      assert.deepEqual(events.map((e) => e.error?.message), ['HTTP 404', 'HTTP 503']);
    } finally {
      await client.close();
    }
  });

  it('accepts statuses listed in okStatuses', async () => {
    const { client, events } = makeClient(server.url);
    try {
      const res = await client.delete('/status/404', { okStatuses: [404] });
      assert.equal(res.ok, true);
      assert.equal(events[0]!.error, null);
    } finally {
      await client.close();
    }
  });

  it('fails a request whose validate returns a string, false or throws', async () => {
    const { client, events } = makeClient(server.url);
    try {
      const a = await client.post('/v', { json: {}, validate: (res) => res.status === 201 || 'expected 201' });
      const b = await client.get('/v', { validate: () => false });
      const c = await client.get('/v', { validate: (res) => res.json<{ missing: { x: number } }>().missing.x === 1 });
      const d = await client.get('/v', { validate: (res) => res.status === 200 });
      assert.equal(a.error?.message, 'expected 201');
      assert.equal(a.error?.code, 'VALIDATION');
      assert.equal(b.error?.message, 'validation failed');
      assert.match(c.error?.message ?? '', /undefined/);
      assert.equal(d.error, null);
      assert.deepEqual(events.map((e) => e.error?.message ?? null), ['expected 201', 'validation failed', c.error?.message, null]);
    } finally {
      await client.close();
    }
  });

  it('does not call validate for a status failure', async () => {
    const { client } = makeClient(server.url);
    try {
      let called = false;
      const res = await client.get('/status/500', { validate: () => { called = true; return true; } });
      assert.equal(res.error?.message, 'HTTP 500');
      assert.equal(called, false);
    } finally {
      await client.close();
    }
  });

  it('rejects a base URL that is not http(s)', () => {
    assert.throws(() => makeClient('ftp://127.0.0.1/'), TypeError);
    assert.throws(() => makeClient('not a url'), TypeError);
  });
});
