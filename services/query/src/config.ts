import { loadConfig, commonEnv, kafkaEnv, httpEnv, clickhouseEnv, envBool, port, z } from '@groupscope/config';
import { dynamicEnv } from './dynamic/config';

export const queryEnv = {
  ...commonEnv,
  ...kafkaEnv,
  ...httpEnv,
  ...clickhouseEnv,
  QUERY_PORT: port(8081),
  /** a chart query running longer is stopped by ClickHouse and answered 504 */
  QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  /** longest date range a chart may cover (days), and with hourly intervals */
  QUERY_MAX_RANGE_DAYS: z.coerce.number().int().min(1).max(36_600).default(1100),
  QUERY_MAX_HOURLY_RANGE_DAYS: z.coerce.number().int().min(1).max(366).default(31),
  /** most group-by values (series) one chart may return; `limit` is capped by it */
  QUERY_MAX_GROUP_BY_LIMIT: z.coerce.number().int().min(1).max(100_000).default(1000),
  /** apply ClickHouse migrations at start (idempotent); off where the query user may not run DDL */
  QUERY_MIGRATE: envBool.default(true),
  /** dynamic group properties (issue 7): scheduler on/off, check interval, Kafka publish deadline */
  ...dynamicEnv,
};
export type QueryConfig = ReturnType<typeof loadQueryConfig>;
export const loadQueryConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(queryEnv, env);
