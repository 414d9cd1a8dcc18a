// The operator process: in-cluster config, watched namespaces from WATCH_NAMESPACES, a health endpoint, clean stop.
import http from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { Controller } from './controller.ts';
import { kubeFor } from './kube.ts';

function log(level: string, message: string): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, message })}\n`);
}

export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const config = new KubeConfig();
  config.loadFromDefault();
  const namespaces = (env.WATCH_NAMESPACES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const logger = { info: (m: string) => log('info', m), warning: (m: string) => log('warning', m), error: (m: string) => log('error', m) };
  const controller = new Controller(kubeFor(config), { namespaces, logger });
  await controller.start();
  logger.info(`watching LoadTests in ${namespaces.length > 0 ? namespaces.join(', ') : 'all namespaces'}`);
  const port = Number(env.HEALTH_PORT ?? 8081);
  const health = http.createServer((req, res) => {
    res.writeHead(req.url === '/healthz' || req.url === '/readyz' ? 200 : 404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(req.url === '/healthz' || req.url === '/readyz' ? 'ok\n' : 'not found\n');
  });
  health.listen(port, '0.0.0.0');
  const quit = (): void => {
    logger.info('stopping');
    health.close();
    void controller.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', quit);
  process.on('SIGINT', quit);
}
