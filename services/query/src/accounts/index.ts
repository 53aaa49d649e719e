// Issue 7 inside the query service: accounts, cohorts, microscope and dynamic group properties. `accountFeatures`
// gives the app one router (mounted under /api after auth, like the charts) and registers cohort segments with the
// charts' condition registry; it owns its tables (migrations 030-039) and the dynamic-property scheduler.
import { express } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import type { ApiContext } from '../app';
import { registerCohortRoutes } from '../cohorts/routes';
import { registerCohortSegments } from '../cohorts/segment';
import { kafkaPublisher, type GroupIdentifyPublisher } from '../dynamic/publisher';
import { registerDynamicRoutes } from '../dynamic/routes';
import { DynamicRunner } from '../dynamic/runner';
import { registerMicroscopeRoutes } from '../microscope/routes';
import { chartEventMatcher, type EventMatcher } from './event-match';
import { registerAccountLookupRoutes } from './routes';

export type { EventMatcher, EventMatchInput } from './event-match';

export interface AccountFeaturesDeps {
  logger: Logger;
  /** a project's time zone, for the scheduler (requests carry their project) */
  timeZoneOf(projectId: number): string;
  /** where dynamic properties are published; absent: runs answer 503 */
  kafka?: { brokers: string[]; clientId: string; topicPrefix: string; publishTimeoutMs?: number };
  /** replaces the Kafka publisher (tests) */
  publisher?: GroupIdentifyPublisher;
  /** how often the dynamic-property scheduler looks for due properties; 0 turns it off in this instance */
  schedulerIntervalMs?: number;
  /** the clock (tests) */
  now?: () => number;
}

export interface AccountFeatures {
  /** the router factory the app mounts under /api (QueryAppDeps.routers) */
  router(api: ApiContext): express.Router;
  /** the dynamic-property runner, once the router is built (absent without Kafka) */
  runner(): DynamicRunner | undefined;
  stop(): Promise<void>;
}

export function accountFeatures(deps: AccountFeaturesDeps): AccountFeatures {
  const publisher =
    deps.publisher ??
    (deps.kafka
      ? kafkaPublisher({ brokers: deps.kafka.brokers, clientId: deps.kafka.clientId, topicPrefix: deps.kafka.topicPrefix, logger: deps.logger, timeoutMs: deps.kafka.publishTimeoutMs })
      : undefined);
  let runner: DynamicRunner | undefined;
  registerCohortSegments();
  return {
    router(api) {
      const router = express.Router();
      const matchEvents: EventMatcher = chartEventMatcher(api.ch, api.catalog);
      const common = { ch: api.ch, logger: deps.logger, matchEvents, now: deps.now };
      if (publisher) runner = new DynamicRunner({ ...common, publisher, timeZoneOf: deps.timeZoneOf });
      registerAccountLookupRoutes(router, common);
      registerCohortRoutes(router, common);
      registerMicroscopeRoutes(router, { ...common, api });
      registerDynamicRoutes(router, { ...common, runner });
      const interval = deps.schedulerIntervalMs ?? 60_000;
      if (runner && interval > 0) runner.start(interval);
      return router;
    },
    runner: () => runner,
    async stop() {
      await runner?.stop();
      await publisher?.close();
    },
  };
}
