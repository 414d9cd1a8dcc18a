// Logs user errors as they happen (the first of each kind with its cicadafile traceback, repeats as counts).
import path from 'node:path';
import type { Events, UserErrorEvent } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import { ErrorDigest } from '../stats/error-digest.ts';

/** Cicada's own sources: frames from here are not the user's code. */
const CICADA_SRC = path.resolve(import.meta.dirname, '..');

/** The frames of a stack that a cicadafile author can act on (no Node internals, no Cicada internals). */
function userFrames(error: Error): string {
  return (error.stack ?? '')
    .split('\n')
    .slice(1)
    .filter((line) => /^\s+at /.test(line) && !line.includes('node:internal') && !line.includes(CICADA_SRC) && !line.includes('node_modules'))
    .join('\n');
}

function placeOf(event: UserErrorEvent): string {
  const cls = event.user.constructor;
  const owner = cls === Object || cls === undefined ? '' : `${cls.name}.`;
  return `${owner}${event.task}`;
}

/** Attaches the live error log to `events.userError`; the returned function flushes pending counts and detaches. */
export function attachLiveErrors(events: Events, logger: Logger, intervalMs = 1000): () => void {
  const digest = new ErrorDigest({ now: () => performance.now(), sink: (line) => logger.error(line) });
  const detach = events.userError.addListener((event) => digest.report(placeOf(event), event.error, userFrames(event.error)));
  // Counts still pending when the run stops come before its summary.
  const detachStop = events.testStop.addListener(() => digest.flush());
  const timer = setInterval(() => digest.tick(), intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    detach();
    detachStop();
    digest.flush();
  };
}
