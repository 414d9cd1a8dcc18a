// A stepped load over 20 seconds: a LoadShape sets the user count each second, then ends the test.
//
//   npx cicada demo -f examples/load-shape.ts
//   npx cicada -f examples/load-shape.ts -H http://127.0.0.1:8080 --headless
// -u, -r and -t are not needed: the shape decides how many users run and when the test stops.
import { HttpUser, LoadShape, task, between } from 'cicada';

export class Visitor extends HttpUser {
  waitTime = between(0.5, 1.5);

  @task(3) async viewItem() {
    await this.client.get(`/items/${1 + Math.floor(Math.random() * 1000)}`, { name: '/items/[id]' });
  }

  @task async listItems() {
    await this.client.get('/items');
  }
}

/** Each stage lasts until `until` seconds into the run; users are started or stopped at `spawnRate` per second. */
const STAGES = [
  { until: 5, users: 5, spawnRate: 5 },
  { until: 10, users: 10, spawnRate: 5 },
  { until: 15, users: 20, spawnRate: 10 },
  { until: 20, users: 5, spawnRate: 10 }, // ramp down before the end
];

export class Steps extends LoadShape {
  tick() {
    const t = this.getRunTime();
    const stage = STAGES.find((s) => t < s.until);
    // Past the last stage: returning null stops the test.
    return stage === undefined ? null : { users: stage.users, spawnRate: stage.spawnRate };
  }
}
