// Topics and tables made once before any service starts, so several writers and the query service never race to
// create them (each service would otherwise ensure topics and migrate at boot, at the same moment).
import { createClickHouse, migrate } from '@groupscope/clickhouse';
import { clickhouseEnv, kafkaEnv, loadConfig } from '@groupscope/config';
import { topicNames, topicSpecs } from '@groupscope/events';
import { createKafka, ensureTopics } from '@groupscope/kafka';
import { createLogger } from '@groupscope/logger';

export interface StorageTarget {
  brokers: string[];
  topicPrefix: string;
  partitions: number;
  replicationFactor: number;
  clickhouse: { url: string; username: string; password: string; database: string };
}

export async function prepareStorage(t: StorageTarget): Promise<void> {
  const log = createLogger('local', 'warn');
  const kafka = createKafka({ brokers: t.brokers, clientId: 'groupscope-local', logger: log });
  await ensureTopics(kafka, topicSpecs(topicNames(t.topicPrefix)), { partitions: t.partitions, replicationFactor: t.replicationFactor });
  const ch = createClickHouse(t.clickhouse);
  try {
    await migrate(ch, log);
  } finally {
    await ch.close();
  }
}

// `node --import tsx deploy/local/prepare.ts`: the same, configured by the services' environment variables (a
// one-shot step before the services start: docker-compose.yml's `prepare`, deploy/k8s's prepare Job).
if (require.main === module) {
  const c = loadConfig({ ...kafkaEnv, ...clickhouseEnv });
  if (!c.CLICKHOUSE_URL) throw new Error('CLICKHOUSE_URL is required');
  prepareStorage({
    brokers: c.KAFKA_BROKERS,
    topicPrefix: c.TOPIC_PREFIX,
    partitions: c.KAFKA_PARTITIONS,
    replicationFactor: c.KAFKA_REPLICATION_FACTOR,
    clickhouse: { url: c.CLICKHOUSE_URL, username: c.CLICKHOUSE_USER, password: c.CLICKHOUSE_PASSWORD, database: c.CLICKHOUSE_DATABASE },
  })
    .then(() => console.log(`prepared: topics ${c.TOPIC_PREFIX}* (replication factor ${c.KAFKA_REPLICATION_FACTOR}), database ${c.CLICKHOUSE_DATABASE}`))
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
