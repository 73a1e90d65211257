import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'reports/', 'scratch/', 'schema/', 'sut/*/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The CLI is the one place that prints; everything else uses `debug` or the progress reporter.
    files: ['src/cli.ts', 'src/cli/**', 'bin/**', 'bench/**', 'tools/**'],
    languageOptions: { globals: globals.node },
    rules: { 'no-console': 'off' },
  },
);
