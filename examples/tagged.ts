// Tagged tasks, to choose what runs with -T/--tags and -E/--exclude-tags.
//
//   npx cicada demo -f examples/tagged.ts -T read          only the reads
//   npx cicada demo -f examples/tagged.ts -E slow          everything but the slow ones
//   npx cicada -f examples/tagged.ts -H http://127.0.0.1:8080 -u 10 -r 5 -t 30s --headless -T write
//   npx cicada -f examples/tagged.ts -T write --show-task-ratio
// -T keeps only tasks carrying one of the tags (untagged ones drop out); -E removes tasks carrying any of them.
import { HttpUser, task, tag, between } from 'cicada';

function randomItemId(): number {
  return 1 + Math.floor(Math.random() * 1000);
}

export class Tagged extends HttpUser {
  waitTime = between(0.5, 2);

  @tag('read') @task(4) async viewItem() {
    await this.client.get(`/items/${randomItemId()}`, { name: '/items/[id]' });
  }

  @tag('read') @task(2) async listItems() {
    await this.client.get('/items');
  }

  // Search takes 50–150 ms: a read, and slower than the rest.
  @tag('read', 'slow') @task async search() {
    await this.client.get('/search', { query: { q: 'lamp' } });
  }

  @tag('write') @task(2) async addToCart() {
    await this.client.post('/cart', { json: { id: randomItemId() } });
  }

  @tag('write', 'slow') @task async checkout() {
    await this.client.post('/checkout');
  }

  @tag('slow') @task async slowPage() {
    await this.client.get('/slow');
  }

  // Untagged: runs with no -T, or with -E; never with -T.
  @task async health() {
    await this.client.get('/health');
  }
}
