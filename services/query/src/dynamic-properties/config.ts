// Settings of the dynamic-property scheduler, merged into the query service's env schema.
import { envBool, z } from '@groupscope/config';

export const dynamicEnv = {
  /** whether this instance runs the scheduled jobs, dynamic properties and the Salesforce sync (at scale: one replica only) */
  DYNAMIC_PROPERTIES_SCHEDULER: envBool.default(true),
  /** how often the scheduler looks for properties that are due (ms) */
  DYNAMIC_PROPERTIES_CHECK_MS: z.coerce.number().int().min(1000).default(60_000),
  /** how long a run waits for Kafka before giving up with 503 (ms) */
  DYNAMIC_PROPERTIES_PUBLISH_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
};
