// One request/response exchange on an undici dispatcher: counts the body, keeps up to a cap, enforces the deadline.
import type { Dispatcher } from 'undici';
import { timeoutError } from './normalise-error.ts';

type Controller = Dispatcher.DispatchController;
type IncomingHeaders = Record<string, string | string[] | undefined>;

/** What one hop needs to be sent. Plain data, so the client can reuse the object across hops. */
export interface ExchangeRequest {
  origin: string;
  path: string;
  method: string;
  headers: Record<string, string | string[] | undefined>;
  body: string | Buffer | Uint8Array | undefined;
}

/** The statuses a client follows when redirects are allowed (with a Location header). */
export function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

const maxTimerMs = 2 ** 31 - 1;

// Called by the hop's timer; a module function plus the timer argument avoids a closure per request.
function onDeadline(exchange: Exchange): void {
  exchange.expire();
}

/**
 * A dispatch handler for one hop. It uses undici's handler callbacks directly (no body stream):
 * the body is counted to the end and kept only up to `maxKeep` bytes, so a huge response never
 * buffers past the cap. `done` resolves once, with the exchange itself, and never rejects.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  status = 0;
  headers: IncomingHeaders | undefined = undefined;
  /** Body bytes read from the wire (all of them, past the cap too). */
  bytesRead = 0;
  /** The transport error, or null. Raw: the client normalises it. */
  error: unknown = null;
  /** performance.now() when the exchange ended (body complete or failed). */
  endedAt = 0;
  readonly done: Promise<Exchange>;

  private keepLimit: number;
  private readonly discardRedirects: boolean;
  private first: Buffer | undefined = undefined;
  private rest: Buffer[] | undefined = undefined;
  private kept = 0;
  private finished = false;
  private controller: Controller | undefined = undefined;
  private timer: NodeJS.Timeout | undefined = undefined;
  private readonly timeoutMs: number;
  private resolve!: (exchange: Exchange) => void;

  /**
   * @param maxKeep bytes of body to keep
   * @param remainingMs time left before the whole request's deadline, in ms
   * @param timeoutMs the request's configured timeout, for the error message
   * @param discardRedirects read but do not keep the body of a redirect (it is about to be followed)
   */
  constructor(maxKeep: number, remainingMs: number, timeoutMs: number, discardRedirects: boolean) {
    this.keepLimit = maxKeep;
    this.timeoutMs = timeoutMs;
    this.discardRedirects = discardRedirects;
    this.done = new Promise<Exchange>((resolve) => {
      this.resolve = resolve;
    });
    // A timeout of 0 or less (or Infinity) means none; setTimeout cannot wait past 2^31-1 ms.
    if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
      this.timer = setTimeout(onDeadline, Math.min(Math.max(0, remainingMs), maxTimerMs), this);
    }
  }

  /** Sends the hop. Errors thrown synchronously by the dispatcher end the exchange like any other. */
  start(dispatcher: Dispatcher, request: ExchangeRequest): Promise<Exchange> {
    try {
      dispatcher.dispatch(
        {
          origin: request.origin,
          path: request.path,
          method: request.method,
          headers: request.headers,
          body: request.body ?? null,
        },
        this,
      );
    } catch (error) {
      this.finish(error);
    }
    return this.done;
  }

  /** The whole-request deadline passed: fail now and abort the exchange if it is on the wire. */
  expire(): void {
    if (this.finished) return;
    const error = timeoutError(this.timeoutMs);
    this.finish(error);
    this.controller?.abort(error);
  }

  /** The run's drain time ran out: end now with `error` (a CancelledAtStop) and abort the exchange if it is on the wire. */
  cancel(error: Error): void {
    if (this.finished) return;
    this.finish(error);
    this.controller?.abort(error);
  }

  /** The kept body bytes (at most `maxKeep`). */
  keptBody(): Buffer | undefined {
    if (this.rest === undefined || this.first === undefined) return this.first;
    this.rest.unshift(this.first);
    this.first = Buffer.concat(this.rest, this.kept);
    this.rest = undefined;
    return this.first;
  }

  onRequestStart(controller: Controller): void {
    // A hop that already timed out while queued must not go out at all.
    if (this.finished) controller.abort(this.error instanceof Error ? this.error : new Error('request ended'));
    else this.controller = controller;
  }

  onResponseStart(_controller: Controller, statusCode: number, headers: IncomingHeaders): void {
    this.status = statusCode;
    this.headers = headers;
    if (this.discardRedirects && isRedirect(statusCode) && headers.location !== undefined) this.keepLimit = 0;
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    this.bytesRead += chunk.length;
    const room = this.keepLimit - this.kept;
    if (room <= 0) return;
    // Chunks are fresh views of socket reads, so keeping references (not copies) is safe.
    const keep = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.kept += keep.length;
    if (this.first === undefined) this.first = keep;
    else (this.rest ??= []).push(keep);
  }

  onResponseEnd(): void {
    this.finish(null);
  }

  onResponseError(_controller: Controller | undefined, error: Error): void {
    this.finish(error);
  }

  private finish(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.endedAt = performance.now();
    this.error = error;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.resolve(this);
  }
}
