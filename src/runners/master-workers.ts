// What the master knows of its workers: the link to each, what it last heard, and the timing that decides a worker is missing.
import type { RunnerState } from '../core/runner-state.ts';
import type { MasterMessage } from './messages.ts';

/** Where the master's messages to one worker go. */
export interface WorkerLink {
  send(message: MasterMessage): boolean;
}

export interface MasterTiming {
  heartbeatIntervalMs: number;
  /** Heartbeats a worker may miss before it is marked missing (Locust: 3). */
  heartbeatLiveness: number;
  /**
   * After a stop, how long past the stop timeout and the drain to wait for workers to confirm it
   * (they cut their requests at the end of the drain, and need a moment and a report interval more).
   */
  stopWaitMs: number;
}

export const defaultMasterTiming: MasterTiming = { heartbeatIntervalMs: 1000, heartbeatLiveness: 3, stopWaitMs: 3000 };

/** What the master knows of one worker. */
export interface WorkerInfo {
  id: string;
  state: RunnerState;
  userCount: number;
  cpu: number;
  memory: number;
  missing: boolean;
  connected: boolean;
}

/** The master's record of one worker. */
export interface WorkerRecord extends WorkerInfo {
  link: WorkerLink | undefined;
  lastHeard: number;
  /** Per-class users the worker last reported (all its scenarios). */
  classes: Record<string, number>;
  stoppedEpoch: number;
}
