import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IllegalStateError } from './errors.ts';
import { RunnerStateMachine } from './runner-state.ts';

describe('runner state machine', () => {
  it('walks ready → spawning → running → stopping → stopped and restarts', () => {
    const seen: string[] = [];
    const m = new RunnerStateMachine((from, to) => seen.push(`${from}>${to}`));
    for (const s of ['spawning', 'running', 'stopping', 'stopped', 'spawning'] as const) m.to(s);
    assert.deepEqual(seen, ['ready>spawning', 'spawning>running', 'running>stopping', 'stopping>stopped', 'stopped>spawning']);
  });

  it('throws on an illegal transition and keeps its state', () => {
    const m = new RunnerStateMachine();
    assert.throws(() => m.to('running'), IllegalStateError);
    assert.equal(m.state, 'ready');
  });
});
