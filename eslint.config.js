import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/build/**', '**/node_modules/**', 'scripts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['packages/api/src/**', 'packages/datastore/src/**', 'bgp/src/**', 'ipam/src/**', 'felix/src/**', 'packages/netlink/src/**'],
    ignores: ['**/bin/**'],
    rules: { 'no-console': 'error' },
  },
);
