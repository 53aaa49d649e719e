// Dynamic group properties: a user-level metric computed per group over a window and written back as a group
// property through the group-identify path (Kafka), on a schedule and on demand. The feature's scheduler is started
// and stopped by the composition root (index.ts).
import type { Router } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import type { Catalog } from '../domain/catalog';
import type { EventMatcher } from '../sql/event-match';
import type { Db } from '../sql/executor';
import type { GroupIdentifyPublisher } from '../jobs/publisher';
import { registerDynamicRoutes } from './routes';
import { DynamicRunner } from './runner';

export { dynamicEnv } from './config';
export type { DynamicRunner } from './runner';

export interface DynamicPropertiesDeps {
  db: Db;
  catalog: Catalog;
  logger: Logger;
  matchEvents: EventMatcher;
  /** where computed values are published (group identifies) */
  publisher: GroupIdentifyPublisher;
  /** a project's time zone (calendar windows and "once a day" follow it) */
  timeZoneOf(projectId: number): string;
  now?: () => number;
}

export function dynamicPropertiesFeature(deps: DynamicPropertiesDeps): { register(router: Router): void; scheduler: DynamicRunner } {
  const scheduler = new DynamicRunner(deps);
  return {
    register: (router) => registerDynamicRoutes(router, { ...deps, runner: scheduler }),
    scheduler,
  };
}
