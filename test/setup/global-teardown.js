// Stops what global-setup started (containers, local Kafka and ClickHouse processes), so `npm test` leaves no
// process running. GROUPSCOPE_KEEP_TEST_SERVERS=1 keeps the local ones for the next run (the set-up reuses them).
const { stopStarted } = require('./global-setup');

module.exports = async function globalTeardown() {
  const started = globalThis.__groupscopeTestServers;
  if (!started) return;
  if (process.env.GROUPSCOPE_KEEP_TEST_SERVERS || process.env.GROUPSCOPE_KEEP_TEST_KAFKA) started.local = [];
  await stopStarted(started);
};
