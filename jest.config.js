// Three suites: unit (*.test.ts, pure, no network), integration (*.integration.test.ts, real Kafka and ClickHouse)
// and end-to-end (test/**/*.e2e.test.ts, services as users run them). The global set-up resolves Kafka and the
// ClickHouse server once (test/setup/global-setup.js).
const transform = {
  '^.+\\.tsx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
};
const common = { transform, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };
// Set per project, not globally: jest runs a project's global set-up only when a test of that project runs, so a
// unit-only run starts no server.
const servers = { globalSetup: '<rootDir>/test/setup/global-setup.js', globalTeardown: '<rootDir>/test/setup/global-teardown.js' };
const ignore = ['/node_modules/', '/dist/', '/\\.data/'];

module.exports = {
  maxWorkers: 2,
  // a global option (jest ignores it inside projects): integration and e2e tests wait on real Kafka and ClickHouse
  testTimeout: 120000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{packages,services,tools,deploy,bench}/**/*.test.ts'],
      testPathIgnorePatterns: [...ignore, '\\.integration\\.test\\.ts$', '\\.e2e\\.test\\.ts$'],
    },
    {
      ...common,
      ...servers,
      displayName: 'integration',
      testMatch: ['<rootDir>/{packages,services,tools,deploy}/**/*.integration.test.ts'],
      testPathIgnorePatterns: ignore,
    },
    {
      ...common,
      ...servers,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e.test.ts'],
      testPathIgnorePatterns: ignore,
    },
  ],
};
