// The Salesforce sync: group properties pulled from Salesforce objects on a schedule (hourly, daily at a
// configured UTC hour, or every N days with a pickup date per group) and written through the group-identify path,
// like dynamic group properties. The feature's scheduler is started and stopped by the composition root.
import type { z } from '@groupscope/config';
import type { Router } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import type { Catalog } from '../../domain/catalog';
import type { GroupIdentifyPublisher } from '../../jobs/publisher';
import type { Db } from '../../sql/executor';
import type { ProjectCredentialsEnv, salesforceEnv } from './config';
import { registerSalesforceRoutes } from './routes';
import { SalesforceRunner, type SalesforceSettings } from './runner';

export { salesforceEnv, salesforceCredentialsFromEnv, type ProjectCredentialsEnv } from './config';
export type { SalesforceRunner } from './runner';

export type SalesforceConfig = z.infer<z.ZodObject<typeof salesforceEnv>> & { GROUPSCOPE_DATA_DIR: string };

export interface SalesforceDeps {
  db: Db;
  catalog: Catalog;
  logger: Logger;
  publisher: GroupIdentifyPublisher;
  config: SalesforceConfig;
  /** credentials given in the environment, by project */
  credentialsEnv: ProjectCredentialsEnv;
  now?: () => number;
}

export function settingsOf(c: SalesforceConfig): SalesforceSettings {
  return {
    apiVersion: c.SALESFORCE_API_VERSION,
    dailyHourUtc: c.SALESFORCE_DAILY_HOUR_UTC,
    overlapMs: c.SALESFORCE_OVERLAP_S * 1000,
    batchSize: c.SALESFORCE_BATCH_SIZE,
    requestTimeoutMs: c.SALESFORCE_REQUEST_TIMEOUT_MS,
    retries: c.SALESFORCE_RETRIES,
    requestBackoff: { baseMs: c.SALESFORCE_RETRY_BASE_MS, maxMs: c.SALESFORCE_RETRY_MAX_MS },
    runBackoff: { baseMs: c.SALESFORCE_RUN_RETRY_BASE_MS, maxMs: c.SALESFORCE_RUN_RETRY_MAX_MS },
  };
}

export function salesforceFeature(deps: SalesforceDeps): { register(router: Router): void; scheduler: SalesforceRunner } {
  const credentials = { env: deps.credentialsEnv, dataDir: deps.config.GROUPSCOPE_DATA_DIR };
  const scheduler = new SalesforceRunner({ db: deps.db, logger: deps.logger, publisher: deps.publisher, credentials, settings: settingsOf(deps.config), now: deps.now });
  return {
    register: (router) => registerSalesforceRoutes(router, { db: deps.db, catalog: deps.catalog, logger: deps.logger, runner: scheduler, credentials, now: deps.now }),
    scheduler,
  };
}
