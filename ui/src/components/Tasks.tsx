import { getTasks } from '../api';
import { formatShare } from '../format';
import type { TaskRatioNode, TaskRatios } from '../types';
import { EmptyRow } from './EmptyRow';
import { Alert } from './FormError';
import { HScroll } from './HScroll';
import { useFetched } from './useFetched';

interface Row {
  key: string;
  name: string;
  depth: number;
  /** Share within the class (a class row: 1). */
  inClass: number | null;
  /** Share of the whole run (a class row: the class's share of the users). */
  ofTotal: number | null;
  isClass: boolean;
}

const own = (nodes: Record<string, TaskRatioNode> | undefined, name: string): TaskRatioNode | undefined =>
  nodes && Object.hasOwn(nodes, name) ? nodes[name] : undefined;

const ratioOf = (node: TaskRatioNode | undefined): number | null =>
  node && typeof node.ratio === 'number' && Number.isFinite(node.ratio) ? node.ratio : null;

/** Walk per_class and total side by side (same names in both): one row per class, task and TaskSet. */
function rowsOf(ratios: TaskRatios): Row[] {
  const rows: Row[] = [];
  const walk = (
    nodes: Record<string, TaskRatioNode>,
    totals: Record<string, TaskRatioNode> | undefined,
    depth: number,
    path: string,
  ) => {
    for (const [name, node] of Object.entries(nodes)) {
      if (typeof node !== 'object' || node === null) continue;
      const total = own(totals, name);
      const key = `${path}/${name}`;
      rows.push({ key, name, depth, inClass: ratioOf(node), ofTotal: ratioOf(total), isClass: depth === 0 });
      // Ten levels is deeper than any real file (the server stops there too).
      if (node.tasks && typeof node.tasks === 'object' && depth < 10) walk(node.tasks, total?.tasks, depth + 1, key);
    }
  };
  walk(ratios.per_class, ratios.total, 0, '');
  return rows;
}

/** Like Locust's "Current ratio" tab: each task's share within its user class and of the whole run. */
export function Tasks() {
  const [ratios, error] = useFetched(getTasks, 'Could not load the task ratios.', []);

  const rows = ratios ? rowsOf(ratios) : [];
  return (
    <div class="tasks">
      <Alert message={error} />
      <p class="muted hint">
        How often each task is picked: within its user class, and over the whole run (weighted by each
        class's share of the users). Tasks of a TaskSet are indented under it.
      </p>
      <HScroll>
        <table data-testid="tasks-table" class="data tasks-table">
          <thead>
            <tr>
              <th scope="col">User class / task</th>
              <th scope="col" class="num">
                Share of its class
              </th>
              <th scope="col" class="num">
                Share of all tasks
              </th>
            </tr>
          </thead>
          <tbody>
            {ratios === null && !error && (
              <EmptyRow colSpan={3}>
                <span class="empty-text">Loading…</span>
              </EmptyRow>
            )}
            {ratios !== null && rows.length === 0 && (
              <EmptyRow colSpan={3}>
                <span class="empty-text">No tasks.</span>
              </EmptyRow>
            )}
            {rows.map((r) => (
              <tr key={r.key} data-testid={r.isClass ? 'tasks-class-row' : 'tasks-row'} class={r.isClass ? 'class-row' : undefined}>
                {/* Indentation through CSSOM (allowed by the CSP), not a style attribute. */}
                <td class="name" style={{ paddingLeft: `${0.65 + r.depth * 1.25}rem` }}>
                  {r.name}
                </td>
                <td class="num">{formatShare(r.inClass)}</td>
                <td class="num">
                  <span class="share">
                    <span class="share-bar" aria-hidden="true">
                      <span style={{ width: `${Math.max(0, Math.min(1, r.ofTotal ?? 0)) * 100}%` }} />
                    </span>
                    <span class="share-value">{formatShare(r.ofTotal)}</span>
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </HScroll>
    </div>
  );
}
