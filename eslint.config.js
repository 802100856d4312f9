import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/.examples/**',
      '**/test-artifacts/**',
      '**/node_modules/**',
      '**/.turbo/**',
      'apps/bench/reports/**',
      'apps/docs/site/**',
      '**/*.wasm',
      '**/wasm/build/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { console: 'readonly', process: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // `||` turns an explicit 0 into the default; the convention is `??`.
      '@typescript-eslint/prefer-nullish-coalescing': 'off',
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportDeclaration[source.value=/^\\.\\.\\/\\.\\.\\/packages/]',
          message: 'Import other packages by name.',
        },
        {
          selector: "CallExpression[callee.property.name='only'][callee.object.name=/^(it|test|describe)$/]",
          message: 'no focused tests',
        },
      ],
    },
  },
);
