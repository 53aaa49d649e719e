// The whole pipeline inside one test process, started as users run it: gateway -> Kafka -> enricher -> writer ->
// ClickHouse -> query API, on the test broker (a unique topic prefix) and a test database, every service on a
// free port; the query service also serves the web UI. End-to-end tests share it so each one says only what it checks.
import { silentLogger } from '@groupscope/logger';
import { testClickHouse, testKafka, uniqueName, type TestClickHouse, type TestKafka } from '@groupscope/testing';
import { loadGatewayConfig, startGateway } from '@groupscope/gateway';
import { loadEnricherConfig, startEnricher } from '@groupscope/enricher';
import { loadWriterConfig, startWriter } from '@groupscope/writer';
import { loadQueryConfig, startQuery } from '@groupscope/query';

export interface Stack {
  gatewayUrl: string;
  /** the gateway's HTTPS listener, when the settings give it a certificate (GATEWAY_TLS_CERT, GATEWAY_TLS_KEY) */
  gatewayHttpsUrl?: string;
  queryUrl: string;
  ch: TestClickHouse;
  kafka: TestKafka;
  /** the services' environment (to start one more, e.g. an enricher as a child process) */
  env: Record<string, string>;
  /** stops the services in reverse order and drops the test database */
  stop(): Promise<void>;
}

export interface StackOptions {
  /** the project registry every service reads */
  projectsFile: string;
  /** GROUPSCOPE_DATA_DIR of the services */
  dataDir: string;
  partitions?: number;
  /** extra or overriding service settings */
  env?: Record<string, string>;
  /** start the enricher in-process (default true; false: the test runs its own) */
  enricher?: boolean;
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const kafka = testKafka(silentLogger);
  const partitions = opts.partitions ?? 2;
  const env = {
    KAFKA_BROKERS: kafka.brokers.join(','),
    TOPIC_PREFIX: kafka.prefix,
    KAFKA_PARTITIONS: String(partitions),
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
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    stops.length = 0;
  };
  const ch = await testClickHouse();
  stops.push(() => ch.cleanup());
  try {
    await kafka.ensureTopics(partitions);
    const gateway = await startGateway({ config: loadGatewayConfig(env), logger: silentLogger });
    stops.push(() => gateway.stop());
    if (opts.enricher !== false) {
      const enricher = await startEnricher({ config: loadEnricherConfig(env), logger: silentLogger });
      stops.push(() => enricher.stop());
    }
    const writer = await startWriter({ config: loadWriterConfig(env), logger: silentLogger, ch });
    stops.push(() => writer.stop());
    const query = await startQuery({ config: loadQueryConfig(env), logger: silentLogger, ch });
    stops.push(() => query.stop());
    return { gatewayUrl: gateway.url, gatewayHttpsUrl: gateway.httpsUrl, queryUrl: query.url, ch, kafka, env, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
