// GET /stream: Server-Sent Events with the live statistics, thresholds and checks, one `stats` event per interval, history as increments.
import type { FastifyInstance } from 'fastify';
import { redact } from '../core/secrets.ts';
import { HttpError } from './http-error.ts';
import type { ReportData } from '../exporters/report-data.ts';
import type { HistoryPoint } from '../stats/types.ts';
import { streamGatesJson } from './gates-json.ts';
import { historyPointJson, statsRequestsJson } from './stats-json.ts';
import type { WebContext } from './context.ts';

/**
 * More open streams than this are refused (each costs a connection, a timer and a JSON document per second).
 * A browser opens at most 6 connections to one host, so 10 per session is more tabs than one person reads.
 */
export const DEFAULT_STREAM_LIMITS = { total: 100, perSession: 10 } as const;
/** What a refused stream's Retry-After says (s): long enough for a closed tab's stream to have ended. */
const RETRY_AFTER_S = 5;

/** The points newer than `time` (history is in time order: found from the end, not by scanning hours of it). */
function pointsAfter(history: readonly HistoryPoint[], time: number): HistoryPoint[] {
  let i = history.length;
  while (i > 0 && history[i - 1]!.time > time) i--;
  return history.slice(i);
}

export function registerStream(app: FastifyInstance, ctx: WebContext): void {
  const { run } = ctx.options;
  const interval = ctx.options.streamIntervalMs ?? 1000;
  const limits = ctx.options.streamLimits ?? DEFAULT_STREAM_LIMITS;
  const open = new Set<() => void>();
  /** Open streams per session (per client address when there is no session: auth mode none without a cookie). */
  const perOwner = new Map<string, number>();
  // Built once per interval, whoever asks first: each open stream adds only its own history increment.
  let shared: { at: number; data: ReportData; statsText: string } | undefined;
  const current = (): { data: ReportData; statsText: string } => {
    const now = Date.now();
    if (!shared || now - shared.at >= interval / 2) {
      const data = run.report();
      // /stats/requests' object plus the thresholds and checks, so that the UI's gates are as live as its table.
      const event = { ...statsRequestsJson(data, ctx.live.inputsFor(data, run)), ...streamGatesJson(data) };
      // Masked once per interval for every stream (a hijacked response passes no onSend hook); the per-stream
      // history increments appended below are numbers only.
      shared = { at: now, data, statsText: redact(JSON.stringify(event)) };
    }
    return shared;
  };

  // No HEAD twin: a hijacked stream cannot answer without a body.
  app.get('/stream', { exposeHeadRoute: false, config: { access: 'viewer' } }, (request, reply) => {
    const session = request.session;
    const owner = session ? `session ${session.id}` : `address ${request.ip}`;
    const owned = perOwner.get(owner) ?? 0;
    if (owned >= limits.perSession || open.size >= limits.total) {
      reply.header('retry-after', RETRY_AFTER_S);
      throw new HttpError(503, owned >= limits.perSession
        ? `${limits.perSession} live streams are open for this ${session ? 'session' : 'address'} (the most it may have): close a browser tab showing Cicada, or wait for one to end`
        : `${limits.total} live streams are open in all (the most this server serves): close some browser tabs, or try again in a few seconds`);
    }
    // The security headers were set on the raw response by the onRequest hooks; hijacking keeps them.
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let lastTime = -Infinity;
    let startTime: number | undefined;
    const send = (): void => {
      // A session that expired or logged out ends its stream too.
      if (session && ctx.sessions.get(session.id, false) === undefined) {
        res.write('event: expired\ndata: {}\n\n');
        close();
        return;
      }
      const { data, statsText } = current();
      // The first event, and the first after a reset (a new run), carry the whole history and say so.
      const reset = data.snapshot.startTime !== startTime;
      if (reset) {
        startTime = data.snapshot.startTime;
        lastTime = -Infinity;
      }
      const history = pointsAfter(data.snapshot.history, lastTime).map(historyPointJson);
      const last = data.snapshot.history.at(-1);
      if (last) lastTime = last.time;
      // The shared stats object with this stream's two fields appended.
      res.write(`event: stats\ndata: ${statsText.slice(0, -1)},"history":${JSON.stringify(history)},"history_reset":${String(reset)}}\n\n`);
    };
    const timer = setInterval(send, interval);
    const close = (): void => {
      if (!open.delete(close)) return;
      clearInterval(timer);
      const left = (perOwner.get(owner) ?? 1) - 1;
      if (left === 0) perOwner.delete(owner);
      else perOwner.set(owner, left);
      res.end();
    };
    open.add(close);
    perOwner.set(owner, owned + 1);
    request.raw.on('close', close);
    res.write('retry: 2000\n\n');
    send();
  });

  // preClose, not onClose: the server only finishes closing once these long-lived responses have ended.
  app.addHook('preClose', (done) => {
    for (const close of [...open]) close();
    done();
  });
}
