// The query service's settings, parsed once at start from the environment.
import { resolve } from 'node:path';
import { loadConfig, commonEnv, kafkaEnv, httpEnv, clickhouseEnv, envBool, int, port, z } from '@groupscope/config';
import { dynamicEnv } from './dynamic-properties/config';
import { healthEnv } from './health-scores/config';
import { salesforceCredentialsFromEnv, salesforceEnv } from './integrations/salesforce/config';

/** services/web/dist of this checkout (the same from src/ and from a compiled dist/). */
const DEFAULT_WEB_DIST = resolve(__dirname, '..', '..', 'web', 'dist');

export const queryEnv = {
  ...commonEnv,
  ...kafkaEnv,
  ...httpEnv,
  ...clickhouseEnv,
  QUERY_PORT: port(8081),
  /** every ClickHouse call running longer is stopped and answered 504 */
  QUERY_TIMEOUT_MS: int(30_000, { min: 100, max: 3_600_000 }),
  /** longest date range a chart may cover (days), and with hourly intervals */
  QUERY_MAX_RANGE_DAYS: int(1100, { min: 1, max: 36_600 }),
  QUERY_MAX_HOURLY_RANGE_DAYS: int(31, { min: 1, max: 366 }),
  /** most group-by values (series) one chart may return; `limit` is capped by it */
  QUERY_MAX_GROUP_BY_LIMIT: int(1000, { min: 1, max: 100_000 }),
  /** apply ClickHouse migrations at start (idempotent); off where the query user may not run DDL */
  QUERY_MIGRATE: envBool.default(true),
  /** how long a web UI session lasts (seconds) */
  QUERY_SESSION_TTL_S: int(12 * 3600, { min: 60, max: 30 * 86_400 }),
  /** the key that signs sessions; unset: one is made once in <GROUPSCOPE_DATA_DIR>/session-secret */
  QUERY_SESSION_SECRET: z.string().min(32, 'QUERY_SESSION_SECRET must be at least 32 characters').optional(),
  /** the built web UI, served at / when it holds an index.html */
  WEB_DIST_DIR: z.string().default(DEFAULT_WEB_DIST),
  /**
   * The limits that keep one request from hurting the others (README, "Limits"). QUERY_TIMEOUT_MS also bounds all
   * the ClickHouse calls of one API request together. A streamed CSV download has its own time limit; every
   * statement gets max_memory_usage (422 beyond; 0: ClickHouse's own limit); one call reads at most so many rows /
   * bytes of JSON (413 beyond); requests run at most so many at once, in all and of one project, waiting at most
   * QUERY_QUEUE_MS for a slot (at most so many of one project), else 429 with Retry-After.
   */
  QUERY_EXPORT_TIMEOUT_MS: int(300_000, { min: 100, max: 24 * 3_600_000 }),
  QUERY_MAX_MEMORY_BYTES: int(2 * 1024 ** 3, { min: 0 }),
  QUERY_MAX_RESULT_ROWS: int(1_000_000, { min: 1 }),
  QUERY_MAX_RESULT_BYTES: int(64 * 1024 ** 2, { min: 1024 }),
  QUERY_MAX_CONCURRENT: int(8, { min: 1, max: 1000 }),
  QUERY_MAX_CONCURRENT_PER_PROJECT: int(4, { min: 1, max: 1000 }),
  QUERY_QUEUE_MS: int(30_000, { min: 0, max: 600_000 }),
  QUERY_MAX_QUEUED_PER_PROJECT: int(16, { min: 0, max: 10_000 }),
  /** dynamic group properties: scheduler on/off (for every scheduled job), check interval, Kafka publish deadline */
  ...dynamicEnv,
  /** the Salesforce sync: API version, daily hour, check interval, overlap, paging, time limits, retries */
  ...salesforceEnv,
  /** health scores: check interval, the UTC hour after which the day just ended is scored */
  ...healthEnv,
};
export type QueryConfig = ReturnType<typeof loadQueryConfig>;
/** The settings, plus the per-project Salesforce credentials named SALESFORCE_<PROJECT_ID>_* (held here, never logged). */
export const loadQueryConfig = (env: NodeJS.ProcessEnv = process.env) => ({ ...loadConfig(queryEnv, env), SALESFORCE_CREDENTIALS: salesforceCredentialsFromEnv(env) });
