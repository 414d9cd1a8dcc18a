import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UserSequence, type ClassWeight } from './user-sequence.ts';
import { WorkerDispatch, type Assignment } from './worker-dispatch.ts';

const SEEDED = { seed: 1, numRuns: 500 };

const workerTotals = (a: Assignment): number[] => Object.values(a).map((c) => Object.values(c).reduce((s, n) => s + n, 0));
const spread = (xs: readonly number[]): number => (xs.length === 0 ? 0 : Math.max(...xs) - Math.min(...xs));

function classTotals(a: Assignment): Record<string, number> {
  const out: Record<string, number> = {};
  for (const counts of Object.values(a)) for (const [c, n] of Object.entries(counts)) if (n > 0) out[c] = (out[c] ?? 0) + n;
  return out;
}

function assertBalanced(a: Assignment, classes: readonly ClassWeight[], label: string): void {
  assert.ok(spread(workerTotals(a)) <= 1, `${label}: worker totals ${JSON.stringify(a)}`);
  for (const c of classes) assert.ok(spread(Object.values(a).map((x) => x[c.name] ?? 0)) <= 1, `${label}: class ${c.name} ${JSON.stringify(a)}`);
}

/** Users moved between two assignments: what appeared on some (worker, class) cell. */
function added(before: Assignment, after: Assignment): number {
  let n = 0;
  for (const [w, counts] of Object.entries(after)) for (const [c, k] of Object.entries(counts)) n += Math.max(0, k - (before[w]?.[c] ?? 0));
  return n;
}

function expectedSplit(classes: readonly ClassWeight[], total: number): Record<string, number> {
  const counts = new UserSequence(classes).countsFor(total);
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
}

const classesArb = fc
  .array(fc.record({ weight: fc.integer({ min: 1, max: 10 }), fixedCount: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 5 })) }), { minLength: 1, maxLength: 5 })
  .map((cs) => cs.map((c, i): ClassWeight => ({ name: `C${i}`, ...c })));

type Op = { kind: 'setTotal'; n: number } | { kind: 'addWorker' } | { kind: 'removeWorker'; at: number } | { kind: 'rebalance' };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('setTotal' as const), n: fc.integer({ min: 0, max: 200 }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('addWorker' as const) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('removeWorker' as const), at: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('rebalance' as const) }), weight: 1 },
);
const scenarioArb = fc.record({ classes: classesArb, workers: fc.integer({ min: 1, max: 20 }), ops: fc.array(opArb, { maxLength: 12 }) });

const workerId = (i: number): string => `w${String(i).padStart(3, '0')}`;

/** Runs a scenario, calling `check` after each operation with the assignment before and after it. */
function run(s: { classes: ClassWeight[]; workers: number; ops: Op[] }, check?: (op: Op, before: Assignment, after: Assignment, d: WorkerDispatch) => void): WorkerDispatch {
  const d = new WorkerDispatch(s.classes);
  let next = 0;
  for (; next < s.workers; next++) d.addWorker(workerId(next));
  for (const op of s.ops) {
    const before = d.assignment();
    if (op.kind === 'setTotal') d.setTotal(op.n);
    else if (op.kind === 'addWorker') d.addWorker(workerId(next++));
    else if (op.kind === 'removeWorker') {
      const id = d.workers[op.at % Math.max(1, d.workers.length)];
      if (id !== undefined) d.removeWorker(id);
    } else d.rebalance();
    check?.(op, before, d.assignment(), d);
  }
  return d;
}

