// HttpUser: the User a cicadafile extends for HTTP; each one owns an HttpClient with its own connections and cookies.
import type { Dispatcher } from 'undici';
import { DefinitionError } from '../../core/errors.ts';
import { User, type UserContext } from '../../core/user.ts';
import { HttpClient } from './http-client.ts';

/**
 * A simulated browser user: `this.client` sends HTTP requests to the host (`-H/--host`, or the
 * class's `static host`), keeps its own connections and cookies, and records every request.
 * @example
 * ```ts
 * import { HttpUser, task, tag, between } from 'cicada';
 *
 * export class Shopper extends HttpUser {
 *   static weight = 3;
 *   waitTime = between(0.5, 2);
 *   async onStart() { await this.client.post('/login', { json: { name: 'ann' } }); }
 *   @task(5) async browse() { await this.client.get(`/items/${id()}`, { name: '/items/[id]' }); }
 *   @tag('checkout') @task async buy() {
 *     await this.client.post('/cart', { json: { id: 1 }, validate: (res) => res.status === 201 || 'expected 201' });
 *   }
 * }
 * ```
 */
export abstract class HttpUser extends User {
  /** A base class, not run on its own. */
  static override abstract = true;
  /**
   * Set to an undici `Agent` (or `Pool`) to share connections among all users of the class, for
   * raw throughput. Default: each user opens its own, like a browser.
   */
  static dispatcher: Dispatcher | undefined = undefined;

  /** This user's HTTP client. */
  readonly client: HttpClient;

  /** Throws a `DefinitionError` when there is no host, or the host is not an http(s) URL. */
  constructor(context: UserContext) {
    super(context);
    const cls = this.constructor as typeof HttpUser;
    const host = context.environment.host ?? cls.host;
    if (host === undefined || host === '') {
      throw new DefinitionError(
        `no host: pass -H/--host or set static host on ${cls.name}`,
        `e.g. cicada -H http://127.0.0.1:8080, or \`static host = 'http://127.0.0.1:8080'\` in ${cls.name}`,
      );
    }
    // Only pass a context function when the class overrides `context()`: most don't, and then
    // the client skips the call on every request.
    const hasContext = this.context !== User.prototype.context;
    try {
      this.client = new HttpClient({
        baseUrl: host,
        events: context.environment.events,
        signal: context.signal,
        ...(context.inFlight !== undefined ? { inFlight: context.inFlight } : {}),
        owner: this,
        scenario: this.scenario,
        // Paced users get the coordinated-omission-corrected view; in the open model there is nothing to correct.
        ...(context.openModel === true ? {} : { expectedIntervalMs: () => this.waitTime.expectedIntervalMs }),
        defaults: context.environment.clientDefaults,
        ...(hasContext ? { context: () => this.context() } : {}),
        ...(cls.dispatcher !== undefined ? { dispatcher: cls.dispatcher } : {}),
      });
    } catch {
      throw new DefinitionError(
        `host ${JSON.stringify(host)} of ${cls.name} is not an http(s) URL`,
        'give a full URL such as http://127.0.0.1:8080',
      );
    }
  }

  /** Cuts this user's requests still on the wire (the runner calls it when the stop's drain ran out). */
  override cancelInFlight(): void {
    this.client.cancelInFlight();
  }

  /** Closes the client's connections. The runner calls it when the user has stopped. */
  async close(): Promise<void> {
    await this.client.close();
  }
}
