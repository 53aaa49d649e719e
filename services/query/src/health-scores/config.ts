// Settings of the health-score scheduler, merged into the query service's env schema. Whether an instance runs the
// scheduled jobs at all is DYNAMIC_PROPERTIES_SCHEDULER (one flag for every job).
import { z } from '@groupscope/config';

export const healthEnv = {
  /** how often the scheduler looks for health scores that are due (ms) */
  HEALTH_SCORES_CHECK_MS: z.coerce.number().int().min(1000).default(60_000),
  /** scheduled runs for the day just ended start at or after this UTC hour, so its late events have arrived */
  HEALTH_SCORES_HOUR_UTC: z.coerce.number().int().min(0).max(23).default(1),
};
