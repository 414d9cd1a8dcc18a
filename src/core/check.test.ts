// check(): every named check fires one event, passed or failed, and never throws into the task.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkOn } from './check.ts';
import { Events, type CheckEvent } from './events.ts';

function harness(): { check: ReturnType<typeof checkOn>; seen: CheckEvent[] } {
  const events = new Events();
  const seen: CheckEvent[] = [];
  events.check.addListener((e) => seen.push(e));
  return { check: checkOn(events), seen };
}

describe('check', () => {
  it('counts each check under the value\'s request name and returns whether all passed', () => {
    const { check, seen } = harness();
    assert.equal(check({ name: '/items/[id]', status: 200 }, { 'is 200': (r) => r.status === 200, 'is 201': (r) => r.status === 201 }), false);
    assert.deepEqual(seen, [{ name: 'is 200', request: '/items/[id]', ok: true }, { name: 'is 201', request: '/items/[id]', ok: false }]);
    assert.equal(check({ name: '/x' }, { truthy: () => 'yes', zero: () => 0 }), false);
    assert.deepEqual(seen.slice(2).map((e) => e.ok), [true, false]);
  });

  it('takes the request name from { name } for values without one (a custom protocol\'s reply, a number)', () => {
    const { check, seen } = harness();
    assert.equal(check(42, { positive: (n) => n > 0 }, { name: 'get_user' }), true);
    assert.equal(check('text', { short: (t) => t.length < 10 }), true);
    assert.deepEqual(seen.map((e) => [e.request, e.ok]), [['get_user', true], ['', true]]);
  });

  it('counts a throwing check as failed with its message, and goes on with the next', () => {
    const { check, seen } = harness();
    const all = check({ name: '/a', body: null as { id?: number } | null }, { 'has an id': (r) => r.body!.id === 1, 'still runs': () => true });
    assert.equal(all, false);
    assert.equal(seen[0]?.ok, false);
    assert.match(seen[0]?.error ?? '', /^TypeError: Cannot read properties of null/);
    assert.equal(seen[1]?.ok, true);
  });

  it('fails a check that returns a promise, saying checks must be synchronous (a promise is always truthy)', async () => {
    const { check, seen } = harness();
    assert.equal(check({ name: '/a' }, { async: () => Promise.reject(new Error('later')) }), false);
    assert.match(seen[0]?.error ?? '', /checks must be synchronous/);
    await new Promise((resolve) => setImmediate(resolve)); // the rejected promise is handled: no unhandled rejection
  });
});
