// Tests of request bodies (as fetch takes them), refused bodies, async and throwing validate.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Events, type UserErrorEvent } from '../../core/events.ts';
import { makeClient, startServer, type TestServer } from './test-server.ts';

describe('HttpClient bodies', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer((_req, res) => res.end('{"items":[1]}'));
  });
  after(() => server.close());
  const last = () => server.seen[server.seen.length - 1]!;

  it('sends URLSearchParams form-urlencoded (regression: recorded as a failed ERR_INVALID_ARG_TYPE that never reached the server)', async () => {
    const { client, events } = makeClient(server.url);
    try {
      const before = server.seen.length;
      const res = await client.post('/form', { body: new URLSearchParams({ q: 'red shoes', page: '2' }) });
      assert.equal(res.error, null);
      assert.equal(server.seen.length, before + 1);
      assert.equal(last().body, 'q=red+shoes&page=2');
      assert.equal(last().headers['content-type'], 'application/x-www-form-urlencoded;charset=UTF-8');
      assert.equal(events.length, 1);
    } finally {
      await client.close();
    }
  });

  it('sends the form option like Locust data=, arrays repeating the key', async () => {
    const { client } = makeClient(server.url);
    try {
      await client.post('/login', { form: { user: 'ann', tag: ['a', 'b'], n: 3, skip: undefined } });
      assert.equal(last().body, 'user=ann&tag=a&tag=b&n=3');
      assert.equal(last().headers['content-type'], 'application/x-www-form-urlencoded;charset=UTF-8');
    } finally {
      await client.close();
    }
  });

  it('sends FormData as multipart with its boundary, files included', async () => {
    const { client } = makeClient(server.url);
    try {
      const form = new FormData();
      form.append('name', 'ann');
      form.append('file', new Blob(['hello file'], { type: 'text/plain' }), 'a.txt');
      await client.post('/upload', { body: form });
      const type = String(last().headers['content-type']);
      const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(type)?.[1];
      assert.ok(boundary, type);
      assert.match(last().body, new RegExp(`--${boundary}\\r\\nContent-Disposition: form-data; name="name"\\r\\n\\r\\nann\\r\\n`));
      assert.match(last().body, /Content-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text\/plain\r\n\r\nhello file\r\n/);
    } finally {
      await client.close();
    }
  });

  it('sends a Blob with its type, a string as text/plain, bytes without a content-type; a content-type set by the user wins', async () => {
    const { client } = makeClient(server.url);
    try {
      await client.post('/blob', { body: new Blob(['{"a":1}'], { type: 'application/json' }) });
      assert.deepEqual([last().body, last().headers['content-type']], ['{"a":1}', 'application/json']);
      await client.post('/text', { body: 'plain' });
      assert.deepEqual([last().body, last().headers['content-type']], ['plain', 'text/plain;charset=UTF-8']);
      await client.post('/bytes', { body: Buffer.from('raw') });
      assert.deepEqual([last().body, last().headers['content-type']], ['raw', undefined]);
      await client.post('/own', { body: 'x=1', headers: { 'Content-Type': 'application/x-custom' } });
      assert.equal(last().headers['content-type'], 'application/x-custom');
    } finally {
      await client.close();
    }
  });

  for (const [label, body] of [['a plain object', { a: 1 }], ['a Map', new Map([['a', 1]])], ['a number', 42]] as const) {
    it(`refuses ${label} as a body with a TypeError before anything is sent or recorded`, async () => {
      const { client, events } = makeClient(server.url);
      try {
        const before = server.seen.length;
        const call = async function callerInTheCicadafile(): Promise<unknown> {
          return client.post('/bad', { body: body as never });
        };
        await assert.rejects(call(), (error: Error) => {
          assert.ok(error instanceof TypeError);
          assert.match(error.message, /cannot send a (plain object|Map|number) as a request body: give a string, Buffer/);
          assert.match(error.stack ?? '', /callerInTheCicadafile/, 'the stack names the calling code');
          return true;
        });
        assert.equal(server.seen.length, before);
        assert.equal(events.length, 0);
      } finally {
        await client.close();
      }
    });
  }

  it('refuses body and form together', async () => {
    const { client } = makeClient(server.url);
    try {
      await assert.rejects(client.post('/x', { body: 'a', form: { b: 1 } }), /give either body or form, not both/);
    } finally {
      await client.close();
    }
  });
});

describe('HttpClient validate', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer((_req, res) => res.end('{"items":[]}'));
  });
  after(() => server.close());

  it('awaits an async validate (regression: every such request failed with a bare "validation failed")', async () => {
    const { client, events } = makeClient(server.url);
    try {
      const pass = await client.get('/cart', { validate: async (res) => res.status === 200 });
      const fail = await client.get('/cart', { validate: async (res) => res.json<{ items: unknown[] }>().items.length > 0 || 'empty cart' });
      assert.equal(pass.error, null);
      assert.equal(fail.error?.message, 'empty cart');
      assert.deepEqual(events.map((e) => e.error?.message ?? null), [null, 'empty cart']);
    } finally {
      await client.close();
    }
  });

  it('a validate that throws or rejects fails the request and is reported as an exception of the script', async () => {
    const bus = new Events();
    const errors: UserErrorEvent[] = [];
    bus.userError.addListener((e) => errors.push(e));
    const owner = { name: 'the user' };
    const { client } = makeClient(server.url, {}, { events: bus, owner });
    try {
      const a = await client.get('/a', { validate: () => { throw new TypeError('res.body is not a function'); } });
      const b = await client.get('/b', { name: 'b', validate: () => Promise.reject(new Error('nope')) });
      assert.equal(a.error?.message, 'validation failed: res.body is not a function');
      assert.equal(b.error?.message, 'validation failed: nope');
      assert.deepEqual(errors.map((e) => [e.task, e.error.message, e.user]), [['validate GET /a', 'res.body is not a function', owner], ['validate GET b', 'nope', owner]]);
    } finally {
      await client.close();
    }
  });
});
