// Reads a JSON request body with a size cap, so a load test (or a stray client) cannot make the demo
// target buffer without bound.
import type { IncomingMessage } from 'node:http';

/** Largest body the demo target accepts, in bytes. */
export const MAX_BODY_BYTES = 1024 * 1024;

export type BodyResult =
  | { ok: true; value: unknown }
  | { ok: false; status: 400 | 413; message: string };

/**
 * Resolves with the parsed body (`undefined` when empty) or a client error. Never rejects.
 * On 413 the caller must answer with `Connection: close`: the rest of the body is left unread.
 */
export function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<BodyResult> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    // Refuse before reading a byte: the header already says it is too big.
    return Promise.resolve({ ok: false, status: 413, message: `body larger than ${limit} bytes` });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        // Keep the stream flowing but drop the data; the socket closes after the 413 goes out.
        req.on('data', () => {});
        finish({ ok: false, status: 413, message: `body larger than ${limit} bytes` });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      if (size === 0) return finish({ ok: true, value: undefined });
      try {
        finish({ ok: true, value: JSON.parse(Buffer.concat(chunks, size).toString('utf8')) as unknown });
      } catch (error) {
        finish({ ok: false, status: 400, message: `invalid JSON: ${(error as Error).message}` });
      }
    };
    const onError = (): void => finish({ ok: false, status: 400, message: 'request body aborted' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** The body as a plain object, or undefined when it is anything else (array, string, null…). */
export function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
