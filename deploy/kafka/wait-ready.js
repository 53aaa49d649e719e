// Polls the cluster with an admin metadata call until it answers and (optionally) reports the expected number of
// brokers (readiness), or exits 1 after the timeout.
//   node wait-ready.js [TIMEOUT_S=90] [BROKER_COUNT=1]
const { Kafka, logLevel } = require('kafkajs');
const timeoutMs = Number(process.argv[2] || 90) * 1000;
const expected = Number(process.argv[3] || 1);
const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
(async () => {
  const deadline = Date.now() + timeoutMs;
  const kafka = new Kafka({ clientId: 'groupscope-wait', brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  for (;;) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      await admin.disconnect();
      if (cluster.brokers.length < expected) throw new Error(`${cluster.brokers.length} of ${expected} brokers registered`);
      console.log(`kafka ready at ${brokers.join(',')} (${cluster.brokers.length} broker${cluster.brokers.length === 1 ? '' : 's'})`);
      return;
    } catch (err) {
      await admin.disconnect().catch(() => {});
      if (Date.now() > deadline) { console.error(`kafka not ready after ${timeoutMs} ms: ${err.message}`); process.exit(1); }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
})();
