// Tests of HttpUser: where its host comes from, clear errors without one, context and close.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultClientDefaults, type Environment } from '../../core/environment.ts';
import { DefinitionError } from '../../core/errors.ts';
import { Events, type RequestEvent } from '../../core/events.ts';
import { silentLogger } from '../../core/logger.ts';
import type { UserContext } from '../../core/user.ts';
import { HttpUser } from './http-user.ts';
import { startServer, type TestServer } from './test-server.ts';

function contextFor(host: string | undefined): { context: UserContext; events: RequestEvent[] } {
  const bus = new Events();
  const events: RequestEvent[] = [];
  bus.request.addListener((e) => events.push(e));
  const environment: Environment = {
    events: bus,
    host,
    logger: silentLogger,
    clientDefaults: defaultClientDefaults,
    parsedOptions: {},
    runner: undefined,
  };
  return { context: { environment, signal: new AbortController().signal, id: 1 }, events };
}

describe('HttpUser', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer((req, res) => res.end(`hello ${req.url ?? ''}`));
  });
  after(() => server.close());

  it('is an abstract base class that subclasses are not', () => {
    class Shopper extends HttpUser {}
    assert.equal(Object.hasOwn(HttpUser, 'abstract') && HttpUser.abstract, true);
    assert.equal(Object.hasOwn(Shopper, 'abstract'), false);
  });

  it('sends requests to the -H host, over the static host', async () => {
    class Shopper extends HttpUser {
      static override host = 'http://127.0.0.1:1';
    }
    const { context, events } = contextFor(server.url);
    const user = new Shopper(context);
    try {
      const res = await user.client.get('/a');
      assert.equal(res.text(), 'hello /a');
      assert.equal(events.length, 1);
    } finally {
      await user.close();
    }
  });

  it('falls back to the static host', async () => {
    const url = server.url;
    class Shopper extends HttpUser {
      static override host = url;
    }
    const user = new Shopper(contextFor(undefined).context);
    try {
      assert.equal((await user.client.get('/b')).text(), 'hello /b');
    } finally {
      await user.close();
    }
  });

  it('throws a DefinitionError naming the class when there is no host', () => {
    class Shopper extends HttpUser {}
    assert.throws(() => new Shopper(contextFor(undefined).context), (error: unknown) => {
      assert.ok(error instanceof DefinitionError);
      assert.equal(error.message, 'no host: pass -H/--host or set static host on Shopper');
      return true;
    });
  });

  it('throws a DefinitionError for a host that is not an http(s) URL', () => {
    class Shopper extends HttpUser {}
    assert.throws(() => new Shopper(contextFor('ftp://example.test').context), DefinitionError);
    assert.throws(() => new Shopper(contextFor('localhost:8080/x y').context), DefinitionError);
  });

  it('merges the user context() into every request event', async () => {
    class Shopper extends HttpUser {
      override context(): Record<string, unknown> {
        return { userId: this.id };
      }
    }
    const { context, events } = contextFor(server.url);
    const user = new Shopper(context);
    try {
      await user.client.get('/c');
      assert.deepEqual(events[0]!.context, { userId: 1 });
    } finally {
      await user.close();
    }
  });

  it('closes its client so later requests fail with "client closed"', async () => {
    class Shopper extends HttpUser {}
    const user = new Shopper(contextFor(server.url).context);
    await user.client.get('/d');
    await user.close();
    assert.equal((await user.client.get('/d')).error?.message, 'client closed');
  });
});
