// Tests of HttpClient's redirect following: one event per chain, method rules, cross-origin, loops.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeClient, startServer, type TestServer } from './test-server.ts';

describe('HttpClient redirects', () => {
  let server: TestServer;
  let other: TestServer;
  before(async () => {
    other = await startServer((req, res, body) => {
      res.end(JSON.stringify({ where: 'other', method: req.method, body, auth: req.headers.authorization ?? null }));
    });
    server = await startServer((req, res, body) => {
      const url = req.url ?? '/';
      const redirect = (status: number, location: string): void => {
        res.writeHead(status, { location });
        res.end('redirect body');
      };
      if (url === '/relative') return redirect(302, 'final');
      if (url === '/absolute') return redirect(301, `${server.url}/final`);
      if (url === '/cross') return redirect(302, `${other.url}/there`);
      if (url.startsWith('/see-other')) return redirect(303, '/final');
      if (url.startsWith('/temporary')) return redirect(307, '/final');
      if (url.startsWith('/permanent')) return redirect(308, '/final');
      if (url === '/loop') return redirect(302, '/loop');
      if (url === '/no-location') {
        res.statusCode = 302;
        return res.end();
      }
      if (url === '/set-and-go') {
        res.writeHead(302, { location: '/final', 'set-cookie': 'hop=1; Path=/' });
        return res.end();
      }
      res.end(JSON.stringify({ where: 'final', method: req.method, body, cookie: req.headers.cookie ?? null }));
    });
  });
  after(async () => {
    await server.close();
    await other.close();
  });

  it('follows a relative redirect and records one event under the original name', async () => {
    const { client, events } = makeClient(server.url);
    try {
      const res = await client.get('/relative');
      assert.equal(res.status, 200);
      assert.equal(res.url, `${server.url}/final`);
      assert.equal(res.json<{ where: string }>().where, 'final');
      assert.equal(events.length, 1);
      assert.equal(events[0]!.name, '/relative');
      assert.equal(events[0]!.url, `${server.url}/final`);
      assert.equal(events[0]!.responseLength, res.bodyBytes.length);
    } finally {
      await client.close();
    }
  });

  it('follows an absolute redirect', async () => {
    const { client } = makeClient(server.url);
    try {
      const res = await client.get('/absolute');
      assert.equal(res.url, `${server.url}/final`);
      assert.equal(res.ok, true);
    } finally {
      await client.close();
    }
  });

  it('follows a redirect to another origin on its own connection, without the authorization header', async () => {
    const { client } = makeClient(server.url);
    try {
      const res = await client.get('/cross', { headers: { authorization: 'Bearer secret' } });
      assert.deepEqual(res.json(), { where: 'other', method: 'GET', body: '', auth: null });
      assert.equal(res.url, `${other.url}/there`);
    } finally {
      await client.close();
    }
  });

  it('does not send the client-wide authorization header to another origin either', async () => {
    const { client } = makeClient(server.url);
    try {
      client.headers['authorization'] = 'Bearer secret';
      const res = await client.get('/cross');
      assert.equal(res.json<{ auth: string | null }>().auth, null);
      assert.equal(server.seen.at(-1)!.headers.authorization, 'Bearer secret');
      assert.equal(client.headers['authorization'], 'Bearer secret');
    } finally {
      await client.close();
    }
  });

  it('turns a POST into a GET without body on 303', async () => {
    const { client } = makeClient(server.url);
    try {
      const res = await client.post('/see-other', { json: { a: 1 } });
      assert.deepEqual(res.json(), { where: 'final', method: 'GET', body: '', cookie: null });
      assert.equal(server.seen.at(-1)!.headers['content-type'], undefined);
    } finally {
      await client.close();
    }
  });

  it('keeps the method and body on 307 and 308', async () => {
    const { client } = makeClient(server.url);
    try {
      const a = await client.post('/temporary', { body: 'payload' });
      const b = await client.put('/permanent', { json: { b: 2 } });
      assert.deepEqual(a.json(), { where: 'final', method: 'POST', body: 'payload', cookie: null });
      assert.deepEqual(b.json(), { where: 'final', method: 'PUT', body: '{"b":2}', cookie: null });
    } finally {
      await client.close();
    }
  });

  it('fails a redirect loop with "too many redirects (max N)"', async () => {
    const { client, events } = makeClient(server.url, { maxRedirects: 4 });
    try {
      const before = server.seen.length;
      const res = await client.get('/loop');
      assert.equal(res.error?.message, 'too many redirects (max 4)');
      assert.equal(res.status, 302);
      assert.equal(server.seen.length - before, 5);
      assert.equal(events.length, 1);
      assert.equal(events[0]!.error?.message, 'too many redirects (max 4)');
    } finally {
      await client.close();
    }
  });

  it('returns the redirect itself when allowRedirects is false', async () => {
    const { client, events } = makeClient(server.url);
    try {
      const res = await client.get('/relative', { allowRedirects: false });
      assert.equal(res.status, 302);
      assert.equal(res.headers.location, 'final');
      assert.equal(res.text(), 'redirect body');
      assert.equal(res.ok, true);
      assert.equal(events.length, 1);
    } finally {
      await client.close();
    }
  });

  it('returns a 3xx without Location as the final response', async () => {
    const { client } = makeClient(server.url);
    try {
      const res = await client.get('/no-location');
      assert.equal(res.status, 302);
      assert.equal(res.ok, true);
    } finally {
      await client.close();
    }
  });

  it('stores cookies set by a redirect hop and sends them on the next hop', async () => {
    const { client } = makeClient(server.url);
    try {
      const res = await client.get('/set-and-go');
      assert.equal(res.json<{ cookie: string }>().cookie, 'hop=1');
    } finally {
      await client.close();
    }
  });
});
