// The built UI, read into memory at start: files are addressed only by names found in dist/ui (no paths from requests).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { UsageError } from '../core/errors.ts';

interface Asset {
  body: Buffer;
  type: string;
}

export interface UiFiles {
  index: Buffer;
  assets: ReadonlyMap<string, Asset>;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml; charset=utf-8',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

export async function loadUi(dir: string): Promise<UiFiles> {
  let index: Buffer;
  try {
    index = await readFile(path.join(dir, 'index.html'));
  } catch {
    throw new UsageError(`the web UI is not built (no ${path.join(dir, 'index.html')})`, 'run `npm run build` in the Cicada folder (npm install does it), or use --headless');
  }
  const assets = new Map<string, Asset>();
  const names = await readdir(path.join(dir, 'assets')).catch(() => [] as string[]);
  for (const name of names) {
    const type = TYPES[path.extname(name)];
    if (type === undefined || !/^[\w.-]+$/.test(name)) continue;
    assets.set(name, { body: await readFile(path.join(dir, 'assets', name)), type });
  }
  return { index, assets };
}

export function registerUi(app: FastifyInstance, ui: UiFiles): void {
  const page = { access: 'public' as const };
  for (const url of ['/', '/login']) {
    app.get(url, { config: page }, (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(ui.index));
  }
  app.get<{ Params: { file: string } }>('/assets/:file', { config: page }, (req, reply) => {
    const asset = ui.assets.get(req.params.file);
    if (!asset) return reply.code(404).send({ success: false, message: 'no such file' });
    // Vite names files by content hash: they never change under the same name.
    return reply.type(asset.type).header('cache-control', 'public, max-age=31536000, immutable').send(asset.body);
  });
}
