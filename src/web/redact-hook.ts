// Masks secrets in every response body the web server sends: the API's JSON, the HTML report, CSV downloads, /metrics, errors.
import type { FastifyInstance } from 'fastify';
import { redact } from '../core/secrets.ts';

/**
 * Buffer bodies that carry data. The built UI's own files (its page, scripts, styles, fonts, images)
 * are Buffers too, but were made at build time, hold nothing of a run, and must not be touched: a short
 * secret that happens to occur in a script would break it.
 */
const DATA_TYPES = /^(?:application\/json|application\/openmetrics-text|text\/plain|text\/csv|text\/event-stream)\b/i;

/**
 * Adds an onSend hook: string bodies (everything fastify serialises, and every string a route sends) and
 * data Buffers get registered secrets and URL passwords masked as `***`. One place for every route, so a
 * new route cannot forget it. Streams pass untouched (none carries run data: /stream is hijacked and masks
 * its own events). Register it on the root instance before the routes.
 */
export function redactResponses(app: FastifyInstance): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (typeof payload === 'string') {
      done(null, redact(payload));
      return;
    }
    if (Buffer.isBuffer(payload) && DATA_TYPES.test(String(reply.getHeader('content-type') ?? ''))) {
      const text = payload.toString('utf8');
      const masked = redact(text);
      done(null, masked === text ? payload : masked);
      return;
    }
    done(null, payload);
  });
}
