// writer: enriched events and group changes from Kafka into ClickHouse (see writer.ts for the chain of stages).
import { clickhouseOptions } from '@groupscope/config';
import { createClickHouse, migrate, type ClickHouse } from '@groupscope/clickhouse';
import { topicNames, topicSpecs } from '@groupscope/events';
import { createApp, listen } from '@groupscope/http';
import { createKafka, ensureTopics, type Kafka } from '@groupscope/kafka';
import type { Logger } from '@groupscope/logger';
import type { TableName } from '@groupscope/schema';
import type { WriterConfig } from './config';
import { Writer } from './writer';

export * from './config';

export interface WriterDeps {
  config: WriterConfig;
  logger: Logger;
  /** a ClickHouse handle owned by the caller (tests, several services in one process): it migrates and closes it */
  ch?: ClickHouse;
  kafka?: Kafka;
  /** called when the consumer stops for good (kafkajs gave up); main.ts exits so the process is restarted */
  onFatal?(err: Error): void;
  /** called after every acknowledged INSERT, before offsets are committed: a test entry point's crash hook */
  afterInsert?(inserts: number): void;
  /** called synchronously right before each INSERT is sent: a test entry point's pause hook */
  beforeInsert?(table: TableName): void;
}

/** The ClickHouse server the configuration names (CLICKHOUSE_URL, else the local server of `npm start`). */
export function clickhouseFromConfig(config: WriterConfig): ClickHouse {
  return createClickHouse(clickhouseOptions(config));
}

export async function startWriter(deps: WriterDeps): Promise<{ url: string; stop(): Promise<void> }> {
  const { config, logger } = deps;
  const ownsCh = !deps.ch;
  const ch = deps.ch ?? clickhouseFromConfig(config);
  try {
    if (ownsCh) await migrate(ch, logger);
    const kafka = deps.kafka ?? createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-writer`, logger });
    const topics = topicNames(config.TOPIC_PREFIX);
    await ensureTopics(kafka, topicSpecs(topics), { partitions: config.KAFKA_PARTITIONS, replicationFactor: config.KAFKA_REPLICATION_FACTOR });
    const writer = new Writer({
      ch,
      kafka,
      topics,
      groupId: config.WRITER_GROUP_ID ?? `${config.TOPIC_PREFIX}writer`,
      logger,
      batchRows: config.WRITER_BATCH_ROWS,
      batchMs: config.WRITER_BATCH_MS,
      retryMaxMs: config.WRITER_RETRY_MAX_MS,
      sessionTimeout: config.WRITER_SESSION_TIMEOUT_MS,
      afterInsert: deps.afterInsert,
      beforeInsert: deps.beforeInsert,
      onFatal: deps.onFatal,
      stallAfterMs: config.CONSUMER_STALL_AFTER_MS,
    });
    await writer.start();
    const app = createApp({
      service: 'writer',
      logger,
      // a writer that keeps failing with lag and commits nothing is not ready, whatever its connections say
      ready: { clickhouse: () => ch.ping(), kafka: async () => writer.running(), progress: async () => writer.progress.readiness() },
    });
    const http = await listen(app, config.WRITER_PORT, config.HTTP_HOST, logger);
    logger.info({ group: config.WRITER_GROUP_ID ?? `${config.TOPIC_PREFIX}writer`, batch_rows: config.WRITER_BATCH_ROWS, batch_ms: config.WRITER_BATCH_MS }, 'writer_started');
    return {
      url: http.url,
      async stop() {
        await http.close();
        await writer.stop();
        if (ownsCh) await ch.close();
      },
    };
  } catch (err) {
    if (ownsCh) await ch.close().catch(() => undefined);
    throw err;
  }
}
