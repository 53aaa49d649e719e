// Resolves the Kafka cluster and the ClickHouse server that integration and end-to-end tests use, each in this order:
//   1. endpoints from the environment: KAFKA_BROKERS; CLICKHOUSE_URL (+ CLICKHOUSE_USER, CLICKHOUSE_PASSWORD);
//   2. containers from the testcontainers library, where a container runtime answers (developer laptops);
//   3. the project's own local processes (deploy/kafka/kafka.sh, deploy/clickhouse/clickhouse.sh) on the test ports
//      (TEST_KAFKA_PORT 19092, TEST_KAFKA_CONTROLLER_PORT 19093, TEST_CLICKHOUSE_PORT 18123), each with a fresh data
//      folder under <GROUPSCOPE_DATA_DIR>/test/ (default .data/test/; tests find it in GROUPSCOPE_TEST_DATA_DIR).
// Tests read KAFKA_BROKERS, CLICKHOUSE_URL, CLICKHOUSE_USER and CLICKHOUSE_PASSWORD. What this started, the teardown
// stops; a server found running is left alone. A run of unit tests only starts nothing.
const { execFile } = require('node:child_process');
const { readFileSync, rmSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { promisify } = require('node:util');

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
const testData = join(resolve(root, process.env.GROUPSCOPE_DATA_DIR || '.data'), 'test');

const local = {
  kafka: {
    script: join(root, 'deploy/kafka/kafka.sh'),
    dataDir: join(testData, 'kafka'),
    env: () => ({
      KAFKA_NODES: '1',
      KAFKA_PORT: process.env.TEST_KAFKA_PORT || '19092',
      KAFKA_CONTROLLER_PORT: process.env.TEST_KAFKA_CONTROLLER_PORT || '19093',
      KAFKA_DATA_DIR: local.kafka.dataDir,
      KAFKA_HEAP: process.env.KAFKA_HEAP || '768m',
    }),
  },
  clickhouse: {
    script: join(root, 'deploy/clickhouse/clickhouse.sh'),
    dataDir: join(testData, 'clickhouse'),
    env: () => ({
      CLICKHOUSE_HTTP_PORT: process.env.TEST_CLICKHOUSE_PORT || '18123',
      CLICKHOUSE_DATA_DIR: local.clickhouse.dataDir,
    }),
  },
};


async function containerRuntime() {
  if (process.env.GROUPSCOPE_NO_CONTAINERS) return false;
  try {
    await require('testcontainers').getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

const script = (dep, cmd) => run('bash', [dep.script, cmd], { env: { ...process.env, ...dep.env() }, timeout: 300_000 });

/** Starts a local process unless one already runs on its data folder; true when this run started it. */
async function startLocal(dep) {
  const running = await script(dep, 'status').then(() => true, () => false);
  if (running) return false;
  // a fresh data folder each run: tests create many uniquely named topics and databases
  rmSync(dep.dataDir, { recursive: true, force: true });
  try {
    const { stdout } = await script(dep, 'start');
    process.stdout.write(stdout);
  } catch (err) {
    throw new Error(`${dep.script} start failed:\n${err.stdout || ''}${err.stderr || ''}`, { cause: err });
  }
  return true;
}

async function resolveKafka(containers, started) {
  if (process.env.KAFKA_BROKERS) return;
  if (containers) {
    const { KafkaContainer } = require('@testcontainers/kafka');
    const container = await new KafkaContainer('confluentinc/cp-kafka:8.0.0')
      .withEnvironment({
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      })
      .start();
    started.containers.push(container);
    process.env.KAFKA_BROKERS = `${container.getHost()}:${container.getMappedPort(9093)}`;
    return;
  }
  const dep = local.kafka;
  if (await startLocal(dep)) started.local.push(dep);
  else await script(dep, 'wait');
  process.env.KAFKA_BROKERS = `127.0.0.1:${dep.env().KAFKA_PORT}`;
}

async function resolveClickHouse(containers, started) {
  if (process.env.CLICKHOUSE_URL) return;
  if (containers) {
    const { ClickHouseContainer } = require('@testcontainers/clickhouse');
    const container = await new ClickHouseContainer('clickhouse/clickhouse-server:25.8').start();
    started.containers.push(container);
    Object.assign(process.env, {
      CLICKHOUSE_URL: container.getHttpUrl(),
      CLICKHOUSE_USER: container.getUsername(),
      CLICKHOUSE_PASSWORD: container.getPassword(),
    });
    return;
  }
  const dep = local.clickhouse;
  if (await startLocal(dep)) started.local.push(dep);
  else await script(dep, 'wait');
  const creds = Object.fromEntries(
    readFileSync(join(dep.dataDir, 'credentials'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  Object.assign(process.env, {
    CLICKHOUSE_URL: creds.CLICKHOUSE_URL,
    CLICKHOUSE_USER: creds.CLICKHOUSE_USER,
    CLICKHOUSE_PASSWORD: creds.CLICKHOUSE_PASSWORD,
  });
}

// Jest calls this only when an integration or e2e test runs (see jest.config.js); unit tests need no server.
module.exports = async function globalSetup() {
  if (process.env.GROUPSCOPE_UNIT_ONLY) return;
  process.env.GROUPSCOPE_TEST_DATA_DIR = testData;
  const need = !process.env.KAFKA_BROKERS || !process.env.CLICKHOUSE_URL;
  const containers = need && (await containerRuntime());
  // read by global-teardown (jest runs both in this process)
  const started = (globalThis.__groupscopeTestServers = { containers: [], local: [] });
  const results = await Promise.allSettled([resolveKafka(containers, started), resolveClickHouse(containers, started)]);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    // jest skips the teardown when the set-up fails: stop here what was started
    await stopStarted(started);
    throw failed.reason;
  }
};

/** Stops the containers and local processes a set-up started (the teardown, or a failed set-up). */
async function stopStarted(started) {
  await Promise.all([
    ...started.containers.map((c) => c.stop().catch((err) => console.error(`stopping a test container: ${err.message}`))),
    ...started.local.map((dep) =>
      script(dep, 'stop').catch((err) => console.error(`${dep.script} stop failed: ${err.stderr || err.message}`)),
    ),
  ]);
  started.containers = [];
  started.local = [];
}

module.exports.stopStarted = stopStarted;
