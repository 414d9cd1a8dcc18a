// Lint: typescript-eslint type-checked rules, eslint-plugin-security, and the layer import rule; the web UI (ui/) too.
import tseslint from 'typescript-eslint';
import security from 'eslint-plugin-security';
import layers from './scripts/eslint/layer-imports.mjs';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'operator/node_modules/**', 'test/fixtures/syntax-error.ts', 'test/fixtures/throws-at-load.ts'] },
  ...tseslint.configs.recommendedTypeChecked,
  security.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { cicada: layers },
    rules: {
      'cicada/layer-imports': 'error',
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', name: ['describe', 'it', 'test', 'suite'], package: 'node:test' }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-unsafe-function-type': 'off',
      // Paths come from the user's own flags (report files, cicadafiles): that is the tool's job.
      'security/detect-non-literal-fs-filename': 'off',
      // Index access on our own typed maps is not injection.
      'security/detect-object-injection': 'off',
    },
  },
  {
    files: ['**/*.test.ts', '**/*.test-helper.ts', 'test/**', 'operator/test/**', 'bench/**', 'examples/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'security/detect-non-literal-regexp': 'off',
      'security/detect-child-process': 'off',
      // Tasks are async by contract even when a particular one awaits nothing.
      '@typescript-eslint/require-await': 'off',
    },
  },
  { files: ['**/*.mjs', '**/*.js'], ...tseslint.configs.disableTypeChecked },
  // The web UI: eslint-plugin-security and typescript-eslint's rules without type information (`npm run typecheck`
  // checks ui/ strictly with its own tsconfig). Preact renders strings as text; the ways around that are banned here.
  {
    files: ['ui/**/*.ts', 'ui/**/*.tsx'],
    ...tseslint.configs.disableTypeChecked,
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      'cicada/layer-imports': 'off',
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: "JSXAttribute[name.name='dangerouslySetInnerHTML']", message: 'The UI renders text only: no dangerouslySetInnerHTML (XSS).' },
        { selector: "MemberExpression[property.name=/^(innerHTML|outerHTML)$/]", message: 'The UI renders text only: no innerHTML/outerHTML (XSS).' },
        { selector: "CallExpression[callee.property.name='insertAdjacentHTML']", message: 'The UI renders text only: no insertAdjacentHTML (XSS).' },
        { selector: "CallExpression[callee.object.name='document'][callee.property.name=/^write(ln)?$/]", message: 'No document.write (XSS).' },
      ],
    },
  },
);
