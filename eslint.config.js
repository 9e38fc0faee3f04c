import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', '.cache/', 'python/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: globals.node } },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    files: ['scripts/**', 'test/**', 'bin/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // Core never imports the UI layer.
    files: ['src/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/ui/**', 'ink', 'ink-*', 'react', '@inkjs/*'] }],
    },
  },
  {
    // The UI renders core state and calls core commands: it never spawns, does HTTP or touches files.
    files: ['ui/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['child_process', 'node:child_process', 'http', 'node:http', 'https', 'node:https', 'net', 'node:net', 'fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'execa', 'undici', '@lydell/node-pty'],
        },
      ],
    },
  },
);
