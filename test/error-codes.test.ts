// Error codes are stable identifiers: every layer's list is unique, and the classes use codes from the lists.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CicadafileError, coreErrorCodes, DefinitionError, IllegalStateError, UsageError } from '../src/core/errors.ts';
import { exporterErrorCodes, ReportWriteError } from '../src/exporters/errors.ts';
import { statsErrorCodes } from '../src/stats/errors.ts';

describe('error codes', () => {
  it('are unique across layers', () => {
    const all = [...coreErrorCodes, ...statsErrorCodes, ...exporterErrorCodes];
    assert.equal(new Set(all).size, all.length);
    for (const code of all) assert.match(code, /^CICADA_ERR_[A-Z_]+$/);
  });
  it('are the ones the error classes carry, with the exit codes of DESIGN.md §1', () => {
    const samples = [new UsageError('x'), new CicadafileError('x'), new DefinitionError('x'), new IllegalStateError('x'), new ReportWriteError('p', 'w', new Error('e'))];
    const listed = new Set<string>([...coreErrorCodes, ...exporterErrorCodes]);
    for (const e of samples) assert.ok(listed.has(e.code), e.code);
    assert.deepEqual(samples.map((e) => e.exitCode), [2, 2, 2, 3, 2]);
  });
});
