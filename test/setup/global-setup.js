// Resolves the Kafka broker the integration and end-to-end tests use, in this order:
//   1. KAFKA_BROKERS from the environment;
//   2. a container, where a container runtime answers (developer laptops);
//   3. the project's own local broker (deploy/kafka/kafka.sh) on a test port with its own data folder.
// What it started, global-teardown stops; a broker it found running is left alone.
const { execFileSync, spawnSync } = require('node:child_process');
const { join } = require('node:path');
const { rmSync } = require('node:fs');

const root = join(__dirname, '..', '..');
const TEST_PORT = process.env.TEST_KAFKA_PORT || '19092';
const TEST_CPORT = process.env.TEST_KAFKA_CONTROLLER_PORT || '19093';
const testDataDir = join(root, '.data', 'kafka-test');

function containerRuntime() {
  for (const bin of ['docker', 'podman']) {
    const r = spawnSync(bin, ['info'], { stdio: 'ignore', timeout: 5000 });
    if (r.status === 0) return bin;
  }
  return null;
}

function waitReady(brokers, seconds) {
  execFileSync('node', [join(root, 'deploy/kafka/wait-ready.js'), String(seconds)], {
    env: { ...process.env, KAFKA_BROKERS: brokers },
    stdio: 'inherit',
  });
}

module.exports = async function globalSetup() {
  // `npm run test:unit` needs no broker
  if (process.env.KAFKA_BROKERS || process.env.GROUPSCOPE_UNIT_ONLY) return;
  const brokers = `127.0.0.1:${TEST_PORT}`;
  const runtime = process.env.GROUPSCOPE_NO_CONTAINERS ? null : containerRuntime();
  if (runtime) {
    const name = `groupscope-test-kafka-${process.pid}`;
    execFileSync(runtime, ['run', '-d', '--rm', '--name', name, '-p', `127.0.0.1:${TEST_PORT}:9092`,
      '-e', 'KAFKA_NODE_ID=1', '-e', 'KAFKA_PROCESS_ROLES=broker,controller',
      '-e', 'KAFKA_LISTENERS=PLAINTEXT://:9092,CONTROLLER://:9093',
      '-e', `KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://127.0.0.1:${TEST_PORT}`,
      '-e', 'KAFKA_CONTROLLER_LISTENER_NAMES=CONTROLLER', '-e', 'KAFKA_CONTROLLER_QUORUM_VOTERS=1@localhost:9093',
      '-e', 'KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR=1', '-e', 'KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR=1',
      '-e', 'KAFKA_TRANSACTION_STATE_LOG_MIN_ISR=1', '-e', 'KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS=0',
      '-e', 'KAFKA_AUTO_CREATE_TOPICS_ENABLE=false', 'apache/kafka:4.1.0'], { stdio: 'inherit' });
    process.env.GROUPSCOPE_TEST_CONTAINER = `${runtime}:${name}`;
  } else {
    const env = { ...process.env, KAFKA_PORT: TEST_PORT, KAFKA_CONTROLLER_PORT: TEST_CPORT, KAFKA_DATA_DIR: testDataDir };
    const status = spawnSync('bash', [join(root, 'deploy/kafka/kafka.sh'), 'status'], { env, stdio: 'ignore' });
    if (status.status !== 0) {
      // a fresh data folder each run: tests create many uniquely named topics
      rmSync(testDataDir, { recursive: true, force: true });
      execFileSync('bash', [join(root, 'deploy/kafka/kafka.sh'), 'start'], { env, stdio: 'inherit' });
      process.env.GROUPSCOPE_TEST_KAFKA_STARTED = testDataDir;
    }
  }
  waitReady(brokers, 120);
  process.env.KAFKA_BROKERS = brokers;
};
