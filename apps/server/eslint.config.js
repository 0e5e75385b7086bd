import tseslint from 'typescript-eslint';

const KYSELY_VALUES = {
  name: 'kysely',
  allowTypeImports: true,
  message: 'Only *.repository.ts and src/db/ hold SQL; import Kysely types with `import type`.',
};
const NO_REPOSITORIES = {
  group: ['**/*.repository', '**/*.repository.js'],
  message: 'Routes call services; only services (and other repositories) import repositories.',
};
const NO_SERVICES = {
  group: ['**/*.service', '**/*.service.js'],
  message: 'Schemas are shapes only; they never import services.',
};
const NO_MLFLOW = {
  group: ['**/mlflow/**'],
  message: 'Core modules stand alone: the MLflow module translates to them, they never import it.',
};
const NO_MODULES = {
  group: ['**/modules/**'],
  message: 'The context depends on interfaces (context.ts); modules implement them and create-context.ts puts them together.',
};
// The MLflow module translates: it calls other modules' services, never their repositories (a type is
// fine), and its own repositories hold only SQL on its `mlflow_*` tables (docs/architecture.md).
const NO_OTHER_REPOSITORIES = {
  group: ['../*/*.repository', '../*/*.repository.js', '**/modules/*/*.repository', '**/modules/*/*.repository.js'],
  allowTypeImports: true,
  message: "The MLflow module translates to Tora's services; it imports no other module's repository (types are fine).",
};
// Every module but the MLflow translator itself and transfer (which carries the MLflow tables in exports).
const CORE = '{analysis,artifacts,auth,client,compare,experiments,files,health,keys,metrics,security,workspaces}';
const QUERY_OUTSIDE_REPOSITORY = {
  selector: 'CallExpression[callee.property.name=/^(selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto)$/]',
  message: 'Queries live in *.repository.ts; call a repository function.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'eslint.config.js', 'bin/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      // Fastify plugins and handlers are async by convention, with or without an await inside.
      '@typescript-eslint/require-await': 'off',
      // Migrations are frozen against Kysely<any> on purpose.
      '@typescript-eslint/no-explicit-any': ['error', { ignoreRestArgs: true }],
    },
  },
  {
    files: ['src/db/migrations/**', 'src/db/migrate.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  // Layers (docs/architecture.md): only repositories and src/db/ hold SQL, so only they import Kysely's
  // values (`sql`, the dialects) or build queries; type-only imports (`Kysely<DB>` parameters) are fine.
  // Routes call services, never repositories; schemas are plain shapes, never services. Each rule's
  // options are complete for the files it names (flat config replaces a rule's options, it does not merge
  // them); test/architecture.test.ts proves every one of them bites.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.repository.ts', 'src/db/**', 'src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [KYSELY_VALUES] }],
      'no-restricted-syntax': ['error', QUERY_OUTSIDE_REPOSITORY],
    },
  },
  {
    files: ['src/**/*.routes.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [KYSELY_VALUES], patterns: [NO_REPOSITORIES] }] },
  },
  {
    files: ['src/**/*.schemas.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [KYSELY_VALUES], patterns: [NO_SERVICES] }] },
  },
  // Core modules never import the MLflow module (it translates MLflow's shapes to their services);
  // context.ts imports no module. The same rules as above for each kind of file, plus these.
  {
    files: [`src/modules/${CORE}/**/*.ts`],
    ignores: ['src/**/*.repository.ts', 'src/**/*.test.ts', 'src/**/*.routes.ts', 'src/**/*.schemas.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [KYSELY_VALUES], patterns: [NO_MLFLOW] }] },
  },
  {
    files: [`src/modules/${CORE}/**/*.repository.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: [NO_MLFLOW] }] },
  },
  {
    files: [`src/modules/${CORE}/**/*.routes.ts`],
    rules: { 'no-restricted-imports': ['error', { paths: [KYSELY_VALUES], patterns: [NO_REPOSITORIES, NO_MLFLOW] }] },
  },
  {
    files: [`src/modules/${CORE}/**/*.schemas.ts`],
    rules: { 'no-restricted-imports': ['error', { paths: [KYSELY_VALUES], patterns: [NO_SERVICES, NO_MLFLOW] }] },
  },
  {
    files: ['src/modules/mlflow/**/*.ts'],
    ignores: ['src/**/*.repository.ts', 'src/**/*.test.ts', 'src/**/*.routes.ts', 'src/**/*.schemas.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [KYSELY_VALUES], patterns: [NO_OTHER_REPOSITORIES] }] },
  },
  {
    files: ['src/modules/mlflow/**/*.repository.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NO_OTHER_REPOSITORIES] }] },
  },
  {
    files: ['src/context.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [KYSELY_VALUES], patterns: [NO_MODULES] }] },
  },
  {
    // Tests read loosely typed JSON responses.
    files: ['test/**', 'src/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
