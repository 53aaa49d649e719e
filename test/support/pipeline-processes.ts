// The pipeline as separate processes (as `npm start` and a deployment run it) for fault tests: topics and tables made
// first, once (deploy/local/prepare.ts, as the local runner does), then a gateway, N enrichers, M writers and
// optionally the query service, each its own process on an ephemeral port.
import { prepareStorage } from '../../deploy/local/prepare';
import type { ClickHouseCredentials } from './local-servers';
import { startService, type ServiceProcess } from './service-process';

export interface PipelineOptions {
  brokers: string[];
  topicPrefix: string;
  partitions: number;
  replicationFactor: number;
  clickhouse: ClickHouseCredentials;
  database: string;
  projectsFile: string;
  /** GROUPSCOPE_DATA_DIR of the services (sessions secret and the like) */
  dataDir: string;
  /** one <name>.log per process */
  logDir: string;
  enrichers: number;
  writers: number;
  query?: boolean;
  /** settings on top of the common ones, for every process */
  env?: Record<string, string>;
}

export interface PipelineProcesses {
  gateway: ServiceProcess;
  enrichers: ServiceProcess[];
  writers: ServiceProcess[];
  query?: ServiceProcess;
  all(): ServiceProcess[];
  /** SIGTERM to every process (each flushes and commits what it can), gateway first */
  stop(): Promise<void>;
}

export async function startPipelineProcesses(o: PipelineOptions): Promise<PipelineProcesses> {
  await prepareStorage({
    brokers: o.brokers,
    topicPrefix: o.topicPrefix,
    partitions: o.partitions,
    replicationFactor: o.replicationFactor,
    clickhouse: { ...o.clickhouse, database: o.database },
  });
  const env: Record<string, string> = {
    KAFKA_BROKERS: o.brokers.join(','),
    TOPIC_PREFIX: o.topicPrefix,
    KAFKA_PARTITIONS: String(o.partitions),
    KAFKA_REPLICATION_FACTOR: String(o.replicationFactor),
    CLICKHOUSE_URL: o.clickhouse.url,
    CLICKHOUSE_USER: o.clickhouse.username,
    CLICKHOUSE_PASSWORD: o.clickhouse.password,
    CLICKHOUSE_DATABASE: o.database,
    PROJECTS_FILE: o.projectsFile,
    GROUPSCOPE_DATA_DIR: o.dataDir,
    // as the local runner sets them: a killed instance's partitions move within seconds
    ENRICHER_SESSION_TIMEOUT_MS: '10000',
    WRITER_SESSION_TIMEOUT_MS: '10000',
    ...o.env,
  };
  const start = (kind: Parameters<typeof startService>[0], name: string) => startService(kind, { name, env, logDir: o.logDir, ready: true });
  const numbered = (kind: 'enricher' | 'writer', n: number) => Array.from({ length: n }, (_, i) => start(kind, `${kind}-${i + 1}`));
  const starting = [start('gateway', 'gateway'), ...numbered('enricher', o.enrichers), ...numbered('writer', o.writers), ...(o.query ? [start('query', 'query')] : [])];
  // every start settles before any failure is reported, so no process is left running unseen
  const results = await Promise.allSettled(starting);
  const failed = results.find((r) => r.status === 'rejected');
  const up = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (failed) {
    await Promise.all(up.map((s) => s.stop(2000)));
    throw failed.reason;
  }
  const [gateway, ...rest] = up as [ServiceProcess, ...ServiceProcess[]];
  const enrichers = rest.slice(0, o.enrichers);
  const writers = rest.slice(o.enrichers, o.enrichers + o.writers);
  const query = o.query ? rest.at(-1) : undefined;
  return {
    gateway,
    enrichers,
    writers,
    query,
    all: () => up,
    async stop() {
      await gateway.stop();
      await Promise.all(up.map((s) => s.stop()));
    },
  };
}
