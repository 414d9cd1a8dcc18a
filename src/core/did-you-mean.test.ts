// Tests for the "did you mean" suggestions: edit distance and candidate picking.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { didYouMean, editDistance } from './did-you-mean.ts';

describe('editDistance', () => {
  it('is 0 for equal words and the length of the other word for an empty one', () => {
    assert.equal(editDistance('users', 'users'), 0);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('abc', ''), 3);
  });

  it('counts a swap of two neighbouring letters as one edit', () => {
    assert.equal(editDistance('uesrs', 'users'), 1);
    assert.equal(editDistance('ab', 'ba'), 1);
  });

  it('counts insertions, deletions and substitutions', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('spawn-rat', 'spawn-rate'), 1);
    assert.equal(editDistance('host', 'hose'), 1);
  });

  it('is symmetric', () => {
    for (const [a, b] of [['headless', 'haedles'], ['csv', 'json'], ['tags', 'exclude-tags']] as const) {
      assert.equal(editDistance(a, b), editDistance(b, a));
    }
  });
});

describe('didYouMean', () => {
  const flags = ['--users', '--spawn-rate', '--run-time', '--headless', '--host', '--html', '--csv', '--csv-full-history'];

  it('suggests --users for --uesrs', () => {
    assert.equal(didYouMean('--uesrs', flags), '--users');
  });

  it('suggests the flag a unique prefix starts', () => {
    assert.equal(didYouMean('--spawn', flags), '--spawn-rate');
  });

  it('matches across underscores, camelCase and dashes', () => {
    assert.equal(didYouMean('spawn_rate', ['users', 'spawn-rate']), 'spawn-rate');
    assert.equal(didYouMean('spawnRate', ['users', 'spawn-rate']), 'spawn-rate');
    assert.equal(didYouMean('-users', flags), '--users');
  });

  it('suggests nothing when no candidate is close', () => {
    assert.equal(didYouMean('--frobnicate', flags), undefined);
    assert.equal(didYouMean('', flags), undefined);
  });

  it('does not guess from one or two letters', () => {
    assert.equal(didYouMean('-x', ['--users', '-u']), undefined);
  });

  it('suggests nothing for an ambiguous prefix', () => {
    assert.equal(didYouMean('--cs', flags), undefined);
  });
});
