// Topics and tables made once before any service starts, so several writers and the query service never race to
// create them (each service would otherwise ensure topics and migrate at boot, at the same moment).
import { createClickHouse, migrate } from '@groupscope/clickhouse';
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
