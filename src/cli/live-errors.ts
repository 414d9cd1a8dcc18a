// Logs user errors as they happen (the first of each kind with its cicadafile traceback, repeats as counts).
import path from 'node:path';
import type { Events, UserErrorEvent } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import { ErrorDigest } from '../stats/error-digest.ts';

/** Cicada's own sources: frames from here are not the user's code. */
const CICADA_SRC = path.resolve(import.meta.dirname, '..');

/**
 * The frames of a stack that a cicadafile author can act on (no Node internals, no Cicada internals, no packages).
 * An error raised wholly outside the cicadafile (in a package, or in Cicada for a bad argument) keeps its
 * other frames rather than none: they still say where it came from.
 */
function userFrames(error: Error): string {
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line) && !line.includes('node:internal'));
  const own = frames.filter((line) => !line.includes(CICADA_SRC) && !line.includes('node_modules'));
  return (own.length > 0 ? own : frames).join('\n');
}

function placeOf(event: UserErrorEvent): string {
  const cls = event.user.constructor;
  const owner = cls === Object || cls === undefined ? '' : `${cls.name}.`;
  return `${owner}${event.task}`;
}

/**
 * Attaches the live error log to `events.userError`. Stacks name the cicadafile's lines because the bundle carries an
 * inline source map and the `cicada` bin's tsx registration turns source maps on before the cicadafile is imported.
 * The returned function flushes pending counts and detaches.
 */
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
