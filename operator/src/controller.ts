// The control loop: watches LoadTests, Jobs and Pods, queues the tests they belong to, and reconciles them one at
// a time; a full resync now and then covers anything a watch missed. Errors are retried with a backoff.
import type { Kube } from './kube.ts';
import { Reconciler, type Logger } from './reconciler.ts';

export interface ControllerOptions {
  /** Namespaces to watch; empty = all (ClusterRole mode). */
  namespaces: string[];
  logger: Logger;
  resyncMs?: number;
  retryMs?: number;
  now?: () => Date;
}

export class Controller {
  private readonly queue = new Set<string>();
  private readonly reconciler: Reconciler;
  private running = false;
  private stopped = false;
  private draining: Promise<void> | undefined;
  private readonly stops: (() => void)[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  /** Failed attempts per test, for the retry backoff (doubling, at most a minute). */
  private readonly failures = new Map<string, number>();

  constructor(private readonly kube: Kube, private readonly options: ControllerOptions) {
    this.reconciler = new Reconciler(kube, { logger: options.logger, ...(options.now ? { now: options.now } : {}) });
  }

  async start(): Promise<void> {
    this.running = true;
    const scopes = this.options.namespaces.length > 0 ? this.options.namespaces : [undefined];
    for (const namespace of scopes) await this.watch(namespace);
    await this.resync();
    this.timers.push(setInterval(() => void this.resync(), this.options.resyncMs ?? 30_000));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    for (const stop of this.stops.splice(0)) stop();
    await this.draining;
  }

  enqueue(namespace: string, name: string): void {
    if (!this.running) return;
    this.queue.add(`${namespace}/${name}`);
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async watch(namespace: string | undefined): Promise<void> {
    let ended = false;
    const restart = (error: unknown): void => {
      if (ended || this.stopped) return;
      ended = true;
      stop();
      this.options.logger.warning(`watch${namespace ? ` of ${namespace}` : ''} ended (${error instanceof Error ? error.message : String(error)}); restarting`);
      const t = setTimeout(() => {
        void this.watch(namespace).then(() => this.resync()).catch((e: unknown) => restart(e));
      }, this.options.retryMs ?? 2000);
      this.timers.push(t);
    };
    let stop: () => void = () => {};
    try {
      stop = await this.kube.watch(namespace, (ns, name) => this.enqueue(ns, name), restart);
    } catch (error) {
      restart(error);
      return;
    }
    this.stops.push(stop);
  }

  private async resync(): Promise<void> {
    const scopes = this.options.namespaces.length > 0 ? this.options.namespaces : [undefined];
    for (const namespace of scopes) {
      try {
        for (const test of await this.kube.listLoadTests(namespace)) this.enqueue(test.metadata.namespace ?? namespace ?? 'default', test.metadata.name);
      } catch (error) {
        this.options.logger.error(`listing LoadTests${namespace ? ` in ${namespace}` : ''} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.size > 0 && !this.stopped) {
      const next = this.queue.values().next().value as string;
      this.queue.delete(next);
      const [namespace, name] = next.split('/') as [string, string];
      try {
        await this.reconciler.reconcile(namespace, name);
        this.failures.delete(next);
      } catch (error) {
        const attempts = (this.failures.get(next) ?? 0) + 1;
        this.failures.set(next, attempts);
        const delay = Math.min(60_000, (this.options.retryMs ?? 2000) * 2 ** (attempts - 1));
        this.options.logger.error(`reconciling ${next} failed: ${error instanceof Error ? error.message : String(error)}; retrying in ${Math.round(delay / 1000)} s`);
        const t = setTimeout(() => this.enqueue(namespace, name), delay);
        this.timers.push(t);
      }
    }
  }
}
