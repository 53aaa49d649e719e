// Three suites: unit (*.test.ts, pure, no network), integration (*.integration.test.ts, real Kafka and ClickHouse)
// and end-to-end (test/**/*.e2e.test.ts, services as users run them). The global set-up resolves Kafka once.
const transform = {
  '^.+\\.tsx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
};
const common = { transform, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };
const ignore = ['/node_modules/', '/dist/', '/\\.data/'];

module.exports = {
  globalSetup: '<rootDir>/test/setup/global-setup.js',
  globalTeardown: '<rootDir>/test/setup/global-teardown.js',
  maxWorkers: 2,
  // a global option (jest ignores it inside projects): integration and e2e tests wait on real Kafka and ClickHouse
  testTimeout: 120000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{packages,services,tools}/**/*.test.ts'],
      testPathIgnorePatterns: [...ignore, '\\.integration\\.test\\.ts$', '\\.e2e\\.test\\.ts$'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{packages,services,tools,deploy}/**/*.integration.test.ts'],
      testPathIgnorePatterns: ignore,
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e.test.ts'],
      testPathIgnorePatterns: ignore,
    },
  ],
};
