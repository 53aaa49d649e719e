// Stops what global-setup started, so `npm test` leaves no process running.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async function globalTeardown() {
  const container = process.env.GROUPSCOPE_TEST_CONTAINER;
  if (container) {
    const [runtime, name] = container.split(':');
    execFileSync(runtime, ['stop', name], { stdio: 'ignore' });
  }
  const dataDir = process.env.GROUPSCOPE_TEST_KAFKA_STARTED;
  if (dataDir && !process.env.GROUPSCOPE_KEEP_TEST_KAFKA) {
    execFileSync('bash', [join(__dirname, '..', '..', 'deploy/kafka/kafka.sh'), 'stop'], {
      env: { ...process.env, KAFKA_DATA_DIR: dataDir },
      stdio: 'inherit',
    });
  }
};
