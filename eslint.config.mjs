// Lint rules beyond the formatter: TypeScript's recommended set, plus the two
// house rules of DESIGN.md — no app imports another app's sources, and only
// the config package reads the environment.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../../*/src', '../../*/src/*', '../../../*/src/*'], message: 'import another app or package by its name, never its src/' },
          ],
        },
      ],
    },
  },
  {
    // The pages' scripts run in the browser, as they are.
    files: ['apps/*/public/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser } },
  },
  {
    // Configuration is parsed once, by @docproc/config: nothing else reads the environment.
    files: ['apps/*/src/**/*.ts', 'packages/*/src/**/*.ts'],
    ignores: ['packages/config/src/**', 'packages/testkit/src/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'read settings from the Config that main parsed (packages/config)' },
      ],
    },
  },
);
