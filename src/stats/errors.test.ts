// Tests of the stats layer's error codes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { coreErrorCodes, ExitCode } from '../core/errors.ts';
import { StatsError, statsErrorCodes } from './errors.ts';

describe('stats errors', () => {
  it('uses unique codes prefixed CICADA_ERR_STATS_ that no core code repeats', () => {
    assert.equal(new Set(statsErrorCodes).size, statsErrorCodes.length);
    for (const code of statsErrorCodes) {
      assert.match(code, /^CICADA_ERR_STATS_[A-Z_]+$/);
      assert.ok(!(coreErrorCodes as readonly string[]).includes(code));
    }
  });

  it('maps to the internal-error exit code', () => {
    const e = new StatsError('CICADA_ERR_STATS_BAD_HISTOGRAM', 'bad');
    assert.equal(e.exitCode, ExitCode.internal);
    assert.equal(e.code, 'CICADA_ERR_STATS_BAD_HISTOGRAM');
  });
});
