// @task and @tag, the decorator-free `static tasks` form, and the weighted task tables built from them.
import { DefinitionError } from './errors.ts';

const TASK_WEIGHT = Symbol.for('cicada.task.weight');
const TAGS = Symbol.for('cicada.tags');

type Marked = { [TASK_WEIGHT]?: unknown; [TAGS]?: Set<string> };
type AnyFunction = (...args: never[]) => unknown;
// A class constructor of a TaskSet; kept structural so this file needs no import of the classes.
export type TaskSetClass = abstract new (...args: never[]) => object;

/** One item of `static tasks`: a method name, a function, a TaskSet class, or any of those with a weight. */
export type TaskItem = string | AnyFunction | TaskSetClass;
/** The decorator-free way to declare tasks: `{ browse: 5, buy: 1 }` or `[Browse, ['buy', 2]]`. */
export type TaskSpec = Readonly<Record<string, number>> | readonly (TaskItem | readonly [TaskItem, number])[];

function mark(target: object, weight: unknown): void {
  (target as Marked)[TASK_WEIGHT] = weight;
}

function isDecoratorContext(value: unknown): value is { kind: string; name: string | symbol } {
  return typeof value === 'object' && value !== null && 'kind' in value;
}

/**
 * Marks a method as a task. Use bare (`@task`, weight 1) or with a weight (`@task(5)`): a task
 * with weight 5 is picked five times as often as one with weight 1.
 * @example
 * ```ts
 * class Shopper extends HttpUser {
 *   @task(5) async browse() { await this.client.get('/items'); }
 *   @task async buy() { await this.client.post('/cart', { json: { id: 1 } }); }
 * }
 * ```
 */
export function task<F extends AnyFunction>(method: F, context: ClassMethodDecoratorContext): F;
export function task(weight?: number): <F extends AnyFunction>(method: F, context: ClassMethodDecoratorContext) => F;
export function task(first?: unknown, second?: unknown): unknown {
  if (typeof first === 'function' && isDecoratorContext(second)) {
    mark(first, 1);
    return first;
  }
  const weight = first ?? 1;
  return (method: AnyFunction) => {
    mark(method, weight);
    return method;
  };
}

/**
 * Tags a task method or a TaskSet class, so `-T/--tags` and `-E/--exclude-tags` can select it.
 * @example
 * ```ts
 * class Shopper extends HttpUser {
 *   @tag('checkout', 'slow') @task async buy() { await this.client.post('/cart'); }
 * }
 * // cicada -f cicadafile.ts -T checkout
 * ```
 */
export function tag(...tags: string[]): <T extends object>(target: T, context: DecoratorContext) => T {
  for (const t of tags) {
    if (typeof t !== 'string' || t.trim() === '') throw new DefinitionError(`@tag() takes non-empty strings, got ${JSON.stringify(t)}`);
  }
  return (target) => {
    const marked = target as Marked;
    const existing = marked[TAGS] ?? new Set<string>();
    for (const t of tags) existing.add(t);
    marked[TAGS] = existing;
    return target;
  };
}

/** Tags set with `@tag` on a function or class (empty when none). */
export function tagsOf(target: object): ReadonlySet<string> {
  return (target as Marked)[TAGS] ?? new Set();
}

/** A task as the user loop sees it. */
export interface TaskDef {
  /** Method name, function name or TaskSet class name; shown by `--show-task-ratio`. */
  readonly name: string;
  readonly weight: number;
  readonly tags: ReadonlySet<string>;
  /** A method to call on the owner, or a TaskSet class to enter. */
  readonly target: { kind: 'method'; method: string } | { kind: 'function'; fn: AnyFunction } | { kind: 'taskset'; cls: TaskSetClass };
}

function checkWeight(weight: unknown, where: string): number {
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1) {
    throw new DefinitionError(
      `task weight of ${where} must be a positive integer, got ${typeof weight === 'number' ? String(weight) : JSON.stringify(weight)}`,
      'use @task (weight 1) or @task(n) with a whole number n ≥ 1',
    );
  }
  return weight;
}

/** Collects `@task` methods along the prototype chain (nearest definition wins) down to `stopAt`. */
function decoratedTasks(cls: TaskSetClass, stopAt: object, className: string): TaskDef[] {
  const seen = new Set<string>();
  const found: TaskDef[] = [];
  const chain: object[] = [];
  for (let proto: unknown = cls.prototype; proto !== null && proto !== stopAt && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    chain.push(proto as object);
  }
  // Base classes first, so tasks keep declaration order from the root down (SequentialTaskSet relies on it).
  for (const proto of chain.reverse()) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor') continue;
      const descriptor = Object.getOwnPropertyDescriptor(proto, key);
      const value: unknown = descriptor?.value;
      if (typeof value !== 'function' || !(TASK_WEIGHT in value)) continue;
      const weight = checkWeight((value as Marked)[TASK_WEIGHT], `${className}.${key}`);
      const def: TaskDef = { name: key, weight, tags: tagsOf(value), target: { kind: 'method', method: key } };
      if (seen.has(key)) {
        const index = found.findIndex((t) => t.name === key);
        found[index] = def;
      } else {
        seen.add(key);
        found.push(def);
      }
    }
  }
  return found;
}

