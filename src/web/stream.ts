// GET /stream: Server-Sent Events with the live statistics, thresholds and checks, one `stats` event per interval, history as increments.
import type { FastifyInstance } from 'fastify';
import { redact } from '../core/secrets.ts';
import { HttpError } from './http-error.ts';
import type { ReportData } from '../exporters/report-data.ts';
import type { HistoryPoint } from '../stats/types.ts';
import { streamGatesJson } from './gates-json.ts';
import { historyPointJson, statsRequestsJson } from './stats-json.ts';
import type { WebContext } from './context.ts';

/** More open streams than this are refused (each costs a timer and a JSON document per second). */
const MAX_STREAMS = 100;

/** The points newer than `time` (history is in time order: found from the end, not by scanning hours of it). */
function pointsAfter(history: readonly HistoryPoint[], time: number): HistoryPoint[] {
  let i = history.length;
  while (i > 0 && history[i - 1]!.time > time) i--;
  return history.slice(i);
}

export function registerStream(app: FastifyInstance, ctx: WebContext): void {
  const { run } = ctx.options;
  const interval = ctx.options.streamIntervalMs ?? 1000;
  const open = new Set<() => void>();
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
    if (open.size >= MAX_STREAMS) throw new HttpError(503, 'too many live streams are open; close some browser tabs');
    const session = request.session;
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
      clearInterval(timer);
      open.delete(close);
      res.end();
    };
    open.add(close);
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
