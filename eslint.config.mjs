// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'libs/db/src/generated/**',
      '.data/**',
      '**/*.mjs',
      '**/*.js',
      'bench/.*.ts',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read configuration through @modelsmith/config only.',
        },
      ],
    },
  },
  {
    files: [
      'libs/config/src/**/*.ts',
      // The CLI is a client of the platform: its own settings (MODELSMITH_URL, …) are read there only.
      'apps/cli/src/config.ts',
      'scripts/**/*.ts',
      'test/**/*.ts',
      'bench/**/*.ts',
      'prisma.config.ts',
      '**/*.spec.ts',
      '**/*.int-spec.ts',
      '**/*.e2e-spec.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // A lib's main barrel (`@modelsmith/<lib>`) loads no Nest; its Nest modules, providers and tokens live
    // in libs/<lib>/src/nest/ (`@modelsmith/<lib>/nest`). Type-only imports load nothing and are allowed.
    files: ['libs/*/src/**/*.ts'],
    ignores: ['libs/*/src/nest/**', '**/*.spec.ts', '**/*.int-spec.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/*', 'nestjs-pino', '@modelsmith/*/nest', '**/nest', '**/nest/*'],
              allowTypeImports: true,
              message:
                'Nest pieces of a lib belong in libs/<lib>/src/nest/ (@modelsmith/<lib>/nest), so that its main barrel loads no Nest.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts', 'bench/platform-*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
