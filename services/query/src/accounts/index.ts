// Issue 7 inside the query service: accounts, cohorts, microscope and dynamic group properties, mounted on the
// app's authenticated router with one call. The chart code provides the event matcher (and the microscope's
// member queries); this module owns its own tables (migrations 030-039) and the dynamic-property scheduler.
import type { Router } from 'express';
import type { ClickHouse } from '@groupscope/clickhouse';
import type { Logger } from '@groupscope/logger';
import { registerCohortRoutes } from '../cohorts/routes';
import { kafkaPublisher, type GroupIdentifyPublisher } from '../dynamic/publisher';
import { registerDynamicRoutes } from '../dynamic/routes';
import { DynamicRunner } from '../dynamic/runner';
import type { EventMatcher } from './event-match';
import { registerAccountLookupRoutes } from './routes';
import type { ProjectOf } from './types';

export type { EventMatcher, EventMatchInput } from './event-match';
export type { ProjectOf } from './types';
export { ApiError } from './http';

export interface AccountRoutesDeps {
  ch: ClickHouse;
  logger: Logger;
  /** the project of an authenticated request */
  projectOf: ProjectOf;
  /** compiles {event_type, filters} into a row condition (the charts' definitions code) */
  matchEvents: EventMatcher;
  /** a project's time zone, for the scheduler (requests carry their project) */
  timeZoneOf(projectId: number): string;
  /** where dynamic properties are published; absent: runs answer 503 */
  kafka?: { brokers: string[]; clientId: string; topicPrefix: string; publishTimeoutMs?: number };
  /** replaces the Kafka publisher (tests) */
  publisher?: GroupIdentifyPublisher;
  /** how often the dynamic-property scheduler looks for due properties; 0 turns it off in this process */
  schedulerIntervalMs?: number;
  now?: () => number;
}

export interface AccountFeatures {
  runner?: DynamicRunner;
  stop(): Promise<void>;
}

export function registerAccountRoutes(router: Router, deps: AccountRoutesDeps): AccountFeatures {
  const publisher =
    deps.publisher ??
    (deps.kafka
      ? kafkaPublisher({ brokers: deps.kafka.brokers, clientId: deps.kafka.clientId, topicPrefix: deps.kafka.topicPrefix, logger: deps.logger, timeoutMs: deps.kafka.publishTimeoutMs })
      : undefined);
  const runner = publisher
    ? new DynamicRunner({ ch: deps.ch, logger: deps.logger, publisher, matchEvents: deps.matchEvents, timeZoneOf: deps.timeZoneOf, now: deps.now })
    : undefined;

  registerAccountLookupRoutes(router, deps);
  registerCohortRoutes(router, deps);
  registerDynamicRoutes(router, { ...deps, runner });

  const interval = deps.schedulerIntervalMs ?? 60_000;
  if (runner && interval > 0) runner.start(interval);
  return {
    runner,
    async stop() {
      await runner?.stop();
      await publisher?.close();
    },
  };
}
