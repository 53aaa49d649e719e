// query: the REST API over ClickHouse (charts, accounts, cohorts, microscope, dynamic group properties, the
// Salesforce sync) and the web UI. The composition root: one ClickHouse executor with the query time limit, one
// catalog, one group-identify publisher for the scheduled jobs, the features, and the capabilities they are handed of
// each other (cohort segments for the charts, chart points and cohort saving for the microscope, the charts' event
// matcher for cohorts and dynamic properties).
import { createClickHouse, migrate, type ClickHouse } from '@groupscope/clickhouse';
import { clickhouseOptions, projectsFile } from '@groupscope/config';
import { listen, type Express } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import { ProjectRegistry } from '@groupscope/projects';
import { accountListFeature } from './account-list';
import { accountsFeature } from './accounts';
import { chartsFeature } from './charts';
import { cohortsFeature } from './cohorts';
import type { QueryConfig } from './config';
import { Catalog } from './domain/catalog';
import { dynamicPropertiesFeature, type DynamicRunner } from './dynamic-properties';
import { healthScoresFeature, type HealthRunner } from './health-scores';
import { salesforceFeature, type SalesforceRunner } from './integrations/salesforce';
import { kafkaPublisher, type GroupIdentifyPublisher } from './jobs/publisher';
import { buildHttpApp } from './http/app';
import { QueryLimiter } from './http/limiter';
import { SessionTokens, sessionKey } from './http/session';
import { microscopeFeature } from './microscope';
import { createDb } from './sql/executor';
import { ConditionRegistry } from './sql/segments';

export * from './config';
export type { DynamicRunner } from './dynamic-properties';
export type { HealthRunner } from './health-scores';
export type { SalesforceRunner } from './integrations/salesforce';
export type { GroupIdentifyPublisher } from './jobs/publisher';

/**
 * The ClickHouse server the configuration names (CLICKHOUSE_URL, else the local server of `npm start`); a request
 * outlives the query time limit a little, so ClickHouse's own timeout error is the one a caller sees.
 */
export function clickhouseFromConfig(config: QueryConfig): ClickHouse {
  return createClickHouse({ ...clickhouseOptions(config), requestTimeoutMs: config.QUERY_TIMEOUT_MS + 5000 });
}

export interface QueryAppDeps {
  config: QueryConfig;
  logger: Logger;
  ch: ClickHouse;
  registry: ProjectRegistry;
  /** where the jobs (dynamic properties, Salesforce) publish group identifies; default: Kafka from the config */
  publisher?: GroupIdentifyPublisher;
  /** the clock (tests) */
  now?: () => number;
}

export interface QueryApp {
  app: Express;
  /** the dynamic-property scheduler (not started here) */
  scheduler: DynamicRunner;
  /** the Salesforce sync's scheduler (not started here) */
  salesforce: SalesforceRunner;
  /** the health-score scheduler (not started here) */
  health: HealthRunner;
  /** stops the schedulers and closes the publisher */
  close(): Promise<void>;
}

