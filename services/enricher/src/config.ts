import { loadConfig, commonEnv, kafkaEnv, httpEnv, int, port, z } from '@groupscope/config';

export const enricherEnv = {
  ...commonEnv,
  ...kafkaEnv,
  ...httpEnv,
  ENRICHER_PORT: port(8082),
  /**
   * consumer group of the enricher instances for ingest (default: <TOPIC_PREFIX>enricher); group-identify partitions
   * are consumed by the group `<this>.groups`; it also names transactional ids
   */
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
  /**
   * Receive-order stamping: an event waits until every group-identify partition's watermark reached its receive
   * position. When the watermark has not moved for this long (no gateway sends marks any more), waiting events are
   * stamped with what is known and counted (groupscope_enricher_stamp_wait_timeouts_total): the one case in which a
   * replay may stamp differently. Longer than a consumer session timeout, so a rebalance after a crash is waited out.
   */
  ENRICHER_STAMP_MAX_WAIT_MS: int(60_000, { min: 100 }),
  /**
   * A gateway whose last position on a group-identify partition is this far behind the newest one there is no longer
   * waited for (it died without saying goodbye, or its clock is that far behind); its later records count as late.
   */
  ENRICHER_PRODUCER_EXPIRY_MS: int(15_000, { min: 100 }),
  /** group property versions kept behind the watermark, for events that are processed late (and their replays) */
  ENRICHER_GROUP_HISTORY_MS: int(24 * 3600 * 1000, { min: 1000 }),
  /** most versions kept per group within the history (the oldest go first) */
  ENRICHER_GROUP_MAX_VERSIONS: int(500, { min: 2 }),
  ENRICHER_MAX_GROUP_TYPES: int(5, { min: 1 }),
  ENRICHER_MAX_GROUP_VALUES: int(10, { min: 1 }),
  ENRICHER_MAX_GROUP_PROPERTIES: int(1000, { min: 1 }),
};
export type EnricherConfig = ReturnType<typeof loadEnricherConfig>;
export const loadEnricherConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(enricherEnv, env);
