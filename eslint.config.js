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
    // TypeScript is linted with its types (the project's tsconfig.json), for the mistakes only types show:
    // a promise nobody awaits or catches, or one handed to something that expects a plain function.
    // Plain JavaScript (the search page, config files) is linted without types.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/no-for-in-array': 'error',
      '@typescript-eslint/no-implied-eval': 'error',
    },
  },
  {
    // The search page's script runs in the browser.
    files: ['src/server/web/**/*.js'],
    languageOptions: {
      globals: { document: 'readonly', fetch: 'readonly', Headers: 'readonly', FormData: 'readonly', sessionStorage: 'readonly', CustomEvent: 'readonly' },
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
);
