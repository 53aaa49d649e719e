import { loadConfig, commonEnv, kafkaEnv, httpEnv, int, port, z } from '@groupscope/config';

export const enricherEnv = {
  ...commonEnv,
  ...kafkaEnv,
  ...httpEnv,
  ENRICHER_PORT: port(8082),
  /** consumer group of the enricher instances (default: <TOPIC_PREFIX>enricher); also names transactional ids */
  ENRICHER_GROUP_ID: z.string().min(1).optional(),
  /** insert_id de-duplication window (Amplitude: 7 days) */
  ENRICHER_DEDUP_WINDOW_MS: int(7 * 24 * 3600 * 1000, { min: 1 }),
  /** de-duplication keys kept per owned ingest partition (about 140 bytes of heap each); the oldest go first */
  ENRICHER_DEDUP_CAPACITY: int(250_000, { min: 1 }),
  /** input partitions processed at the same time by one instance */
  ENRICHER_CONCURRENCY: int(4, { min: 1 }),
  /** most bytes fetched per partition and batch (one batch = one transaction) */
  ENRICHER_MAX_BATCH_BYTES: int(4 * 1024 * 1024, { min: 1024 }),
  /** consumer group session timeout: how long a dead instance holds its partitions before a rebalance */
  ENRICHER_SESSION_TIMEOUT_MS: int(30000, { min: 6000 }),
  ENRICHER_MAX_GROUP_TYPES: int(5, { min: 1 }),
  ENRICHER_MAX_GROUP_VALUES: int(10, { min: 1 }),
  ENRICHER_MAX_GROUP_PROPERTIES: int(1000, { min: 1 }),
};
export type EnricherConfig = ReturnType<typeof loadEnricherConfig>;
export const loadEnricherConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(enricherEnv, env);
