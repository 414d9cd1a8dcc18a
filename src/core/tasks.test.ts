import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DefinitionError } from './errors.ts';
import { TaskPlan } from './task-plan.ts';
import { tag, task, TaskTable } from './tasks.ts';
import { SequentialTaskSet, TaskSet, User } from './user.ts';

class Shop extends User {
  @task(3) async browse() {}
  @tag('checkout') @task async buy() {}
  @tag('slow', 'checkout') @task(2) async pay() {}
  async helper() {}
}

class Plain extends User {
  static tasks = { a: 5, b: 1 };
  async a() {}
  async b() {}
}

describe('task collection', () => {
  it('finds @task methods with their weights and tags', () => {
    const table = new TaskPlan().table(Shop);
    assert.deepEqual(table.tasks.map((t) => [t.name, t.weight]), [['browse', 3], ['buy', 1], ['pay', 2]]);
    assert.deepEqual([...table.tasks[2]!.tags].sort(), ['checkout', 'slow']);
  });

  it('accepts the decorator-free static tasks form', () => {
    const table = new TaskPlan().table(Plain);
    assert.deepEqual(table.tasks.map((t) => [t.name, t.weight]), [['a', 5], ['b', 1]]);
  });

  it('picks tasks in proportion to their weights', () => {
    const table = new TaskPlan().table(Plain);
    const seen = { a: 0, b: 0 };
    for (let i = 0; i < 6000; i++) seen[table.next(i / 6000) .name as 'a' | 'b']++;
    assert.equal(seen.a, 5000);
    assert.equal(seen.b, 1000);
  });

  it('rejects a weight that is not a positive integer, naming the method', () => {
    class Bad extends User {
      @task(0) async zero() {}
    }
    assert.throws(() => new TaskPlan().table(Bad), (e: unknown) => e instanceof DefinitionError && /Bad\.zero.*positive integer, got 0/.test(e.message));
    class Frac extends User {
      static tasks = { x: 1.5 };
      async x() {}
    }
    assert.throws(() => new TaskPlan().table(Frac), /Frac\.tasks\.x must be a positive integer, got 1\.5/);
  });

  it('rejects a class without tasks with a hint', () => {
    class Empty extends User {}
    assert.throws(() => new TaskPlan().table(Empty), (e: unknown) => e instanceof DefinitionError && /Empty has no tasks/.test(e.message) && /@task/.test(e.hint ?? ''));
  });

  it('rejects a static tasks entry naming a missing method', () => {
    class Typo extends User {
      static tasks = { brwse: 1 };
    }
    assert.throws(() => new TaskPlan().table(Typo), /Typo\.tasks names "brwse"/);
  });

  it('keeps only tagged tasks with -T and drops excluded ones with -E', () => {
    assert.deepEqual(new TaskPlan({ tags: ['checkout'] }).table(Shop).tasks.map((t) => t.name), ['buy', 'pay']);
    assert.deepEqual(new TaskPlan({ excludeTags: ['slow'] }).table(Shop).tasks.map((t) => t.name), ['browse', 'buy']);
    assert.deepEqual(new TaskPlan({ tags: ['checkout'], excludeTags: ['slow'] }).table(Shop).tasks.map((t) => t.name), ['buy']);
  });

  it('gives every task weight 1 with equal weights', () => {
    assert.deepEqual(new TaskPlan({ equalWeights: true }).table(Shop).tasks.map((t) => t.weight), [1, 1, 1]);
  });

  it('inherits tags from a tagged TaskSet and drops TaskSets left empty', () => {
    @tag('browse')
    class Browse extends TaskSet {
      @task async list() {}
    }
    class Other extends TaskSet {
      @task async untagged() {}
    }
    class Visitor extends User {
      static tasks = [Browse, [Other, 2] as const];
    }
    const plan = new TaskPlan({ tags: ['browse'] });
    assert.deepEqual(plan.table(Visitor).tasks.map((t) => t.name), ['Browse']);
    assert.ok(plan.knownTags.has('browse'));
  });

  it('lets a subclass a task weight and inherit the rest', () => {
    class Base extends User {
      static abstract = true;
      @task(1) async a() {}
      @task(1) async b() {}
    }
    class Child extends Base {
      @task(7) async a() {}
    }
    assert.deepEqual(new TaskPlan().table(Child).tasks.map((t) => [t.name, t.weight]), [['a', 7], ['b', 1]]);
  });

  it('runs a SequentialTaskSet in declaration order, repeating by weight', () => {
    class Flow extends SequentialTaskSet {
      @task async first() {}
      @task(2) async second() {}
      @task async third() {}
    }
    const table = new TaskPlan().table(Flow);
    const order = Array.from({ length: 8 }, () => table.next().name);
    assert.deepEqual(order, ['first', 'second', 'second', 'third', 'first', 'second', 'second', 'third']);
  });

  it('gives each TaskSet instance its own sequence position', () => {
    const t = new TaskTable([{ name: 'x', weight: 1, tags: new Set(), target: { kind: 'method', method: 'x' } }, { name: 'y', weight: 1, tags: new Set(), target: { kind: 'method', method: 'y' } }], true);
    const a = t.fork();
    const b = t.fork();
    assert.equal(a.next().name, 'x');
    assert.equal(a.next().name, 'y');
    assert.equal(b.next().name, 'x');
  });
});
