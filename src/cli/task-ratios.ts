// Task ratios for `--show-task-ratio`: each task's share within its class and over the whole run.
import type { TaskPlan } from '../core/task-plan.ts';
import type { UserClass } from '../core/user.ts';
import type { TaskRatioNode, TaskRatios } from '../exporters/report-data.ts';
import { UserSequence } from '../runners/user-sequence.ts';

function ratiosOf(cls: Function, plan: TaskPlan, depth = 0): Record<string, TaskRatioNode> {
  const table = plan.table(cls);
  const out: Record<string, TaskRatioNode> = {};
  for (const def of table.tasks) {
    const ratio = table.total > 0 ? def.weight / table.total : 0;
    const previous = out[def.name]?.ratio ?? 0;
    // A TaskSet nested in itself would recurse forever; ten levels is deeper than any real file.
    const tasks = def.target.kind === 'taskset' && depth < 10 ? ratiosOf(def.target.cls, plan, depth + 1) : undefined;
    out[def.name] = tasks ? { ratio: previous + ratio, tasks } : { ratio: previous + ratio };
  }
  return out;
}

function scale(nodes: Record<string, TaskRatioNode>, factor: number): Record<string, TaskRatioNode> {
  return Object.fromEntries(
    Object.entries(nodes).map(([name, node]) => [name, node.tasks ? { ratio: node.ratio * factor, tasks: scale(node.tasks, node.ratio * factor) } : { ratio: node.ratio * factor }]),
  );
}

/** Ratios per class, and over the run weighted by each class's share of users (at 1000 users). */
export function taskRatios(classes: ReadonlyMap<string, UserClass>, plan: TaskPlan, equalWeights = false): TaskRatios {
  const perClass: Record<string, TaskRatioNode> = {};
  const total: Record<string, TaskRatioNode> = {};
  const sample = 1000;
  const counts = new UserSequence([...classes].map(([name, c]) => ({ name, weight: c.weight, fixedCount: c.fixedCount })), equalWeights).countsFor(sample);
  const placed = Object.values(counts).reduce((a, b) => a + b, 0) || 1;
  for (const [name, cls] of classes) {
    const tasks = ratiosOf(cls, plan);
    perClass[name] = { ratio: 1, tasks };
    const share = (counts[name] ?? 0) / placed;
    total[name] = { ratio: share, tasks: scale(tasks, share) };
  }
  return { perClass, total };
}

/** The ratios as indented text, like Locust's `--show-task-ratio`. */
export function formatTaskRatios(ratios: TaskRatios): string {
  const lines: string[] = [];
  const walk = (nodes: Record<string, TaskRatioNode>, indent: string): void => {
    for (const [name, node] of Object.entries(nodes)) {
      lines.push(`${indent}${(node.ratio * 100).toFixed(1).padStart(5)}%  ${name}`);
      if (node.tasks) walk(node.tasks, `${indent}    `);
    }
  };
  lines.push('Task ratio per user class:');
  walk(ratios.perClass, '  ');
  lines.push('', 'Total task ratio:');
  walk(ratios.total, '  ');
  return lines.join('\n');
}
