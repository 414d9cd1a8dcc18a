// Locust's REST API: run control (POST only), statistics, and downloads with server-chosen file names.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { UsageError } from '../core/errors.ts';
import { exceptionsCsv, failuresCsv, historyHeader, historyRows, statsCsv } from '../exporters/csv.ts';
import { htmlReport } from '../exporters/html.ts';
import { PERCENTILES_TO_REPORT } from '../stats/types.ts';
import { checksJson, thresholdsJson } from './gates-json.ts';
import { HttpError } from './http-error.ts';
import { historyPointJson, statsRequestsJson } from './stats-json.ts';
import { parseSwarm } from './swarm-input.ts';
import type { WebContext } from './context.ts';

/** A self-contained report may style itself but run nothing (the report carries the same policy in a meta tag). */
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/** The scenario a start request runs as (k6's name; the runners' DEFAULT_SCENARIO, which web may not import). */
const DEFAULT_SCENARIO = 'default';

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
}

function attachment(reply: FastifyReply, file: string, type: string, body: string): FastifyReply {
  return reply.type(type).header('content-disposition', `attachment; filename="${file}"`).header('cache-control', 'no-store').send(body);
}

export function registerApi(app: FastifyInstance, ctx: WebContext): void {
  const { run, logger } = ctx.options;
  const { runner, facts } = run;
  const operator = { access: 'operator' as const };
  const viewer = { access: 'viewer' as const };
  const admin = { access: 'admin' as const };

  // A host given once (by -H or an earlier /swarm) stays the run's host.
  let hostKnown = facts.hostRequired !== true;
  // The scenarios the start form offers: the declared ones, when this run can start them.
  const declared = (): NonNullable<typeof facts.scenarios> => (run.startScenarios !== undefined ? (facts.scenarios ?? []) : []);
  app.post('/swarm', { config: operator }, (request) => {
    const input = parseSwarm(request.body, { classes: facts.userClasses, hasShape: facts.shapeClass !== null, hostKnown, scenarios: declared().map((s) => s.name) });
    const who = request.session?.user ?? 'local';
    try {
      switch (input.kind) {
        case 'shape':
          runner.startShape(input.runTime);
          ctx.live.started = new Map();
          logger.info(`web: ${who} started the LoadShape ${facts.shapeClass ?? ''}`);
          return { success: true, message: `Swarming started using shape class '${facts.shapeClass ?? ''}'` };
        case 'scenarios': {
          run.startScenarios?.(input.names, input.runTime);
          const chosen = input.names.length === 0 ? declared() : declared().filter((s) => input.names.includes(s.name));
          ctx.live.started = new Map(chosen.map((s) => [s.name, s.executor]));
          logger.info(`web: ${who} started the scenarios ${chosen.map((s) => s.name).join(', ')}`);
          return {
            success: true,
            message: 'Swarming started',
            host: facts.host,
            scenarios: chosen.map((s) => s.name),
            ...(input.runTime !== undefined ? { run_time: input.runTime } : {}),
          };
        }
        case 'arrival':
        case 'users':
          runner.start(input.request);
          // An arrival rate runs as the `default` scenario (a user count records no iterations).
          ctx.live.started = new Map(input.kind === 'arrival' ? [[DEFAULT_SCENARIO, 'constant-arrival-rate']] : []);
          break;
      }
    } catch (error) {
      // The runner refuses what its state does not allow (e.g. while stopping): the request was fine, the moment not.
      if (error instanceof UsageError) throw new HttpError(409, error.message);
      throw error;
    }
    const { request: r } = input;
    if (r.host !== undefined) hostKnown = true;
    const load = r.arrivalRate !== undefined ? `${r.arrivalRate} iterations/s${r.maxUsers !== undefined ? ` (at most ${r.maxUsers} users)` : ''}` : `${r.userCount} users at ${r.spawnRate}/s`;
    logger.info(`web: ${who} set ${load}${r.host ? ` on ${r.host}` : ''}`);
    return {
      success: true,
      message: 'Swarming started',
      host: r.host ?? facts.host,
      ...(r.arrivalRate !== undefined ? { arrival_rate: r.arrivalRate } : {}),
      ...(r.maxUsers !== undefined ? { max_users: r.maxUsers } : {}),
      ...(r.runTime !== undefined ? { run_time: r.runTime } : {}),
      ...(r.userClasses !== undefined ? { user_classes: r.userClasses } : {}),
    };
  });

  app.post('/stop', { config: operator }, async (request) => {
    logger.info(`web: ${request.session?.user ?? 'local'} stopped the run`);
    await runner.stop();
    return { success: true, message: 'Test stopped' };
  });

  app.post('/stats/reset', { config: admin }, (request, reply) => {
    runner.resetStats();
    logger.info(`web: ${request.session?.user ?? 'local'} reset the statistics`);
    return reply.type('text/plain; charset=utf-8').send('ok');
  });

  app.get('/config', { config: viewer }, () => ({
    user_classes: facts.userClasses,
    shape_class: facts.shapeClass,
    host: facts.host,
    users: facts.users,
    spawn_rate: facts.spawnRate,
    run_time: facts.runTime,
    distributed: facts.distributed,
    version: facts.version,
    percentiles: [...PERCENTILES_TO_REPORT],
    scenarios: declared(),
  }));

  app.get('/stats/requests', { config: viewer }, () => {
    const data = run.report();
    return statsRequestsJson(data, ctx.live.inputsFor(data, run));
  });

  // The thresholds as evaluated now, and the checks' counts (the stream carries both every second too).
  app.get('/stats/thresholds', { config: viewer }, () => thresholdsJson(run.report()));
  app.get('/stats/checks', { config: viewer }, () => checksJson(run.report()));

  app.get('/stats/history', { config: viewer }, () => ({ history: runner.snapshot().history.map(historyPointJson) }));

  app.get('/exceptions', { config: viewer }, () => ({
    exceptions: runner.snapshot().exceptions.map((e) => ({ count: e.count, msg: e.msg, traceback: e.traceback, nodes: e.nodes.join(', ') })),
  }));

  app.get('/tasks', { config: viewer }, () => {
    const ratios = run.report().meta.taskRatios;
    return { per_class: ratios?.perClass ?? {}, total: ratios?.total ?? {} };
  });

  app.get('/worker-count', { config: viewer }, () => ({ worker_count: run.workers?.().filter((w) => !w.missing).length ?? 0 }));

  app.get('/stats/requests/csv', { config: admin }, (_req, reply) => attachment(reply, `requests_${stamp()}.csv`, 'text/csv; charset=utf-8', statsCsv(run.report())));
  app.get('/stats/failures/csv', { config: admin }, (_req, reply) => attachment(reply, `failures_${stamp()}.csv`, 'text/csv; charset=utf-8', failuresCsv(run.report())));
  app.get('/exceptions/csv', { config: admin }, (_req, reply) => attachment(reply, `exceptions_${stamp()}.csv`, 'text/csv; charset=utf-8', exceptionsCsv(run.report())));
  app.get('/stats/requests_full_history/csv', { config: admin }, (_req, reply) => {
    // The rows kept each second of the run; without them (a bare server in tests), the row for now.
    const text = run.historyCsv?.() ?? `${historyHeader()}${historyRows(run.report(), false, Math.floor(Date.now() / 1000))}`;
    return attachment(reply, `requests_full_history_${stamp()}.csv`, 'text/csv; charset=utf-8', text);
  });

  app.get<{ Querystring: { download?: string } }>('/stats/report', { config: admin }, (request, reply) => {
    const html = htmlReport(run.report());
    reply.header('content-security-policy', REPORT_CSP);
    if (request.query.download !== undefined && request.query.download !== '0') {
      return attachment(reply, `cicada_report_${stamp()}.html`, 'text/html; charset=utf-8', html);
    }
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  });
}
