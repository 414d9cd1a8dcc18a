import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StopTest } from './control-flow.ts';
import { Events, setListenerErrorHandler, type RequestEvent } from './events.ts';

const request: RequestEvent = { requestType: 'GET', name: '/fail', responseTime: 1, responseLength: 0, error: new Error('HTTP 500'), startTime: 0 };

describe('EventHook.fire', () => {
  it('StopTest thrown from a request listener still lets later listeners count the request (regression: Cicada counted 4 of 5)', () => {
    const events = new Events((error) => error instanceof StopTest);
    let failures = 0;
    events.request.addListener((r) => {
      if (r.error !== null && ++failures === 5) throw new StopTest('five failures');
    });
    let counted = 0;
    events.request.addListener(() => counted++);
    for (let i = 0; i < 4; i++) events.request.fire(request);
    assert.throws(() => events.request.fire(request), StopTest);
    assert.equal(counted, 5);
  });

  it('throws the first control-flow error once, after every listener ran', () => {
    const events = new Events((error) => error instanceof StopTest);
    const calls: string[] = [];
    events.request.addListener(() => { calls.push('a'); throw new StopTest('first'); });
    events.request.addListener(() => { calls.push('b'); throw new StopTest('second'); });
    events.request.addListener(() => calls.push('c'));
    assert.throws(() => events.request.fire(request), { message: 'first' });
    assert.deepEqual(calls, ['a', 'b', 'c']);
  });

  it('reports other listener errors and carries on', () => {
    const events = new Events((error) => error instanceof StopTest);
    let after = 0;
    events.userError.addListener(() => { throw new Error('listener bug'); });
    events.userError.addListener(() => after++);
    const reported: string[] = [];
    setListenerErrorHandler((error, event) => reported.push(`${event}: ${String(error)}`));
    try {
      events.userError.fire({ user: {}, error: new Error('x'), task: 't' });
    } finally {
      setListenerErrorHandler(() => {});
    }
    assert.equal(after, 1);
    assert.deepEqual(reported, ['userError: Error: listener bug']);
  });
});
