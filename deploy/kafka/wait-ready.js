// Polls the broker with an admin metadata call until it answers (readiness), or exits 1 after the timeout.
const { Kafka, logLevel } = require('kafkajs');
const timeoutMs = Number(process.argv[2] || 90) * 1000;
const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
(async () => {
  const deadline = Date.now() + timeoutMs;
  const kafka = new Kafka({ clientId: 'groupscope-wait', brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  for (;;) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      await admin.disconnect();
      console.log(`kafka ready at ${brokers.join(',')}`);
      return;
    } catch (err) {
      await admin.disconnect().catch(() => {});
      if (Date.now() > deadline) { console.error(`kafka not ready after ${timeoutMs} ms: ${err.message}`); process.exit(1); }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
})();
