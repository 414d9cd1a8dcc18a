// What the master knows of its workers: the link to each, what it last heard (and refused), and the timing that decides a worker is missing.
import type { Events } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import { printable } from '../core/printable.ts';
import type { RunnerState } from '../core/runner-state.ts';
import type { ClusterStats, UpdateResult } from '../stats/cluster-stats.ts';
import { checkHeartbeat, checkUsers, type ReportViolation } from '../stats/report-checks.ts';
import { snapshotOf, type MasterMessage, type WorkerMessage } from './messages.ts';

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
  /** Refused reports and heartbeats: when the last line about them was logged (master clock, ms), and how many since. */
  refusals: { loggedAt: number; unlogged: number };
}

/** At most one line per worker per this many ms about what it sent that was refused (ms). */
export const REFUSAL_LOG_INTERVAL_MS = 60_000;

/**
 * The log line for a refused report or heartbeat, or undefined when this worker already had one within the last
 * REFUSAL_LOG_INTERVAL_MS: a worker that sends nothing but impossible numbers costs one line a minute, not one a second.
 * The record's rate limit survives reconnects (the record does), so reconnecting does not buy more lines.
 */
export function refusalLine(w: WorkerRecord, what: 'report' | 'heartbeat', violation: ReportViolation, now: number): string | undefined {
  const r = w.refusals;
  if (now - r.loggedAt < REFUSAL_LOG_INTERVAL_MS) {
    r.unlogged++;
    return undefined;
  }
  const more = r.unlogged > 0 ? ` (${r.unlogged} more refused since the last line)` : '';
  r.loggedAt = now;
  r.unlogged = 0;
  const kept = what === 'report' ? 'its previous report stays in the totals' : 'its previous numbers stay';
  return `refused a ${what} from worker ${printable(w.id, 128)} (rule '${violation.rule}'): ${printable(violation.detail, 500)}; ${kept}${more}`;
}

/** A logger whose every line is printable(): collaborators of the master put worker ids and peer names in theirs. */
export function printableLogger(logger: Logger): Logger {
  return {
    debug: (m) => logger.debug(printable(m, 2000)),
    info: (m) => logger.info(printable(m, 2000)),
    warning: (m) => logger.warning(printable(m, 2000)),
    error: (m) => logger.error(printable(m, 2000)),
  };
}

/** What taking a worker's messages needs from the master. */
export interface ReportContext {
  stats: ClusterStats;
  logger: Logger;
  events: Events;
  /** The master's clock, ms. */
  now: number;
}

function logRefusal(w: WorkerRecord, what: 'report' | 'heartbeat', violation: ReportViolation, context: ReportContext): void {
  const line = refusalLine(w, what, violation, context.now);
  if (line !== undefined) context.logger.warning(line);
}

/** Takes a heartbeat's numbers into the record; impossible ones (report-checks.ts) change nothing. Returns whether it was taken. */
export function takeHeartbeat(w: WorkerRecord, message: Extract<WorkerMessage, { type: 'heartbeat' }>, context: ReportContext): boolean {
  const violation = checkHeartbeat(message);
  if (violation !== undefined) {
    logRefusal(w, 'heartbeat', violation, context);
    return false;
  }
  w.state = message.state;
  w.userCount = message.userCount;
  w.cpu = message.cpu;
  w.memory = message.memory;
  return true;
}

/**
 * Takes a stats report: it counts only when every number in it is possible (report-checks.ts). A refused one
 * changes nothing, its user counts included, and is not acknowledged: there is no message to tell a worker why
 * (a new one would need a protocol version), and closing the link would not help, as a worker reconnects under
 * the same id and carries on, while an honest worker's next (cumulative) report still counts in full once it is
 * possible again. A worker whose final report is refused waits out its ack timeout and says so.
 */
export function takeReport(w: WorkerRecord, message: Extract<WorkerMessage, { type: 'stats' }>, context: ReportContext): void {
  const { stats, logger } = context;
  let result: UpdateResult;
  try {
    const users = checkUsers(message.userCount, message.classes);
    result = users !== undefined ? { status: 'refused', violation: users } : stats.update(w.id, message.epoch, message.seq, snapshotOf(message));
  } catch (error) {
    // Only a bug gets here (every check runs before any sum changes); the master goes on.
    logger.warning(`ignored a malformed report from worker ${printable(w.id, 128)}: ${printable(error instanceof Error ? error.message : String(error))}`);
    return;
  }
  if (result.status === 'refused') {
    logRefusal(w, 'report', result.violation, context);
    return;
  }
  w.userCount = message.userCount;
  w.classes = message.classes;
  if (result.status === 'applied' && result.overflowName !== undefined) {
    logger.warning(`more than ${stats.maxNames} distinct request names across the workers; '${printable(result.overflowName, 200)}' (from worker ${printable(w.id, 128)}) ` +
      "and later new names are grouped as '(other)'. Use the name option to group dynamic URLs");
  }
  if (message.final) w.link?.send({ type: 'ack', seq: message.seq });
  context.events.workerReport.fire({ clientId: w.id, data: { userCount: message.userCount } });
}
