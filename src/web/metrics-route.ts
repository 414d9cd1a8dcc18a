// GET /metrics: the run's metrics in Prometheus' text format, for a viewer's session or a scraper's bearer token.
import type { FastifyInstance } from 'fastify';
import { metricFamilies } from '../exporters/metrics/model.ts';
import { PROMETHEUS_CONTENT_TYPE, prometheusText } from '../exporters/metrics/prometheus-text.ts';
import type { WebContext } from './context.ts';

/** The text a scrape gets now (the web server and the headless --metrics-port listener serve the same). */
export function metricsText(ctx: Pick<WebContext, 'options'>): string {
  const run = ctx.options.run;
  const workers = run.workers?.().filter((w) => !w.missing).length ?? 0;
  return prometheusText(metricFamilies(run.report(), { workers }));
}

export function registerMetrics(app: FastifyInstance, ctx: WebContext): void {
  // `bearer`: a valid `Authorization: Bearer` token (--metrics-token-file) stands in for a viewer's session.
  app.get('/metrics', { config: { access: 'viewer', bearer: true } }, (_request, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(metricsText(ctx)));
}