function fromItem(item: TaskItem, weight: number, owner: TaskSetClass, className: string, isTaskSet: (v: unknown) => boolean): TaskDef {
  if (typeof item === 'string') {
    const method: unknown = (owner.prototype as Record<string, unknown>)[item];
    if (typeof method !== 'function') {
      throw new DefinitionError(`${className}.tasks names "${item}", but ${className} has no method of that name`);
    }
    return { name: item, weight, tags: tagsOf(method), target: { kind: 'method', method: item } };
  }
  if (isTaskSet(item)) {
    const cls = item as TaskSetClass;
    return { name: cls.name, weight, tags: tagsOf(cls), target: { kind: 'taskset', cls } };
  }
  if (typeof item === 'function') {
    return { name: item.name || '(anonymous task)', weight, tags: tagsOf(item), target: { kind: 'function', fn: item as AnyFunction } };
  }
  throw new DefinitionError(`${className}.tasks holds ${JSON.stringify(item)}: expected a method name, a function or a TaskSet class`);
}

/** Tasks from the decorator-free `static tasks` declaration. */
function declaredTasks(spec: unknown, owner: TaskSetClass, className: string, isTaskSet: (v: unknown) => boolean): TaskDef[] {
  if (spec === undefined || spec === null) return [];
  if (Array.isArray(spec)) {
    return spec.map((entry: unknown, i) => {
      if (Array.isArray(entry)) {
        const [item, weight] = entry as [TaskItem, unknown];
        return fromItem(item, checkWeight(weight, `${className}.tasks[${i}]`), owner, className, isTaskSet);
      }
      return fromItem(entry as TaskItem, 1, owner, className, isTaskSet);
    });
  }
  if (typeof spec === 'object') {
    return Object.entries(spec as Record<string, unknown>).map(([name, weight]) =>
      fromItem(name, checkWeight(weight, `${className}.tasks.${name}`), owner, className, isTaskSet),
    );
  }
  throw new DefinitionError(`${className}.tasks must be an object ({ name: weight }) or an array, got ${typeof spec}`);
}

/**
 * Every task of a User or TaskSet class: `@task` methods plus the `static tasks` declaration.
 * `stopAt` is the prototype of the library base class (User or TaskSet), where the walk ends.
 */
export function collectTasks(cls: TaskSetClass, stopAt: object, isTaskSet: (v: unknown) => boolean): TaskDef[] {
  const className = cls.name || '(anonymous class)';
  const decorated = decoratedTasks(cls, stopAt, className);
  const declared = declaredTasks((cls as unknown as { tasks?: unknown }).tasks, cls, className, isTaskSet);
  const names = new Set(declared.map((t) => t.name));
  return [...decorated.filter((t) => !names.has(t.name)), ...declared];
}

/** Options that change which tasks run and how often. */
export interface TaskFilter {
  tags?: readonly string[] | undefined;
  excludeTags?: readonly string[] | undefined;
  equalWeights?: boolean | undefined;
}

/**
 * Picks tasks by weight in O(log n) with no allocation: cumulative weights and a binary search.
 * Sequential tables cycle in declaration order, each task repeated `weight` times (Locust's rule).
 */
export class TaskTable {
  readonly tasks: readonly TaskDef[];
  readonly total: number;
  private readonly cumulative: Float64Array;
  private readonly sequence: readonly TaskDef[];
  private position = 0;

  constructor(tasks: readonly TaskDef[], readonly sequential = false) {
    this.tasks = tasks;
    this.cumulative = new Float64Array(tasks.length);
    let sum = 0;
    tasks.forEach((t, i) => {
      sum += t.weight;
      this.cumulative[i] = sum;
    });
    this.total = sum;
    this.sequence = sequential ? tasks.flatMap((t) => Array.from({ length: t.weight }, () => t)) : [];
  }

  /** The next task: weighted random, or the next in sequence. `random` is in [0, 1). */
  next(random: number = Math.random()): TaskDef {
    if (this.sequential) {
      const t = this.sequence[this.position % this.sequence.length]!;
      this.position++;
      return t;
    }
    const x = random * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return this.tasks[lo]!;
  }

  /** A fresh table over the same tasks with the sequence position reset (one per TaskSet instance). */
  fork(): TaskTable {
    return this.sequential ? new TaskTable(this.tasks, true) : this;
  }
}