export function buildQuery(deps: QueryAppDeps): QueryApp {
  const { config, logger, ch, registry, now } = deps;
  const db = createDb(ch, {
    timeoutMs: config.QUERY_TIMEOUT_MS,
    exportTimeoutMs: config.QUERY_EXPORT_TIMEOUT_MS,
    maxMemoryBytes: config.QUERY_MAX_MEMORY_BYTES,
    maxResultRows: config.QUERY_MAX_RESULT_ROWS,
    maxResultBytes: config.QUERY_MAX_RESULT_BYTES,
  });
  const catalog = new Catalog(db);
  const conditions = new ConditionRegistry();
  const limits = { maxDays: config.QUERY_MAX_RANGE_DAYS, maxHourlyDays: config.QUERY_MAX_HOURLY_RANGE_DAYS, maxGroupByLimit: config.QUERY_MAX_GROUP_BY_LIMIT };

  const charts = chartsFeature({ db, catalog, conditions, limits, logger });
  const cohorts = cohortsFeature({ db, catalog, logger, matchEvents: charts.matchEvents, propertyCondition: charts.propertyCondition, now });
  conditions.register('cohort', cohorts.conditionHandler);
  const accounts = accountsFeature({ db, catalog, logger, now });
  const accountList = accountListFeature({ db, catalog, logger, conditions, propertyCondition: charts.propertyCondition, cohortUnit: cohorts.unitOf, now });
  const microscope = microscopeFeature({ db, logger, selectUnits: charts.selectUnits, cohorts: cohorts.staticCohorts });
  const publisher =
    deps.publisher ??
    kafkaPublisher({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, topicPrefix: config.TOPIC_PREFIX, logger, timeoutMs: config.DYNAMIC_PROPERTIES_PUBLISH_TIMEOUT_MS });
  const dynamic = dynamicPropertiesFeature({
    db,
    catalog,
    logger,
    matchEvents: charts.matchEvents,
    publisher,
    timeZoneOf: (id) => registry.byId(id)?.time_zone ?? 'UTC',
    now,
  });
  const salesforce = salesforceFeature({ db, catalog, logger, publisher, config, credentialsEnv: config.SALESFORCE_CREDENTIALS, now });
  const health = healthScoresFeature({ db, catalog, logger, publisher, hourUtc: config.HEALTH_SCORES_HOUR_UTC, now });

  const tokens = new SessionTokens(sessionKey(config.QUERY_SESSION_SECRET, config.GROUPSCOPE_DATA_DIR), registry, config.QUERY_SESSION_TTL_S);
  const app = buildHttpApp({
    registry,
    tokens,
    logger,
    ready: { clickhouse: () => ch.ping() },
    webDistDir: config.WEB_DIST_DIR,
    scope: {
      limiter: new QueryLimiter({
        total: config.QUERY_MAX_CONCURRENT,
        perProject: config.QUERY_MAX_CONCURRENT_PER_PROJECT,
        queueMs: config.QUERY_QUEUE_MS,
        maxQueuedPerProject: config.QUERY_MAX_QUEUED_PER_PROJECT,
      }),
      timeoutMs: config.QUERY_TIMEOUT_MS,
    },
    // the list's and health routes before the account page's /2/groups/:type/:value, which would take /2/groups/:type/list
    features: [charts.register, accountList.register, health.register, accounts.register, cohorts.register, microscope.register, dynamic.register, salesforce.register],
  });
  return {
    app,
    scheduler: dynamic.scheduler,
    salesforce: salesforce.scheduler,
    health: health.scheduler,
    async close() {
      await dynamic.scheduler.stop();
      await salesforce.scheduler.stop();
      await health.scheduler.stop();
      await publisher.close();
    },
  };
}

export interface QueryDeps {
  config: QueryConfig;
  logger: Logger;
  /** a ClickHouse handle owned by the caller (tests, several services in one process); created from the config when absent */
  ch?: ClickHouse;
  /** the project registry; read from PROJECTS_FILE when absent */
  registry?: ProjectRegistry;
}

/**
 * Starts the service: migrations, the app on QUERY_PORT, and the scheduled jobs (dynamic properties, Salesforce)
 * where DYNAMIC_PROPERTIES_SCHEDULER enables them: at scale, in exactly one replica.
 */
export async function startQuery(deps: QueryDeps): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const { config, logger } = deps;
  const ownCh = !deps.ch;
  const ch = deps.ch ?? clickhouseFromConfig(config);
  let query: QueryApp | undefined;
  try {
    if (config.QUERY_MIGRATE) await migrate(ch, logger);
    query = buildQuery({ config, logger, ch, registry: deps.registry ?? new ProjectRegistry(projectsFile(config)) });
    const http = await listen(query.app, config.QUERY_PORT, config.HTTP_HOST, logger);
    if (config.DYNAMIC_PROPERTIES_SCHEDULER) {
      query.scheduler.start(config.DYNAMIC_PROPERTIES_CHECK_MS);
      query.salesforce.start(config.SALESFORCE_CHECK_MS);
      query.health.start(config.HEALTH_SCORES_CHECK_MS);
    }
    const running = query;
    return {
      url: http.url,
      port: http.port,
      async stop() {
        await http.close();
        await running.close();
        if (ownCh) await ch.close();
      },
    };
  } catch (err) {
    await query?.close().catch(() => undefined);
    if (ownCh) await ch.close().catch(() => undefined);
    throw err;
  }
}
