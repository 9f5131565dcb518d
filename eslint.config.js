import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', '.bench/**', 'node_modules/**', 'examples/**', '__tests__/fixtures/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-control-regex': 'off',
    },
  },
  {
    // The core stays pure: no GitHub toolkit, no Octokit, no environment.
    files: ['src/core/**', 'src/policies/**', 'src/inventory/**', 'src/checks/**', 'src/formats/**', 'src/report/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@actions/*', '@octokit/*'] }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'The core never reads the environment.' }],
    },
  },
);
