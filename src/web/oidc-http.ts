// HTTP to the OpenID provider: one request with a timeout, no redirects and a size cap; errors in words a person can act on.

/** How long one request to the provider may take. */
export const FETCH_TIMEOUT_MS = 10_000;
/** Responses from the provider larger than this are refused. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Control characters removed and length capped: text from the provider, shown to the user. */
export function printable(text: string, max = 300): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

export function describeFetchError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return `no answer within ${FETCH_TIMEOUT_MS / 1000} s`;
    const cause: unknown = error.cause;
    if (cause instanceof Error) {
      const code = (cause as Error & { code?: unknown }).code;
      if (cause.message.includes('redirect')) return 'it answered with a redirect (not followed)';
      return typeof code === 'string' ? `${code}: ${printable(cause.message, 200)}` : printable(cause.message, 200);
    }
    return printable(error.message, 200);
  }
  return 'unknown error';
}

async function readBody(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_RESPONSE_BYTES) throw new Error(`the response is larger than ${MAX_RESPONSE_BYTES} bytes`);
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw new Error(`the response is larger than ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface JsonResponse {
  status: number;
  contentType: string;
  /** The parsed JSON, or undefined when the body is not JSON. */
  json: unknown;
}

/** One request to the provider: a timeout, no redirects followed, a size cap; the body parsed as JSON when it is. Throws on network errors. */
export async function request(fetchFn: typeof fetch, url: string, init: RequestInit = {}): Promise<JsonResponse> {
  const response = await fetchFn(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    throw new Error('it answered with a redirect (not followed)');
  }
  const text = await readBody(response);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', json };
}

