// Scenarios: several load patterns in one run, each with its own executor (k6's model, Locust's users).
//
//   npx cicada demo -f examples/scenarios.ts               all three scenarios against the demo shop
//   npx cicada demo -f examples/scenarios.ts --scenario steady
//   npx cicada -f examples/scenarios.ts -H http://127.0.0.1:8080 --headless
//
// `steady` is the open model: 20 new iterations every second for 20 s, however slow the shop gets.
// An iteration is one task run by an idle user of the pool; when all `maxUsers` are busy, the
// iteration is dropped and counted (the "Dropped" column), never queued silently.
// `spike` ramps the arrival rate up and down; `warmup` runs exactly 50 iterations over 5 users first.
import { HttpUser, task } from 'cicada';

export const scenarios = {
  warmup: { executor: 'shared-iterations', userClasses: ['Shopper'], users: 5, iterations: 50, maxDuration: '30s' },
  steady: { executor: 'constant-arrival-rate', rate: 20, timeUnit: '1s', duration: '20s', preAllocatedUsers: 10, maxUsers: 50, startTime: '2s' },
  spike: {
    executor: 'ramping-arrival-rate', startRate: 0, timeUnit: '1s', maxUsers: 100, startTime: '5s',
    stages: [{ duration: '5s', target: 50 }, { duration: '5s', target: 50 }, { duration: '5s', target: 0 }],
  },
};

/** One iteration of the open model = one task: here a look at the items, or a search. */
export class Shopper extends HttpUser {
  @task(3) async browse() {
    await this.client.get('/items', { query: { page: 1 + Math.floor(Math.random() * 5) } });
  }

  @task async search() {
    await this.client.get('/search', { query: { q: 'lamp' } });
  }
}
