// ESLint (flat config): typescript-eslint's type-checked recommended rules over src/, test/ and bench/,
// plus exhaustive switches. Formatting is Prettier's job (`npm run lint` runs `prettier --check` as its own
// step), so no formatting rule is enabled here: the recommended sets below contain none.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Node's globals for the few plain JavaScript files (jest configs, the coverage runner, one ES module helper). */
const nodeGlobals = {
  require: 'readonly',
  module: 'writable',
  exports: 'writable',
  __dirname: 'readonly',
  __filename: 'readonly',
  process: 'readonly',
  console: 'readonly',
  URL: 'readonly',
};

export default defineConfig(
  globalIgnores(['dist/', 'dist-bench/', 'coverage/', 'artifacts/']),
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  // Type information for every .ts file from the nearest tsconfig.json: tsconfig.json covers src/ and
  // test/, bench/tsconfig.json covers bench/.
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A switch over a union names every member, so adding a member (a job state, an error action)
      // fails the lint where it is not handled; a `default` does not count as handling it.
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      // Types are imported with `import type`, so what a module loads at run time is visible in its imports.
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/consistent-type-exports': 'error',
      // `_name` marks a binding kept for its position or to leave it out of a rest (`{ id: _id, ...rest }`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Small files named after one concept, short functions: a file over 400 lines holds more than one
    // concept; a function over 80 lines says why in the comment that disables the rule for it.
    files: ['src/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 400 }],
      'max-lines-per-function': ['error', { max: 80 }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read HTTP bodies, JSON lines, YAML manifests and OpenAPI documents whose shape is exactly what
      // the test's expect() calls check; typing them first would state each assertion twice. src/ and bench/
      // keep these rules (src/ has no `any`).
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Bottleneck, BullMQ processors and fastify handlers take functions that return a promise; a test's
      // stand-in (`async () => 'ok'`) says that directly. src/ keeps the rule.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Plain JavaScript (jest configs, test/support/k8sValidate.mjs, this file): no tsconfig includes them,
    // so they get the JavaScript rules without type information.
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: nodeGlobals },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
  },
);
