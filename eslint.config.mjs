import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// ---- boundaries: which folder may import what
// kafkajs only inside packages/kafka, @clickhouse/client only inside packages/clickhouse, chdb nowhere (it is only the
// engine library deploy/clickhouse's launcher loads); a service never imports another service (by package name or
// by a relative path); packages never import services; bench, scripts, deploy, tools and end-to-end tests use a
// service's public entry point (@groupscope/<service>), not its src/.
const SERVICES = ['gateway', 'enricher', 'writer', 'query'];
const KAFKAJS = { regex: '^kafkajs(/|$)', message: 'kafkajs stays inside packages/kafka: use @groupscope/kafka.' };
const CLICKHOUSE = { regex: '^@clickhouse/client(/|$)', message: '@clickhouse/client stays inside packages/clickhouse: use @groupscope/clickhouse.' };
const CHDB = {
  regex: '^chdb(/|$)',
  message: "chdb is only the engine the local ClickHouse server runs (deploy/clickhouse): reach ClickHouse over HTTP with @groupscope/clickhouse.",
};
const otherServices = (own) =>
  SERVICES.filter((s) => s !== own).flatMap((s) => [
    { regex: `^@groupscope/${s}(/|$)`, message: `services never import each other (${s}): move shared code to packages/.` },
    { regex: `^\\.{1,2}/(.*/)?${s}(/|$)`, message: `services never import each other (${s}): move shared code to packages/.` },
  ]);
const SERVICE_INTERNALS = [
  { regex: `^@groupscope/(${SERVICES.join('|')})/`, message: "import a service's public entry point (@groupscope/<service>), not its internals." },
  { regex: '(^|/)services/[^/]+/(src|test)(/|$)', message: "import a service's public entry point (@groupscope/<service>), not its internals." },
];
const ANY_SERVICE = [{ regex: `^@groupscope/(${SERVICES.join('|')})(/|$)`, message: 'packages never import services.' }];

/** The import rules for files matching `files`: `patterns` are forbidden, both as imports and as require(). */
function boundary(files, patterns) {
  return {
    files,
    rules: {
      'no-restricted-imports': ['error', { patterns }],
      'no-restricted-syntax': [
        'error',
        ...patterns.map((p) => ({
          selector: `CallExpression[callee.name='require'] > Literal.arguments[value=/${p.regex.replaceAll('/', '\\/')}/]`,
          message: p.message,
        })),
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['**/*.tmp.ts', '**/node_modules/**', '**/dist/**', '.data/**', 'deploy/kafka/lib/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', fetch: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  // a later entry replaces an earlier one for the files it matches: the general cases first, the exceptions after
  boundary(['**/*.{ts,js,mjs,cjs}'], [KAFKAJS, CLICKHOUSE, CHDB, ...SERVICE_INTERNALS]),
  boundary(['packages/**'], [KAFKAJS, CLICKHOUSE, CHDB, ...ANY_SERVICE]),
  boundary(['packages/kafka/**'], [CLICKHOUSE, CHDB, ...ANY_SERVICE]),
  boundary(['packages/clickhouse/**'], [KAFKAJS, CHDB, ...ANY_SERVICE]),
  ...SERVICES.map((s) => boundary([`services/${s}/**`], [KAFKAJS, CLICKHOUSE, CHDB, ...otherServices(s)])),
  // the broker readiness probe runs under plain node before anything is compiled: kafkajs directly is its job;
  // the deploy tests check the ClickHouse server with the official client, as users' own code reaches it
  boundary(['deploy/kafka/wait-ready.js'], [CLICKHOUSE, CHDB, ...SERVICE_INTERNALS]),
  boundary(['deploy/**/*.integration.test.ts'], [KAFKAJS, CHDB, ...SERVICE_INTERNALS]),
  // services/query/test/pipeline.ts starts the enricher and writer for the Salesforce pipeline test (an end-to-end
  // test's job) until that test moves to test/
  boundary(['services/query/test/pipeline.ts'], [KAFKAJS, CLICKHOUSE, CHDB]),
  {
    // the web UI runs in the browser: its globals, and none of Node's (TypeScript's lib settings enforce the same)
    files: ['services/web/src/**/*.{ts,tsx}'],
    languageOptions: {
      globals: {
        window: 'readonly', document: 'readonly', navigator: 'readonly', location: 'readonly', history: 'readonly',
        Blob: 'readonly', File: 'readonly', ResizeObserver: 'readonly', AbortController: 'readonly', DOMException: 'readonly',
        Response: 'readonly', URLSearchParams: 'readonly',
        process: 'off', require: 'off', module: 'off', __dirname: 'off', Buffer: 'off',
      },
    },
  },
);
