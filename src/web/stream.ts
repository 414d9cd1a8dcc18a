// GET /stream: Server-Sent Events with the live statistics, one `stats` event per interval, history as increments.
import type { FastifyInstance } from 'fastify';
import { HttpError } from './http-error.ts';
import { historyPointJson, statsRequestsJson } from './stats-json.ts';
import type { WebContext } from './server.ts';

/** More open streams than this are refused (each costs a timer and a JSON document per second). */
const MAX_STREAMS = 100;

export function registerStream(app: FastifyInstance, ctx: WebContext): void {
  const { run } = ctx.options;
  const interval = ctx.options.streamIntervalMs ?? 1000;
  const open = new Set<() => void>();

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
      if (session && ctx.sessions.get(session.id) === undefined) {
        res.write('event: expired\ndata: {}\n\n');
        close();
        return;
      }
      const data = run.report();
      // The first event, and the first after a reset (a new run), carry the whole history and say so.
      const reset = data.snapshot.startTime !== startTime;
      if (reset) {
        startTime = data.snapshot.startTime;
        lastTime = -Infinity;
      }
      const history = data.snapshot.history.filter((p) => p.time > lastTime).map(historyPointJson);
      const last = data.snapshot.history.at(-1);
      if (last) lastTime = last.time;
      const body = { ...statsRequestsJson(data, run.runner.targetUserCount, run.workers?.()), history, history_reset: reset };
      res.write(`event: stats\ndata: ${JSON.stringify(body)}\n\n`);
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
