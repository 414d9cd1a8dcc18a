// Exceptions a task throws to steer its user: stop the user, pick another task, leave a TaskSet.

/**
 * Throw from a task (or `onStart`) to stop this user for good. The runner does not restart it.
 * @example
 * ```ts
 * @task async checkout() { if (this.cartEmpty) throw new StopUser(); }
 * ```
 */
export class StopUser extends Error {
  constructor(message = 'user stopped') {
    super(message);
    this.name = 'StopUser';
  }
}

/**
 * Throw from a task to abandon it and pick the next task after the user's wait time.
 * With `immediately: true` the wait is skipped.
 * @example
 * ```ts
 * @task async view() { if (!this.loggedIn) throw new RescheduleTask(); }
 * ```
 */
export class RescheduleTask extends Error {
  readonly immediately: boolean;
  constructor(options: { immediately?: boolean } = {}) {
    super('task rescheduled');
    this.name = 'RescheduleTask';
    this.immediately = options.immediately ?? false;
  }
}

/**
 * Thrown by `TaskSet.interrupt()` to return control to the parent TaskSet or User.
 * You rarely throw it yourself: call `this.interrupt()`.
 * @example
 * ```ts
 * class Browse extends TaskSet<Shopper> {
 *   @task async leave() { throw new InterruptTaskSet(false); } // same as this.interrupt(false): parent waits first
 * }
 * ```
 */
export class InterruptTaskSet extends Error {
  readonly reschedule: boolean;
  constructor(reschedule = true) {
    super('task set interrupted');
    this.name = 'InterruptTaskSet';
    this.reschedule = reschedule;
  }
}

/**
 * Throw from anywhere in a cicadafile to stop the whole test run (like Locust's `StopTest`).
 * @example
 * ```ts
 * events.request.addListener((r) => { if (r.error && r.name === '/login') throw new StopTest('login broken'); });
 * ```
 */
export class StopTest extends Error {
  constructor(message = 'test stopped by the cicadafile') {
    super(message);
    this.name = 'StopTest';
  }
}

/** True for the control-flow exceptions above, which are never recorded as task errors. */
export function isControlFlow(error: unknown): boolean {
  return error instanceof StopUser || error instanceof RescheduleTask || error instanceof InterruptTaskSet || error instanceof StopTest;
}

/**
 * Thrown by a protocol client when the run is stopping hard: no new request may start.
 * The user loop ends quietly; nothing is recorded.
 */
export class UserStopped extends Error {
  constructor() {
    super('the run is stopping: no new requests are sent');
    this.name = 'UserStopped';
  }
}

/** True for the control-flow exceptions above, which are never recorded as task errors. */
export function isUserControlFlow(error: unknown): boolean {
  return isControlFlow(error) || error instanceof UserStopped;
}
