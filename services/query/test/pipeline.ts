// What the tests of the query service's scheduled jobs share: the enricher and writer running in-process on the
// test's topics and database (loaded at run time: services do not import each other's code), and a consumer that
// collects the group identifies the jobs publish.
import { codecs, type GroupIdentifyRecord } from '@groupscope/events';
import { silentLogger } from '@groupscope/logger';
import { TopicReader, uniqueName, type TestClickHouse, type TestKafka } from '@groupscope/testing';

type Stoppable = { stop(): Promise<void> };
const { startEnricher, loadEnricherConfig } = require('@groupscope/enricher') as {
  startEnricher(deps: { config: unknown; logger: unknown }): Promise<Stoppable>;
  loadEnricherConfig(env: Record<string, string>): unknown;
};
const { startWriter, loadWriterConfig } = require('@groupscope/writer') as {
  startWriter(deps: { config: unknown; logger: unknown; ch: unknown }): Promise<Stoppable>;
  loadWriterConfig(env: Record<string, string>): unknown;
};

/** The enricher and the writer on the test's topics (2 partitions) and ClickHouse; stop() stops both. */
export async function startEnricherAndWriter(ch: TestClickHouse, tk: TestKafka): Promise<Stoppable> {
  const env = { KAFKA_BROKERS: tk.brokers.join(','), TOPIC_PREFIX: tk.prefix, KAFKA_PARTITIONS: '2', LOG_LEVEL: 'silent', HTTP_HOST: '127.0.0.1' };
  const enricher = await startEnricher({ config: loadEnricherConfig({ ...env, ENRICHER_PORT: '0', ENRICHER_GROUP_ID: uniqueName('enr'), ENRICHER_SESSION_TIMEOUT_MS: '6000' }), logger: silentLogger });
  try {
    const writer = await startWriter({ config: loadWriterConfig({ ...env, WRITER_PORT: '0', WRITER_GROUP_ID: uniqueName('wr'), WRITER_BATCH_MS: '100', WRITER_SESSION_TIMEOUT_MS: '6000' }), logger: silentLogger, ch });
    return {
      async stop() {
        await writer.stop();
        await enricher.stop();
      },
    };
  } catch (err) {
    await enricher.stop();
    throw err;
  }
}

/** Every group identify on the test's topic from the beginning, decoded, in arrival order. */
export async function collectGroupIdentifies(tk: TestKafka): Promise<{ received: GroupIdentifyRecord[]; stop(): Promise<void> }> {
  const received: GroupIdentifyRecord[] = [];
  const reader = new TopicReader(tk.kafka, [tk.topics.groupIdentify], {
    onMessage: (m) => void received.push(codecs.groupIdentify.decode(m.value!, m.headers)),
  });
  await reader.start();
  return { received, stop: () => reader.stop() };
}
