// Reliable pushes for the exporters: off the hot path, one send at a time, bounded queue, backoff, one log line per outage.
import { settlesWithin, sleep, systemTimers, type Timers } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';

/** One send: `points` is what it counts as (samples, lines) for the "failed to send" figures. */
export interface PushBatch<T> {
  payload: T;
  points: number;
}

export interface PushChannelOptions<T> {
  /** Names the exporter and endpoint in messages: `Prometheus remote write to https://…`. */
  name: string;
  /** Sends one batch; throws (or rejects) when it did not arrive. */
  send: (payload: T, signal: AbortSignal) => Promise<void>;
  logger: Logger;
  /** Points kept waiting at most; the oldest batches are dropped past it (and counted). Default 100 000. */
  maxQueuedPoints?: number;
  /** A send taking longer is abandoned and retried, ms. Default 10 s. */
  sendTimeoutMs?: number;
  /** Backoff after a failure: doubles from `initialMs` up to `maxMs`. Default 500 ms .. 30 s. */
  backoff?: { initialMs: number; maxMs: number };
  timers?: Timers;
}

/** What a channel did, for the final summary. */
export interface PushStats {
  sentPoints: number;
  /** Dropped from a full queue, or still queued when the run ended. */
  failedPoints: number;
  /** Failed attempts (each retried). */
  failures: number;
}

/**
 * Queues batches and sends them in order, one at a time, never blocking the caller: a refused, slow or
 * TLS-failing endpoint costs the run nothing but queue space. A failure is logged once per outage (and
 * its recovery once), and retried with doubling backoff; past `maxQueuedPoints` the oldest batches are
 * dropped and counted.
 * @example
 * ```ts
 * const channel = new PushChannel({ name: `Graphite at ${host}`, send: (lines) => socket.write(lines), logger });
 * channel.push({ payload: lines, points: 120 });
 * await channel.close(5000); // at the end: whatever could not go within 5 s is counted as failed
 * ```
 */
export class PushChannel<T> {
  private readonly options: PushChannelOptions<T>;
  private readonly timers: Timers;
  private readonly queue: PushBatch<T>[] = [];
  private queued = 0;
  private sending: Promise<void> | undefined;
  /** Ends every send and the drain (at the end of the grace period). */
  private readonly abort = new AbortController();
  /** Cuts the current backoff wait short (close() retries at once). */
  private wake = new AbortController();
  private failing = false;
  private closed = false;
  private readonly counts: PushStats = { sentPoints: 0, failedPoints: 0, failures: 0 };

  constructor(options: PushChannelOptions<T>) {
    this.options = options;
    this.timers = options.timers ?? systemTimers;
  }

  /** Adds a batch and starts sending if idle. Never waits, never throws. */
  push(batch: PushBatch<T>): void {
    if (this.closed) return;
    this.queue.push(batch);
    this.queued += batch.points;
    const max = this.options.maxQueuedPoints ?? 100_000;
    while (this.queued > max && this.queue.length > 1) {
      const dropped = this.queue.shift()!;
      this.queued -= dropped.points;
      this.counts.failedPoints += dropped.points;
    }
    this.sending ??= this.drain().finally(() => (this.sending = undefined));
  }

  private async drain(): Promise<void> {
    let delay = this.options.backoff?.initialMs ?? 500;
    const maxDelay = this.options.backoff?.maxMs ?? 30_000;
    while (this.queue.length > 0 && !this.abort.signal.aborted) {
      const batch = this.queue[0]!;
      try {
        await this.attempt(batch.payload);
        this.queue.shift();
        this.queued -= batch.points;
        this.counts.sentPoints += batch.points;
        delay = this.options.backoff?.initialMs ?? 500;
        if (this.failing) {
          this.failing = false;
          this.options.logger.info(`${this.options.name}: sending again`);
        }
      } catch (error) {
        this.counts.failures++;
        if (!this.failing) {
          this.failing = true;
          const next = this.closed ? 'the run has ended: what is left is counted as not sent' : 'retrying with backoff (further failures are not logged until it recovers)';
          this.options.logger.error(`${this.options.name} failed: ${reason(error)}; ${next}`);
        }
        // Once closing, one failed attempt is the last: the grace period is not spent waiting.
        if (this.closed) break;
        this.wake = new AbortController();
        await sleep(delay, this.wake.signal, this.timers);
        delay = Math.min(maxDelay, delay * 2);
      }
    }
  }

  private async attempt(payload: T): Promise<void> {
    const timeout = this.options.sendTimeoutMs ?? 10_000;
    const controller = new AbortController();
    const cut = (): void => controller.abort();
    this.abort.signal.addEventListener('abort', cut, { once: true });
    try {
      const sent = this.options.send(payload, controller.signal);
      if (!(await settlesWithin(sent, timeout, this.timers))) {
        controller.abort();
        sent.catch(() => undefined);
        throw new Error(`no answer within ${timeout} ms`);
      }
      await sent;
    } catch (error) {
      // Cut by the end of the run: say that, not the abort's own "This operation was aborted".
      if (this.abort.signal.aborted) throw new Error('no answer before the end of the run');
      throw error;
    } finally {
      this.abort.signal.removeEventListener('abort', cut);
    }
  }

  /**
   * Stops taking batches, gives what is queued up to `graceMs` to go (without waiting out a backoff),
   * then counts what is left as failed. Resolves with the channel's figures.
   */
  async close(graceMs = 5000): Promise<PushStats> {
    this.closed = true;
    this.wake.abort();
    if (this.sending !== undefined && !(await settlesWithin(this.sending, graceMs, this.timers))) this.abort.abort();
    this.abort.abort();
    await this.sending;
    this.counts.failedPoints += this.queued;
    this.queue.length = 0;
    this.queued = 0;
    return { ...this.counts };
  }

  get stats(): PushStats {
    return { ...this.counts };
  }
}

function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error && cause.message !== error.message ? `${error.message} (${cause.message})` : error.message;
}

/** The line the final summary gets for one exporter. */
export function pushSummary(name: string, stats: PushStats): string {
  return stats.failedPoints === 0
    ? `${name}: ${stats.sentPoints} points sent`
    : `${name}: ${stats.sentPoints} points sent, ${stats.failedPoints} NOT sent (${stats.failures} failed attempts)`;
}
