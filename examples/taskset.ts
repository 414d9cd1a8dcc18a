// TaskSets: a shopper who wanders the catalogue until bored (TaskSet + interrupt) and walks the
// checkout in a fixed order (SequentialTaskSet).
//
//   npx cicada demo -f examples/taskset.ts
//   npx cicada -f examples/taskset.ts -H http://127.0.0.1:8080 -u 10 -r 2 -t 1m --headless
import { HttpUser, TaskSet, SequentialTaskSet, task, between, events } from 'cicada';

function randomItemId(): number {
  return 1 + Math.floor(Math.random() * 1000);
}

/** Looks at pages and items in random order, weighted; stays until `leave` is picked. */
class Browse extends TaskSet<Shopper> {
  @task(4) async viewItem() {
    await this.client.get(`/items/${randomItemId()}`, { name: '/items/[id]' });
  }

  @task(2) async nextPage() {
    await this.client.get('/items', { query: { page: 1 + Math.floor(Math.random() * 50) } });
  }

  // One pick in seven: back to the Shopper, which chooses again (perhaps Browse once more).
  @task leave() {
    this.interrupt();
  }
}

/** Buying, one step after another in declaration order, then back to the Shopper. */
class Checkout extends SequentialTaskSet<Shopper> {
  private itemId = 0;

  @task async chooseItem() {
    this.itemId = randomItemId();
    await this.client.get(`/items/${this.itemId}`, { name: '/items/[id]' });
  }

  @task async addToCart() {
    const res = await this.client.post('/cart', { json: { id: this.itemId } });
    // Nothing in the cart, nothing to pay for: skip the rest of the flow.
    if (!res.ok) this.interrupt();
  }

  @task async pay() {
    await this.client.post('/checkout');
  }

  @task done() {
    this.interrupt();
  }
}

export class Shopper extends HttpUser {
  // Browse three times as often as Checkout. `as const` keeps `[Browse, 3]` a (class, weight) pair.
  static tasks = [[Browse, 3] as const, Checkout];
  waitTime = between(0.5, 2);

  async onStart() {
    await this.client.post('/login', { json: { name: `shopper-${this.id}` } });
  }
}

// Every request passes through `events.request`: here, count the orders that went through.
let ordersPlaced = 0;
events.request.addListener((r) => {
  if (r.name === '/checkout' && r.error === null) ordersPlaced++;
});
events.testStop.addListener(() => {
  console.log(`orders placed: ${ordersPlaced}`);
});
