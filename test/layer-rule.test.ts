// The layer import rule of DESIGN.md §2, run through ESLint on sample imports from each layer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Linter } from 'eslint';
import layers from '../scripts/eslint/layer-imports.mjs';
import { repoRoot } from './helpers.ts';

function problems(file: string, source: string): string[] {
  const linter = new Linter({ configType: 'flat', cwd: repoRoot });
  const messages = linter.verify(
    source,
    [{ files: ['**/*.ts'], plugins: { cicada: layers }, rules: { 'cicada/layer-imports': 'error' }, languageOptions: { sourceType: 'module' } }],
    { filename: path.join(repoRoot, file) },
  );
  return messages.map((m) => m.message);
}

describe('the layer import rule', () => {
  it('lets stats import core', () => {
    assert.deepEqual(problems('src/stats/x.ts', "import { a } from '../core/events.ts';"), []);
  });
  it('forbids core importing stats', () => {
    assert.deepEqual(problems('src/core/x.ts', "import { a } from '../stats/histogram.ts';"), ["layer 'core' may not import from 'stats' (DESIGN.md §2: imports point down only)"]);
  });
  it('forbids protocols importing stats and exporters importing runners', () => {
    assert.equal(problems('src/protocols/http/x.ts', "import { a } from '../../stats/view.ts';").length, 1);
    assert.equal(problems('src/exporters/x.ts', "export { a } from '../runners/local-runner.ts';").length, 1);
  });
  it('lets the cli import every layer', () => {
    assert.deepEqual(problems('src/cli/x.ts', "import '../runners/a.ts'; import '../web/b.ts'; import '../index.ts';"), []);
  });
  it('ignores packages and files outside src', () => {
    assert.deepEqual(problems('src/core/x.ts', "import 'node:fs'; import { z } from 'zod';"), []);
    assert.deepEqual(problems('test/x.ts', "import '../src/stats/view.ts';"), []);
  });
});
