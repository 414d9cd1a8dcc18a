// Test-only helpers: a real node:http server on 127.0.0.1, an HttpClient wired to recorded events.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultClientDefaults, type ClientDefaults } from '../../core/environment.ts';
import { Events, type RequestEvent } from '../../core/events.ts';
import { HttpClient, type HttpClientOptions } from './http-client.ts';

/** A request as the test server saw it, body included. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  server: Server;
  seen: SeenRequest[];
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** Starts a server on 127.0.0.1, port 0. Every request is recorded in `seen` before `handler` runs. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A client on `baseUrl` whose request events land in `events`; defaults can be overridden. */
export function makeClient(
  baseUrl: string,
  overrides: Partial<ClientDefaults> = {},
  extra: Partial<HttpClientOptions> = {},
): { client: HttpClient; events: RequestEvent[]; controller: AbortController } {
  const bus = new Events();
  const events: RequestEvent[] = [];
  bus.request.addListener((e) => events.push(e));
  const controller = new AbortController();
  const client = new HttpClient({
    baseUrl,
    events: bus,
    signal: controller.signal,
    defaults: { ...defaultClientDefaults, ...overrides },
    ...extra,
  });
  return { client, events, controller };
}
