// A CI gate: thresholds that fail the build (exit code 99) when the service is too slow or fails too often, and checks.
//
//   npx cicada demo -f examples/ci-gate.ts -t 10s --junit report.xml --summary-json summary.json
//   npx cicada demo -f examples/ci-gate.ts -t 10s --threshold 'response_time{name:/search} p(95)<20'   # exit 99: search takes 50-150 ms
//   npx cicada -f examples/ci-gate.ts -H http://127.0.0.1:8080 --headless -u 20 -r 5 -t 1m --junit report.xml
//
// Thresholds are judged on the whole run's statistics (on the master in a distributed run: every
// worker's requests in one histogram), every second and at the end. Any one failed at the end gives exit
// code 99, whatever else happened; an `abortOnFail` one stops the run as soon as it is crossed (here
// after a 5 s grace period, so the first cold requests do not decide). Checks never fail a request:
// they count passes and fails per name, and the `checks` threshold turns them into a gate.
import { HttpUser, between, check, task } from 'cicada';

export const thresholds = {
  response_time: ['p(95)<500'],
  'response_time{name:/items/[id]}': ['p(99)<400', { threshold: 'p(99)<2000', abortOnFail: true, delayAbortEval: '5s' }],
  fail_ratio: ['value<0.05'],
  checks: ['rate>0.95'],
  'requests{name:/search}': ['count>0'],
};

export class Shopper extends HttpUser {
  waitTime = between(0.1, 0.5);

  @task(3) async item() {
    const id = 1 + Math.floor(Math.random() * 1000);
    const res = await this.client.get(`/items/${id}`, { name: '/items/[id]' });
    check(res, {
      'status is 200': (r) => r.status === 200,
      'has its id': (r) => r.json<{ id: number }>().id === id,
    });
  }

  @task async search() {
    const res = await this.client.get('/search', { query: { q: 'lamp' } });
    check(res, { 'search answers': (r) => r.status === 200 });
  }
}
