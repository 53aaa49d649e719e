// The whole pipeline in the test's process, as the services run for users: gateway -> Kafka -> enricher -> Kafka ->
// writer -> ClickHouse -> query API (which also serves the web UI). Each call gets its own topics, consumer groups
// and ClickHouse database; stop() ends the services in reverse order and drops the database.
import { silentLogger } from '@groupscope/logger';
import { testClickHouse, testKafka, uniqueName, type TestClickHouse } from '@groupscope/testing';
import { loadGatewayConfig, startGateway } from '@groupscope/gateway';
import { loadEnricherConfig, startEnricher } from '@groupscope/enricher';
import { loadWriterConfig, startWriter } from '@groupscope/writer';
import { loadQueryConfig, startQuery } from '@groupscope/query';

export interface Stack {
  gatewayUrl: string;
  queryUrl: string;
  ch: TestClickHouse;
  stop(): Promise<void>;
}

export async function startStack(opts: { projectsFile: string; dataDir: string; env?: Record<string, string> }): Promise<Stack> {
  const k = testKafka(silentLogger);
  const env = {
    KAFKA_BROKERS: k.brokers.join(','),
    TOPIC_PREFIX: k.prefix,
    KAFKA_PARTITIONS: '2',
    PROJECTS_FILE: opts.projectsFile,
    LOG_LEVEL: 'silent',
    GATEWAY_PORT: '0',
    ENRICHER_PORT: '0',
    WRITER_PORT: '0',
    QUERY_PORT: '0',
    WRITER_BATCH_MS: '200',
    ENRICHER_GROUP_ID: uniqueName('enricher'),
    WRITER_GROUP_ID: uniqueName('writer'),
    GROUPSCOPE_DATA_DIR: opts.dataDir,
    ...opts.env,
  };
  const ch = await testClickHouse();
  const stops: (() => Promise<void>)[] = [() => ch.cleanup()];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    await k.ensureTopics(2);
    const gateway = await startGateway({ config: loadGatewayConfig(env), logger: silentLogger });
    stops.push(() => gateway.stop());
    const enricher = await startEnricher({ config: loadEnricherConfig(env), logger: silentLogger });
    stops.push(() => enricher.stop());
    const writer = await startWriter({ config: loadWriterConfig(env), logger: silentLogger, ch });
    stops.push(() => writer.stop());
    const query = await startQuery({ config: loadQueryConfig(env), logger: silentLogger, ch });
    stops.push(() => query.stop());
    return { gatewayUrl: gateway.url, queryUrl: query.url, ch, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
