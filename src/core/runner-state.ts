// The runner's explicit state machine: every legal transition is in one table; anything else throws.
import { IllegalStateError } from './errors.ts';

export type RunnerState = 'ready' | 'spawning' | 'running' | 'stopping' | 'stopped' | 'missing';

const transitions: Readonly<Record<RunnerState, readonly RunnerState[]>> = {
  ready: ['spawning', 'stopped', 'missing'],
  // spawning → spawning: the target changed again before the ramp finished.
  spawning: ['spawning', 'running', 'stopping', 'missing'],
  running: ['spawning', 'stopping', 'missing'],
  stopping: ['stopped', 'missing'],
  // stopped → spawning: a new run started from the web UI without restarting the process.
  stopped: ['spawning', 'stopped'],
  // a worker that reappears resumes in the state the master tells it.
  missing: ['ready', 'spawning', 'running', 'stopping', 'stopped'],
};

export function canTransition(from: RunnerState, to: RunnerState): boolean {
  return transitions[from].includes(to);
}

/** Holds a runner's state; `to()` refuses transitions the table does not list. */
export class RunnerStateMachine {
  private current: RunnerState = 'ready';
  private readonly onChange: ((from: RunnerState, to: RunnerState) => void) | undefined;

  constructor(onChange?: (from: RunnerState, to: RunnerState) => void) {
    this.onChange = onChange;
  }

  get state(): RunnerState {
    return this.current;
  }

  to(next: RunnerState): void {
    const from = this.current;
    if (!canTransition(from, next)) throw new IllegalStateError(`runner cannot go from ${from} to ${next}`);
    this.current = next;
    if (from !== next) this.onChange?.(from, next);
  }

  is(...states: RunnerState[]): boolean {
    return states.includes(this.current);
  }
}
