// Tests of HttpClient's per-user cookies against a real server: login, paths, expiry, isolation.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeClient, startServer, type TestServer } from './test-server.ts';

describe('HttpClient cookies', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer((req, res, body) => {
      const url = req.url ?? '/';
      if (url === '/login') {
        const name = (JSON.parse(body || '{}') as { name?: string }).name ?? 'anon';
        res.setHeader('set-cookie', [`session=${name}; Path=/; HttpOnly`, 'cart=7; Path=/shop']);
        return res.end('ok');
      }
      if (url === '/logout') {
        res.setHeader('set-cookie', 'session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT');
        return res.end('bye');
      }
      res.end(req.headers.cookie ?? '');
    });
  });
  after(() => server.close());

  it('sends the cookie a login set on later requests', async () => {
    const { client } = makeClient(server.url);
    try {
      await client.post('/login', { json: { name: 'ann' } });
      assert.equal(client.cookies.get('session'), 'ann');
      assert.equal((await client.get('/me')).text(), 'session=ann');
    } finally {
      await client.close();
    }
  });

  it('sends a path-scoped cookie only under its path', async () => {
    const { client } = makeClient(server.url);
    try {
      await client.post('/login', { json: { name: 'bob' } });
      assert.equal((await client.get('/shop/cart')).text(), 'cart=7; session=bob');
      assert.equal((await client.get('/shopping')).text(), 'session=bob');
    } finally {
      await client.close();
    }
  });

  it('forgets a cookie the server expires', async () => {
    const { client } = makeClient(server.url);
    try {
      await client.post('/login', { json: { name: 'cy' } });
      await client.post('/logout');
      assert.equal(client.cookies.get('session'), undefined);
      assert.equal((await client.get('/me')).text(), '');
    } finally {
      await client.close();
    }
  });

  it('keeps the user own Cookie header in front of the jar cookies', async () => {
    const { client } = makeClient(server.url);
    try {
      await client.post('/login', { json: { name: 'dee' } });
      assert.equal((await client.get('/me', { headers: { cookie: 'mine=1' } })).text(), 'mine=1; session=dee');
    } finally {
      await client.close();
    }
  });

  it('does not share cookies between two users', async () => {
    const a = makeClient(server.url).client;
    const b = makeClient(server.url).client;
    try {
      await a.post('/login', { json: { name: 'ann' } });
      await b.post('/login', { json: { name: 'bob' } });
      assert.equal((await a.get('/me')).text(), 'session=ann');
      assert.equal((await b.get('/me')).text(), 'session=bob');
      const c = makeClient(server.url).client;
      assert.equal((await c.get('/me')).text(), '');
      await c.close();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
