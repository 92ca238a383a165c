// Lint for every package: type-checked TypeScript rules (promises above all), Lit and Lit
// accessibility rules for the Lit packages. `npm run lint` runs it with zero warnings allowed,
// beside dependency-cruiser (architecture) and knip (unused files, exports, dependencies).
import tseslint from 'typescript-eslint';
import lit from 'eslint-plugin-lit';
import litA11y from 'eslint-plugin-lit-a11y';

const litPackages = ['widget/src/**/*.ts', 'admin/src/**/*.ts'];

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '.tools/**', '.tmp/**', '.calbridge/**', 'bench/results/**', '**/*.d.ts', '**/*.d.mts', '**/*.js', '**/*.mjs', '**/*.cjs'],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // Tests and the sandbox read JSON whose shape they then assert; `any` there is deliberate.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
      // An AbortSignal's reason is the standard rejection of an aborted operation, and a caught
      // value is passed on as it was thrown: neither is ours to wrap.
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
    },
  },
  {
    // Tests and the sandbox stringify fetch inputs and JSON values they asserted the shape of.
    files: ['test/**/*.ts', '**/*.test.ts', '**/test-support/**/*.ts'],
    rules: { '@typescript-eslint/no-base-to-string': 'off', '@typescript-eslint/unbound-method': 'off' },
  },
  {
    // Raw SQL only in repositories (`*.repository.ts`, SQL taking `tx`) and the database layer
    // (server/src/db/): every other module asks a repository, so a query is found where its table's
    // other queries are (issue 17). The job queue's adapter (jobs/queue.ts: graphile-worker's SQL
    // functions) is the one exception left; it belongs in a jobs repository.
    files: ['server/src/**/*.ts'],
    ignores: ['server/src/**/*.repository.ts', 'server/src/db/**', 'server/src/**/*.test.ts', 'server/src/**/*test-support*', 'server/src/**/test-support/**', 'server/src/jobs/queue.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.property.name='query']", message: 'SQL belongs in a *.repository.ts (or server/src/db/): call a repository function here.' },
      ],
    },
  },
  {
    // Tool configuration and the benches sit outside every package's tsconfig: linted without type information.
    files: ['**/vitest.config.ts', 'vitest.config.ts', '**/vite.config.ts', 'bench/**/*.ts'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: litPackages,
    plugins: { lit, 'lit-a11y': litA11y },
    rules: {
      ...lit.configs.recommended.rules,
      ...litA11y.configs.recommended.rules,
      // Lit calls template event listeners with the host as `this` (`@click=${this.open}` is bound).
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
