// Builds the task tables of a run once: tags filtered, weights checked, TaskSets resolved recursively.
import { DefinitionError } from './errors.ts';
import { collectTasks, TaskTable, type TaskDef, type TaskFilter } from './tasks.ts';
import { isTaskSetClass, SequentialTaskSet, TaskSet, User } from './user.ts';

/** The task tables of every user class and TaskSet class a run can reach. */
export class TaskPlan {
  private readonly tables = new Map<Function, TaskTable>();
  private readonly filter: TaskFilter;
  /** Every tag seen on any task or TaskSet, before filtering (to reject unknown `-T` tags). */
  readonly knownTags = new Set<string>();

  constructor(filter: TaskFilter = {}) {
    this.filter = filter;
  }

  /** The table of a user class or TaskSet class, built on first use; throws DefinitionError when it has no tasks. */
  table(cls: Function): TaskTable {
    const existing = this.tables.get(cls);
    if (existing) return existing;
    return this.build(cls, new Set());
  }

  private build(cls: Function, inheritedTags: ReadonlySet<string>): TaskTable {
    const isTaskSet = isTaskSetClass(cls);
    const stopAt = isTaskSet ? (cls.prototype instanceof SequentialTaskSet ? SequentialTaskSet.prototype : TaskSet.prototype) : User.prototype;
    const raw = collectTasks(cls as never, stopAt, isTaskSetClass);
    if (raw.length === 0) {
      throw new DefinitionError(
        `${cls.name} has no tasks`,
        'mark at least one method with @task, or declare `static tasks = { methodName: weight }`',
      );
    }
    // Reserve the slot before recursing so a TaskSet that (indirectly) lists itself terminates.
    const placeholder = new TaskTable(raw);
    this.tables.set(cls, placeholder);

    const kept: TaskDef[] = [];
    for (const def of raw) {
      const tags = new Set([...inheritedTags, ...def.tags]);
      for (const t of def.tags) this.knownTags.add(t);
      if (def.target.kind === 'taskset') {
        const child = this.tables.get(def.target.cls) ?? this.build(def.target.cls, tags);
        if (child.tasks.length === 0) continue;
      } else if (!this.passes(tags)) {
        continue;
      }
      kept.push(this.filter.equalWeights ? { ...def, weight: 1 } : def);
    }
    const table = new TaskTable(kept, isTaskSet && cls.prototype instanceof SequentialTaskSet);
    this.tables.set(cls, table);
    return table;
  }

  private passes(tags: ReadonlySet<string>): boolean {
    const { tags: include, excludeTags: exclude } = this.filter;
    if (include && include.length > 0 && !include.some((t) => tags.has(t))) return false;
    if (exclude && exclude.length > 0 && exclude.some((t) => tags.has(t))) return false;
    return true;
  }
}
