// Tests of the HTTP client at a stop: requests on the wire are cut by the cancel signal and recorded as `cancelled at stop`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UserStopped } from '../../core/control-flow.ts';
import { InFlight } from '../../core/in-flight.ts';
import { makeClient, startServer, type TestServer } from './test-server.ts';

describe('HttpClient at a stop', () => {
  let server: TestServer;
  before(async () => {
    // /hang never answers; /redirect sends to /hang; anything else answers at once.
    server = await startServer((req, res) => {
      if (req.url === '/hang') return;
      if (req.url === '/redirect') {
        res.statusCode = 302;
        res.setHeader('location', '/hang');
      }
      res.end('ok');
    });
  });
  after(() => server.close());

  const hangs = (): number => server.seen.filter((r) => r.url === '/hang').length;

  function stoppable() {
    const inFlight = new InFlight();
    const cancel = new AbortController();
    const made = makeClient(server.url, { timeoutMs: 600_000 }, { cancelSignal: cancel.signal, inFlight });
    return { ...made, inFlight, cancel };
  }

  it('cuts a request that never answers when the cancel signal aborts, recording it as failed: cancelled at stop', async () => {
    const { client, events, inFlight, cancel } = stoppable();
    try {
      const pending = client.get('/hang');
      while (hangs() === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(inFlight.count, 1);
      cancel.abort();
      const res = await pending;
      assert.equal(res.error?.message, 'cancelled at stop');
      assert.equal(res.error?.code, 'CANCELLED_AT_STOP');
      assert.deepEqual(events.map((e) => [e.name, e.error?.message]), [['/hang', 'cancelled at stop']]);
      assert.equal(inFlight.count, 0);
    } finally {
      await client.close();
    }
  });

  it('cuts every concurrent request of the client, the one queued behind the first too', async () => {
    const { client, events, inFlight, cancel } = stoppable();
    try {
      const seenBefore = hangs();
      const all = Promise.all([client.get('/hang', { name: 'one' }), client.get('/hang', { name: 'queued' })]);
      while (hangs() < seenBefore + 1) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(inFlight.count, 2);
      cancel.abort();
      const results = await all;
      assert.deepEqual(results.map((r) => r.error?.message), ['cancelled at stop', 'cancelled at stop']);
      assert.deepEqual(events.map((e) => e.name).sort(), ['one', 'queued']);
      assert.equal(inFlight.count, 0);
    } finally {
      await client.close();
    }
  });

  it('cuts the hop of a redirect chain, recorded once under the request name', async () => {
    const { client, events, cancel } = stoppable();
    try {
      const seenBefore = hangs();
      const pending = client.get('/redirect', { name: 'chain' });
      while (hangs() < seenBefore + 1) await new Promise((resolve) => setTimeout(resolve, 5));
      cancel.abort();
      assert.equal((await pending).error?.message, 'cancelled at stop');
      assert.deepEqual(events.map((e) => [e.name, e.error?.message]), [['chain', 'cancelled at stop']]);
    } finally {
      await client.close();
    }
  });

  it('counts a request in flight until it is recorded, also when it fails', async () => {
    const { client, inFlight } = stoppable();
    try {
      const pending = client.get('/fine');
      assert.equal(inFlight.count, 1);
      assert.equal((await pending).error, null);
      assert.equal(inFlight.count, 0);
      await client.get('http://127.0.0.1:1/refused');
      assert.equal(inFlight.count, 0);
    } finally {
      await client.close();
    }
  });

  it('sends no request once the stop signal aborted', async () => {
    const { client, controller, events, inFlight } = stoppable();
    try {
      controller.abort();
      await assert.rejects(client.get('/fine'), UserStopped);
      assert.equal(events.length, 0);
      assert.equal(inFlight.count, 0);
    } finally {
      await client.close();
    }
  });
});
