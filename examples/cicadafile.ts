// The demo shop's cicadafile: browsers who look around, buyers who log in and check out.
//
//   npx cicada demo                       starts the demo shop and runs this file against it
//   npx cicada -f examples/cicadafile.ts -H http://127.0.0.1:8080 -u 20 -r 5 -t 1m --headless
// The second form is for a shop already listening on 127.0.0.1:8080 (or your own site: change -H).
import { HttpUser, task, tag, between, constant } from 'cicada';

/** The demo shop sells items 1 to 1000. */
function randomItemId(): number {
  return 1 + Math.floor(Math.random() * 1000);
}

const SEARCH_TERMS = ['lamp', 'kettle', 'chair', 'backpack', 'eco', 'wireless'];

/** Someone looking around the shop without an account. Three of every four users are one. */
export class Browser extends HttpUser {
  static weight = 3;
  waitTime = between(0.5, 2);

  @task(2) async home() {
    await this.client.get('/');
  }

  @task(3) async listItems() {
    await this.client.get('/items', { query: { page: 1 + Math.floor(Math.random() * 5) } });
  }

  // Every item has its own URL; one name for all of them keeps them in a single stats row.
  @task(6) async viewItem() {
    await this.client.get(`/items/${randomItemId()}`, { name: '/items/[id]' });
  }

  @task(2) async search() {
    const q = SEARCH_TERMS[Math.floor(Math.random() * SEARCH_TERMS.length)] ?? 'lamp';
    await this.client.get('/search', {
      query: { q },
      // A 200 with no results is still a broken search: fail it with a message of our own.
      validate: (res) => res.json<{ count: number }>().count > 0 || `no results for "${q}"`,
    });
  }

  // About half a second per call; leave it out with `-E slow`.
  @tag('slow') @task async slowPage() {
    await this.client.get('/slow');
  }
}

/** A returning customer: logs in once, then browses, checks the account and buys. */
export class Buyer extends HttpUser {
  static weight = 1;
  waitTime = between(1, 2);

  // Each user keeps its own cookie jar, so the session cookie set here rides on every later request.
  async onStart() {
    await this.client.post('/login', { json: { name: `buyer-${this.id}` } });
  }

  @task(4) async viewItem() {
    await this.client.get(`/items/${randomItemId()}`, { name: '/items/[id]' });
  }

  @task(2) async account() {
    await this.client.get('/account', {
      validate: (res) => res.json<{ name?: string }>().name === `buyer-${this.id}` || 'signed in as someone else',
    });
  }

  // Run only the buying with `-T checkout`.
  @tag('checkout') @task async buy() {
    const added = await this.client.post('/cart', {
      json: { id: randomItemId(), quantity: 1 },
      validate: (res) => res.status === 201 || `expected 201 Created, got ${res.status}`,
    });
    // Failures never throw: look at the response and decide whether going on makes sense.
    if (!added.ok) return;
    await this.client.post('/checkout', {
      validate: (res) => res.json<{ status: string }>().status === 'confirmed' || 'order not confirmed',
    });
  }
}

/**
 * One monitor, whatever the user count: `fixedCount` users are spawned first and exactly once.
 * It also shows the decorator-free way to declare tasks. `/flaky` fails 30 % of the time, so the
 * failures table has something in it.
 */
export class Monitor extends HttpUser {
  static fixedCount = 1;
  static tasks = { health: 3, flaky: 1 };
  waitTime = constant(1);

  async health() {
    await this.client.get('/health');
  }

  async flaky() {
    await this.client.get('/flaky');
  }
}
