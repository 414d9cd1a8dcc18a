// The CLI's checks around scenarios that need the machine: the open-file limit the user pool may outgrow.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from '../runners/executors/index.ts';
import { openFileLimit, warnAboutFileLimit } from './scenarios.ts';
import { silentLogger } from '../core/logger.ts';

const LIMITS = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n';

describe('the open-file limit check', () => {
  it('reads the soft limit from /proc/self/limits, and nothing from a system without it', () => {
    assert.equal(openFileLimit(() => LIMITS), 1024);
    assert.equal(openFileLimit(() => { throw new Error('ENOENT'); }), undefined);
  });

  it('warns when an arrival rate may grow its pool past the limit (regression: 50,000 default users failed with EMFILE), and not below it', () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warning: (m: string) => warnings.push(m) };
    const big = parseScenario('default', { executor: 'constant-arrival-rate', rate: 5000, duration: '10s' }, 'test', { stopTimeoutMs: 0 });
    warnAboutFileLimit([big], logger, 20_000);
    assert.match(warnings[0] ?? '', /may grow to 50000 users[\s\S]*only 20000 files \(ulimit -n\)[\s\S]*--max-users/);
    const small = parseScenario('default', { executor: 'constant-arrival-rate', rate: 50, duration: '10s' }, 'test', { stopTimeoutMs: 0 });
    warnAboutFileLimit([small], logger, 20_000);
    assert.equal(warnings.length, 1);
  });
});
