// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'scratch/', 'test-artifacts/'] },
  js.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', performance: 'readonly' },
    },
  },
  ...tseslint.configs.recommended,
  {
    // The search page's script runs in the browser.
    files: ['src/server/web/**/*.js'],
    languageOptions: { globals: { document: 'readonly', fetch: 'readonly', Headers: 'readonly', FormData: 'readonly', sessionStorage: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
);
