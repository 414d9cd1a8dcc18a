// Runs every task of the example cicadafiles once against the demo target: each request must
// succeed, and the target's counts must match the request events the client fired.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultClientDefaults, type Environment } from '../core/environment.ts';
import { Events, type RequestEvent } from '../core/events.ts';
import { silentLogger } from '../core/logger.ts';
import type { UserContext } from '../core/user.ts';
import { startDemoTarget, type DemoTarget } from './target-server.ts';
import { Browser, Buyer, Monitor } from '../../examples/cicadafile.ts';
import { Shopper } from '../../examples/taskset.ts';
import { Visitor, Steps } from '../../examples/load-shape.ts';
import { Tagged } from '../../examples/tagged.ts';

interface Harness {
  target: DemoTarget;
  context: UserContext;
  seen: RequestEvent[];
}

async function withHarness(fn: (h: Harness) => Promise<void>): Promise<void> {
  const target = await startDemoTarget({ latencyScale: 0, errorRate: 0, seed: 1 });
  const events = new Events();
  const seen: RequestEvent[] = [];
  events.request.addListener((r) => seen.push(r));
  const environment: Environment = {
    events,
    host: target.url,
    logger: silentLogger,
    clientDefaults: { ...defaultClientDefaults, timeoutMs: 5000 },
    parsedOptions: {},
    runner: undefined,
  };
  const controller = new AbortController();
  try {
    await fn({ target, context: { environment, signal: controller.signal, id: 1 }, seen });
    // Every request the target saw was reported, under the same method and name.
    const reported: Record<string, number> = {};
    for (const r of seen) reported[`${r.requestType} ${r.name}`] = (reported[`${r.requestType} ${r.name}`] ?? 0) + 1;
    assert.deepEqual(target.counts(), reported);
    const failed = seen.filter((r) => r.error !== null && r.name !== '/flaky');
    assert.deepEqual(failed.map((r) => `${r.name}: ${r.error?.message}`), []);
  } finally {
    controller.abort();
    await target.close();
  }
}

/** Calls the named methods on `owner`, in order. */
async function run(owner: object, names: string[]): Promise<void> {
  for (const name of names) {
    const method = (owner as Record<string, unknown>)[name];
    assert.equal(typeof method, 'function', `${owner.constructor.name}.${name} exists`);
    await (method as () => Promise<void>).call(owner);
  }
}

describe('example cicadafiles against the demo target', { timeout: 20_000 }, () => {
  it('cicadafile.ts: every task of Browser, Buyer and Monitor succeeds', () =>
    withHarness(async ({ context, target }) => {
      const browser = new Browser(context);
      const buyer = new Buyer(context);
      const monitor = new Monitor(context);
      try {
        await run(browser, ['home', 'listItems', 'viewItem', 'search', 'slowPage']);
        await buyer.onStart();
        await run(buyer, ['viewItem', 'account', 'buy']);
        await run(monitor, ['health', 'flaky']);
        assert.equal(target.counts()['POST /checkout'], 1, 'buy() went through to checkout');
      } finally {
        await Promise.all([browser.close(), buyer.close(), monitor.close()]);
      }
    }));

  it('taskset.ts: Browse and Checkout tasks succeed', () =>
    withHarness(async ({ context }) => {
      const shopper = new Shopper(context);
      try {
        await shopper.onStart();
        const spec = Shopper.tasks as readonly unknown[];
        const Browse = (spec[0] as readonly [new (parent: Shopper) => object, number])[0];
        const Checkout = spec[1] as new (parent: Shopper) => object;
        await run(new Browse(shopper), ['viewItem', 'nextPage']);
        await run(new Checkout(shopper), ['chooseItem', 'addToCart', 'pay']);
      } finally {
        await shopper.close();
      }
    }));

  it('tagged.ts and load-shape.ts: every task succeeds', () =>
    withHarness(async ({ context }) => {
      const tagged = new Tagged(context);
      const visitor = new Visitor(context);
      try {
        await run(tagged, ['viewItem', 'listItems', 'search', 'addToCart', 'checkout', 'slowPage', 'health']);
        await run(visitor, ['viewItem', 'listItems']);
      } finally {
        await Promise.all([tagged.close(), visitor.close()]);
      }
    }));

  it('load-shape.ts: steps up, down, then stops after 20 s', () => {
    const shape = new Steps();
    let now = 0;
    shape.attach({} as never, () => now);
    const at = (seconds: number): unknown => {
      now = seconds * 1000;
      return shape.tick();
    };
    assert.deepEqual(at(0), { users: 5, spawnRate: 5 });
    assert.deepEqual(at(7), { users: 10, spawnRate: 5 });
    assert.deepEqual(at(12), { users: 20, spawnRate: 10 });
    assert.deepEqual(at(19.9), { users: 5, spawnRate: 10 });
    assert.equal(at(20), null);
  });
});
