// The public scripting API: everything a cicadafile imports from 'cicada'.
import { Events } from './core/events.ts';
import { SequentialTaskSet as CoreSequentialTaskSet, TaskSet as CoreTaskSet, type User } from './core/user.ts';
import type { HttpUser } from './protocols/http/http-user.ts';

export { User } from './core/user.ts';
export type { UserContext } from './core/user.ts';
export { task, tag } from './core/tasks.ts';
export type { TaskSpec } from './core/tasks.ts';
export { between, constant, constantPacing, constantThroughput } from './core/wait-time.ts';
export type { WaitTime } from './core/wait-time.ts';
export { StopUser, RescheduleTask, InterruptTaskSet, StopTest } from './core/control-flow.ts';
export { LoadShape } from './core/load-shape.ts';
export type { ShapeTick } from './core/load-shape.ts';
export { EventHook, Events } from './core/events.ts';
import { checkOn, type CheckOptions, type Checks } from './core/check.ts';
export type { RequestEvent, UserErrorEvent, LifecycleEvent, SpawningCompleteEvent, ReportEvent } from './core/events.ts';
export type { Environment } from './core/environment.ts';
export { HttpUser } from './protocols/http/http-user.ts';
export * from './protocols/http/index.ts';

/**
 * A group of tasks a user enters and stays in until a task calls `this.interrupt()`.
 * `this.client` is the user's HTTP client; name your user class as the type argument for full typing.
 * @example
 * ```ts
 * class Browse extends TaskSet<Shopper> {
 *   @task(3) async list() { await this.client.get('/items'); }
 *   @task async leave() { this.interrupt(); }
 * }
 * export class Shopper extends HttpUser { static tasks = [Browse]; }
 * ```
 */
export class TaskSet<U extends User = HttpUser> extends CoreTaskSet<U> {}

/**
 * A TaskSet whose tasks run in declaration order, cyclically.
 * @example
 * ```ts
 * class Checkout extends SequentialTaskSet<Shopper> {
 *   @task async cart() { await this.client.get('/cart'); }
 *   @task async pay() { await this.client.post('/pay'); }
 *   @task async done() { this.interrupt(); }
 * }
 * ```
 */
export class SequentialTaskSet<U extends User = HttpUser> extends CoreSequentialTaskSet<U> {}

/**
 * The event bus of this process. Listen to `request` for every request, `testStart`/`testStop`
 * around the run, `userError` for task errors.
 * @example
 * ```ts
 * events.testStart.addListener(() => console.log('go'));
 * events.request.addListener((r) => { if (r.error) console.log(r.name, r.error.message); });
 * ```
 */
export const events = new Events((error) => error instanceof Error && error.name === 'StopTest');

/**
 * Named assertions on a value, usually a response (k6's `check`): each passing or failing check is
 * counted per check name and request name, without failing the request. A check that throws fails,
 * with its message. Returns whether every check passed. Results show in the console summary, the web
 * UI's Checks tab, the reports, and the `checks` metric of thresholds (`checks: ['rate>0.99']`).
 * Custom protocols can call it on their own responses too; `{ name }` sets the request name.
 * @example
 * ```ts
 * const res = await this.client.get('/items/1', { name: '/items/[id]' });
 * check(res, { 'status is 200': (r) => r.status === 200, 'has an id': (r) => 'id' in (r.json() as object) });
 * ```
 */
export const check: <T>(value: T, checks: Checks<T>, options?: CheckOptions) => boolean = checkOn(events);
export type { Checks, CheckOptions } from './core/check.ts';
export type { CheckEvent } from './core/events.ts';
// secret('NAME'): its JSDoc (with an example) sits on the function in core/secrets.ts, which editors show here too.
export { secret } from './core/secrets.ts';
