import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UserSequence } from './user-sequence.ts';

describe('user sequence (dispatch of users to classes)', () => {
  it('interleaves weights 5:1 smoothly', () => {
    const seq = new UserSequence([{ name: 'A', weight: 5, fixedCount: 0 }, { name: 'B', weight: 1, fixedCount: 0 }]);
    const order = Array.from({ length: 12 }, (_, i) => seq.at(i)).join('');
    assert.equal(order.split('B').length - 1, 2);
    assert.doesNotMatch(order, /AAAAAA/);
  });

  it('splits every prefix within one user of the exact weighted share', () => {
    const classes = [{ name: 'A', weight: 3, fixedCount: 0 }, { name: 'B', weight: 2, fixedCount: 0 }, { name: 'C', weight: 0.5, fixedCount: 0 }];
    const seq = new UserSequence(classes);
    for (let n = 1; n <= 300; n++) {
      const counts = seq.countsFor(n);
      for (const c of classes) {
        const exact = (n * c.weight) / 5.5;
        assert.ok(Math.abs((counts[c.name] ?? 0) - exact) <= 1, `n=${n} ${c.name}: ${counts[c.name]} vs ${exact}`);
      }
    }
  });

  it('places fixed counts first and then only weighted classes', () => {
    const seq = new UserSequence([{ name: 'Admin', weight: 1, fixedCount: 2 }, { name: 'A', weight: 1, fixedCount: 0 }, { name: 'B', weight: 1, fixedCount: 0 }]);
    assert.deepEqual(seq.countsFor(1), { Admin: 1 });
    assert.deepEqual(seq.countsFor(2), { Admin: 2 });
    assert.deepEqual(seq.countsFor(6), { Admin: 2, A: 2, B: 2 });
  });

  it('cannot place more users than the fixed counts when nothing is weighted', () => {
    const seq = new UserSequence([{ name: 'Admin', weight: 1, fixedCount: 3 }]);
    assert.equal(seq.capacity, 3);
    assert.deepEqual(seq.countsFor(10), { Admin: 3 });
  });

  it('ignores weights with equal weights', () => {
    const seq = new UserSequence([{ name: 'A', weight: 9, fixedCount: 0 }, { name: 'B', weight: 1, fixedCount: 0 }], true);
    assert.deepEqual(seq.countsFor(10), { A: 5, B: 5 });
  });
});
