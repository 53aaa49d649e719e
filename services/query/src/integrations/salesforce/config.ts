// Settings of the Salesforce sync, merged into the query service's env schema, and the per-project credentials
// read from the environment (SALESFORCE_<PROJECT_ID>_LOGIN_URL, _CLIENT_ID, _CLIENT_SECRET).
import { z } from '@groupscope/config';
import type { SalesforceCredentials } from './client';
import { API_VERSION } from './soql';

export const salesforceEnv = {
  /** the REST API version the sync speaks */
  SALESFORCE_API_VERSION: z.string().regex(API_VERSION, 'SALESFORCE_API_VERSION must look like v62.0').default('v62.0'),
  /** the UTC hour of the daily job (daily and every-N-days mappings) */
  SALESFORCE_DAILY_HOUR_UTC: z.coerce.number().int().min(0).max(23).default(6),
  /** how often the scheduler looks for due mappings (ms) */
  SALESFORCE_CHECK_MS: z.coerce.number().int().min(1000).default(60_000),
  /** incremental runs re-read this many seconds before the high-water mark (rows read twice are skipped) */
  SALESFORCE_OVERLAP_S: z.coerce.number().int().min(1).max(86_400).default(60),
  /** records per query page */
  SALESFORCE_BATCH_SIZE: z.coerce.number().int().min(200).max(2000).default(2000),
  /** time limit of one request to Salesforce (ms) */
  SALESFORCE_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
  /** retries of a request that failed for a retryable reason (limits, 5xx, network), with back-off from BASE to MAX */
  SALESFORCE_RETRIES: z.coerce.number().int().min(0).max(20).default(4),
  SALESFORCE_RETRY_BASE_MS: z.coerce.number().int().min(1).default(2000),
  SALESFORCE_RETRY_MAX_MS: z.coerce.number().int().min(1).default(60_000),
  /** after a failed scheduled run, the next try waits BASE, then doubles up to MAX (ms) */
  SALESFORCE_RUN_RETRY_BASE_MS: z.coerce.number().int().min(1000).default(300_000),
  SALESFORCE_RUN_RETRY_MAX_MS: z.coerce.number().int().min(1000).default(3_600_000),
};

export type ProjectCredentialsEnv = Record<number, Partial<SalesforceCredentials>>;

const CREDENTIAL_VAR = /^SALESFORCE_(\d{1,10})_(LOGIN_URL|CLIENT_ID|CLIENT_SECRET)$/;

/** The credentials given in the environment, by project id (any of the three parts may be missing). */
export function salesforceCredentialsFromEnv(env: NodeJS.ProcessEnv): ProjectCredentialsEnv {
  const out: ProjectCredentialsEnv = {};
  for (const [name, value] of Object.entries(env)) {
    const m = CREDENTIAL_VAR.exec(name);
    if (!m || value === undefined || value === '') continue;
    const id = Number(m[1]);
    const part = m[2]!.toLowerCase() as keyof SalesforceCredentials;
    (out[id] ??= {})[part] = value;
  }
  return out;
}
