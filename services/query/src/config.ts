// The query service's settings, parsed once at start from the environment.
import { resolve } from 'node:path';
import { loadConfig, commonEnv, kafkaEnv, httpEnv, clickhouseEnv, envBool, port, z } from '@groupscope/config';
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
  QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  /** longest date range a chart may cover (days), and with hourly intervals */
  QUERY_MAX_RANGE_DAYS: z.coerce.number().int().min(1).max(36_600).default(1100),
  QUERY_MAX_HOURLY_RANGE_DAYS: z.coerce.number().int().min(1).max(366).default(31),
  /** most group-by values (series) one chart may return; `limit` is capped by it */
  QUERY_MAX_GROUP_BY_LIMIT: z.coerce.number().int().min(1).max(100_000).default(1000),
  /** apply ClickHouse migrations at start (idempotent); off where the query user may not run DDL */
  QUERY_MIGRATE: envBool.default(true),
  /** how long a web UI session lasts (seconds) */
  QUERY_SESSION_TTL_S: z.coerce.number().int().min(60).max(30 * 86_400).default(12 * 3600),
  /** the key that signs sessions; unset: one is made once in <GROUPSCOPE_DATA_DIR>/session-secret */
  QUERY_SESSION_SECRET: z.string().min(32, 'QUERY_SESSION_SECRET must be at least 32 characters').optional(),
  /** the built web UI, served at / when it holds an index.html */
  WEB_DIST_DIR: z.string().default(DEFAULT_WEB_DIST),
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