describe('worker dispatch (users over workers)', () => {
  it('gives every total exactly the class split of the local user sequence', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        run(s, (op, _before, after, d) => {
          if ((op.kind !== 'setTotal' && op.kind !== 'rebalance') || d.workers.length === 0) return;
          const goal = Math.min(d.target, new UserSequence(s.classes).capacity);
          assert.deepEqual(classTotals(after), expectedSplit(s.classes, goal));
          assert.equal(d.total, goal);
        });
      }),
      SEEDED,
    );
  });

  it('keeps every class and every worker total within one user after setTotal and rebalance', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 0, max: 300 }), (s, n) => {
        const d = run(s);
        d.setTotal(n);
        assertBalanced(d.rebalance(), s.classes, `total ${n}`);
      }),
      SEEDED,
    );
  });

  it('keeps every class within one user at every step of a ramp from a balanced state', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 0, max: 300 }), (s, n) => {
        const d = run(s);
        d.rebalance();
        for (const a of d.rampTo(n, 7)) for (const c of s.classes) assert.ok(spread(Object.values(a).map((x) => x[c.name] ?? 0)) <= 1);
      }),
      SEEDED,
    );
  });

  it('only adds users when growing and only removes users when shrinking', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const capacity = new UserSequence(s.classes).capacity;
        let target = 0;
        run(s, (op, before, after, d) => {
          if (op.kind === 'rebalance') target = d.target;
          if (op.kind !== 'setTotal') return;
          const grew = op.n >= target;
          // With users pending (a worker left), the step also re-places them: that is placement, not growth.
          const pending = workerTotals(before).reduce((a, b) => a + b, 0) !== Math.min(target, capacity);
          target = op.n;
          if (d.workers.length === 0 || pending) return;
          for (const w of d.workers) {
            for (const c of s.classes) {
              const was = before[w]?.[c.name] ?? 0;
              const now = after[w]?.[c.name] ?? 0;
              assert.ok(grew ? now >= was : now <= was, `${grew ? 'growth moved' : 'shrink added'} ${w}/${c.name}: ${was} → ${now}`);
            }
          }
        });
      }),
      SEEDED,
    );
  });

  it('removes the newest users first, so shrinking retraces a ramp step by step', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 0, max: 150 }), fc.integer({ min: 1, max: 150 }), (s, from, by) => {
        const d = run(s);
        d.setTotal(from);
        d.rebalance();
        const up = [d.assignment(), ...d.rampTo(from + by, 1)];
        const down = d.rampTo(from, 1);
        assert.deepEqual(down, up.slice(0, -1).reverse());
        assert.deepEqual(d.assignment(), up[0]);
      }),
      SEEDED,
    );
  });

  it('is deterministic: the same operations give the same assignment', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        assert.deepEqual(run(s).assignment(), run(s).assignment());
      }),
      SEEDED,
    );
  });

  it('moves onto a new worker about the users it needs to reach balance, and hardly any between old workers', () => {
    fc.assert(
      fc.property(classesArb, fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 400 }), (classes, workers, n) => {
        const d = run({ classes, workers, ops: [{ kind: 'setTotal', n }, { kind: 'rebalance' }] });
        const before = d.assignment();
        d.addWorker('zzz');
        const after = d.rebalance();
        const onNew = workerTotals({ zzz: after.zzz ?? {} })[0]!;
        // The new worker needs floor or ceil of total/workers users, each one moved; greedy rebalancing sometimes
        // also has to shift a user between old workers whose classes it emptied unevenly.
        assert.ok(onNew <= Math.ceil(d.total / (workers + 1)));
        assert.ok(added(before, after) <= onNew + 2, `moved ${added(before, after)} for ${onNew} on the new worker`);
        assertBalanced(after, classes, 'after join');
      }),
      SEEDED,
    );
  });

  it('moves exactly a fair share onto a worker that joins 3 workers holding 90 users', () => {
    const d = new WorkerDispatch([{ name: 'A', weight: 2, fixedCount: 0 }, { name: 'B', weight: 1, fixedCount: 0 }]);
    for (const w of ['w1', 'w2', 'w3']) d.addWorker(w);
    const before = d.setTotal(90);
    d.addWorker('w4');
    const after = d.rebalance();
    assert.equal(added(before, after), workerTotals({ w4: after.w4! })[0]);
    assert.deepEqual(workerTotals(after).sort(), [22, 22, 23, 23]);
  });

  it('splits 8 users of weights 3:1 over 3 workers within one per class and worker', () => {
    const d = new WorkerDispatch([{ name: 'A', weight: 3, fixedCount: 0 }, { name: 'B', weight: 1, fixedCount: 0 }]);
    for (const w of ['w1', 'w2', 'w3']) d.addWorker(w);
    assert.deepEqual(d.setTotal(8), { w1: { A: 2, B: 1 }, w2: { A: 2, B: 0 }, w3: { A: 2, B: 1 } });
  });

  it('places a fixed count of 2 on two different workers out of 5, and caps an all-fixed run', () => {
    const d = new WorkerDispatch([{ name: 'Admin', weight: 1, fixedCount: 2 }, { name: 'Web', weight: 1, fixedCount: 0 }]);
    for (const w of ['a', 'b', 'c', 'd', 'e']) d.addWorker(w);
    const a = d.setTotal(10);
    assert.deepEqual(Object.values(a).map((x) => x.Admin), [1, 1, 0, 0, 0]);
    assert.deepEqual(workerTotals(a), [2, 2, 2, 2, 2]);
    const onlyFixed = new WorkerDispatch([{ name: 'Admin', weight: 1, fixedCount: 2 }]);
    for (const w of ['a', 'b', 'c', 'd', 'e']) onlyFixed.addWorker(w);
    onlyFixed.setTotal(10);
    assert.equal(onlyFixed.total, 2);
  });

  it('re-places the users of a removed worker on the survivors at the same total', () => {
    const classes = [{ name: 'A', weight: 3, fixedCount: 0 }, { name: 'B', weight: 1, fixedCount: 0 }];
    const d = new WorkerDispatch(classes);
    for (const w of ['w1', 'w2', 'w3', 'w4']) d.addWorker(w);
    const before = d.setTotal(100);
    d.removeWorker('w2');
    assert.equal(d.total, 75);
    const after = d.setTotal(100);
    assert.equal(d.total, 100);
    assert.deepEqual(Object.keys(after), ['w1', 'w3', 'w4']);
    assertBalanced(after, classes, 'after loss');
    for (const w of ['w1', 'w3', 'w4']) for (const c of ['A', 'B']) assert.ok(after[w]![c]! >= before[w]![c]!);
  });

  it('ramps from 0 to 10 in steps of 3 through totals 3, 6, 9 and 10', () => {
    const d = new WorkerDispatch([{ name: 'A', weight: 1, fixedCount: 0 }]);
    d.addWorker('w1');
    d.addWorker('w2');
    assert.deepEqual(d.rampTo(10, 3).map((a) => workerTotals(a).reduce((x, y) => x + y, 0)), [3, 6, 9, 10]);
    assert.deepEqual(d.rampTo(0, 4).map((a) => workerTotals(a).reduce((x, y) => x + y, 0)), [6, 2, 0]);
  });

  it('records the target without workers and assigns it when a worker joins', () => {
    const d = new WorkerDispatch([{ name: 'A', weight: 1, fixedCount: 0 }]);
    assert.deepEqual(d.setTotal(5), {});
    assert.equal(d.total, 0);
    assert.equal(d.target, 5);
    d.addWorker('w1');
    assert.deepEqual(d.rebalance(), { w1: { A: 5 } });
  });

  it('drops users of classes no longer in play and fills the new split on the next step', () => {
    const d = new WorkerDispatch([{ name: 'A', weight: 1, fixedCount: 0 }, { name: 'B', weight: 1, fixedCount: 0 }]);
    d.addWorker('w1');
    d.addWorker('w2');
    d.setTotal(10);
    d.setClasses([{ name: 'A', weight: 1, fixedCount: 0 }]);
    assert.deepEqual(d.assignment(), { w1: { A: 3 }, w2: { A: 2 } });
    assert.deepEqual(d.setTotal(10), { w1: { A: 5 }, w2: { A: 5 } });
  });

  it('rejects negative or fractional totals and steps', () => {
    const d = new WorkerDispatch([{ name: 'A', weight: 1, fixedCount: 0 }]);
    assert.throws(() => d.setTotal(-1), RangeError);
    assert.throws(() => d.setTotal(1.5), RangeError);
    assert.throws(() => d.rampTo(10, 0), RangeError);
  });

  it('spreads 50,000 users over 500 workers (benchmark-sized, no timing asserted)', () => {
    const d = new WorkerDispatch([{ name: 'A', weight: 5, fixedCount: 0 }, { name: 'B', weight: 3, fixedCount: 0 }, { name: 'Admin', weight: 1, fixedCount: 7 }]);
    for (let i = 0; i < 500; i++) d.addWorker(workerId(i));
    d.setTotal(50_000);
    assert.equal(d.total, 50_000);
    assert.ok(spread(workerTotals(d.rebalance())) <= 1);
  });
});
