// query: the REST API over ClickHouse (segmentation, funnels, retention; accounts and cohorts plug in as routers).
import { join, resolve } from 'node:path';
import { createClickHouse, migrate, type ClickHouse } from '@groupscope/clickhouse';
import { listen } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import { ProjectRegistry } from '@groupscope/projects';
import { accountFeatures } from './accounts';
import { buildApp, type ApiContext } from './app';
import type { QueryConfig } from './config';
import type { express } from '@groupscope/http';

export * from './config';
export { buildApp, type ApiContext, type QueryAppDeps } from './app';
export { registerConditionHandler, type ConditionHandler } from './sql/segments';

export interface QueryDeps {
  config: QueryConfig;
  logger: Logger;
  /** a shared ClickHouse handle (local mode: one chDB folder per process); created from the config when absent */
  ch?: ClickHouse;
  /** the project registry; read from PROJECTS_FILE when absent */
  registry?: ProjectRegistry;
  routers?: ((api: ApiContext) => express.Router)[];
}

export function projectsFile(config: QueryConfig): string {
  return config.PROJECTS_FILE ? resolve(config.PROJECTS_FILE) : join(resolve(config.GROUPSCOPE_DATA_DIR), 'projects.json');
}

export function clickhouseFromConfig(config: QueryConfig, logger: Logger): ClickHouse {
  return createClickHouse({
    url: config.CLICKHOUSE_URL,
    username: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
    database: config.CLICKHOUSE_DATABASE,
    chdbPath: config.CHDB_PATH ?? join(resolve(config.GROUPSCOPE_DATA_DIR), 'chdb'),
    logger,
    requestTimeoutMs: config.QUERY_TIMEOUT_MS + 5000,
  });
}

export async function startQuery(deps: QueryDeps): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const { config, logger } = deps;
  const ownCh = !deps.ch;
  const ch = deps.ch ?? clickhouseFromConfig(config, logger);
  try {
    if (config.QUERY_MIGRATE) await migrate(ch, logger);
    const registry = deps.registry ?? new ProjectRegistry(projectsFile(config));
    // issue 7: accounts, cohorts, microscope, dynamic group properties (their own router and scheduler)
    const accounts = accountFeatures({
      logger,
      timeZoneOf: (id) => registry.byId(id)?.time_zone ?? 'UTC',
      kafka: { brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, topicPrefix: config.TOPIC_PREFIX, publishTimeoutMs: config.DYNAMIC_PROPERTIES_PUBLISH_TIMEOUT_MS },
      schedulerIntervalMs: config.DYNAMIC_PROPERTIES_SCHEDULER ? config.DYNAMIC_PROPERTIES_CHECK_MS : 0,
    });
    const { app } = buildApp({
      ch,
      registry,
      logger,
      timeoutMs: config.QUERY_TIMEOUT_MS,
      limits: { maxDays: config.QUERY_MAX_RANGE_DAYS, maxHourlyDays: config.QUERY_MAX_HOURLY_RANGE_DAYS, maxGroupByLimit: config.QUERY_MAX_GROUP_BY_LIMIT },
      routers: [(api) => accounts.router(api), ...(deps.routers ?? [])],
    });
    const http = await listen(app, config.QUERY_PORT, config.HTTP_HOST, logger);
    return {
      url: http.url,
      port: http.port,
      async stop() {
        await http.close();
        await accounts.stop();
        if (ownCh) await ch.close();
      },
    };
  } catch (err) {
    if (ownCh) await ch.close().catch(() => undefined);
    throw err;
  }
}
