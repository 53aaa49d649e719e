// Charts: segmentation (with rolling active units), funnels, retention and stickiness (GET /api/2/...), what
// their pickers suggest (event types, property names and values), and what other features are handed of them at
// composition: the units behind one point of a chart (the microscope), the event matcher (cohorts, dynamic
// properties) and the property-condition builder (the account list).
import type { Router } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import type { Project } from '@groupscope/projects';
import type { Catalog } from '../domain/catalog';
import { projectOf } from '../http/auth';
import { handle } from '../http/handler';
import type { Query } from '../http/params';
import type { EventMatcher } from '../sql/event-match';
import type { Db } from '../sql/executor';
import type { ConditionRegistry } from '../sql/segments';
import type { ChartEnv, QueryLimits } from './common';
import { chartEventMatcher } from './event-match';
import { funnels } from './funnels';
import { propCondition } from './request';
import { retention } from './retention';
import { segmentation } from './segmentation';
import { suggestions, type SuggestionsDeps } from './suggestions';
import { stickiness } from './stickiness';
import { selectUnits, type PointUnits } from './units';

export type { ChartEnv, QueryLimits } from './common';
export type { PointUnits } from './units';

export interface ChartsDeps {
  db: Db;
  catalog: Catalog;
  /** segment conditions other features handle (cohorts) */
  conditions: ConditionRegistry;
  limits: QueryLimits;
  logger: Logger;
  /** the clock of the suggestions' time window (tests) */
  now?: () => number;
}

export interface Charts {
  register(router: Router): void;
  /** the units behind one point of a chart, for the chart parameters plus the point (see units.ts) */
  selectUnits(project: Project, query: Query): Promise<PointUnits>;
  matchEvents: EventMatcher;
  /** a property condition from a filter's parts, with the charts' operators and value rules (the account list's filters) */
  propertyCondition: typeof propCondition;
}

export function chartsFeature(deps: ChartsDeps): Charts {
  const log = deps.logger.child({ module: 'charts' });
  const env = (project: Project): ChartEnv => ({ db: deps.db, catalog: deps.catalog, conditions: deps.conditions, limits: deps.limits, logger: log, project });
  return {
    register(router) {
      router.get('/2/events/segmentation', handle(log, 'segmentation', async (req, res) => segmentation(env(projectOf(res)), req.query as Query)));
      router.get('/2/funnels', handle(log, 'funnels', async (req, res) => funnels(env(projectOf(res)), req.query as Query)));
      router.get('/2/retention', handle(log, 'retention', async (req, res) => retention(env(projectOf(res)), req.query as Query)));
      const sd: SuggestionsDeps = { db: deps.db, catalog: deps.catalog, now: deps.now ?? Date.now };
      router.get('/2/events/list', handle(log, 'events_list', async (_req, res) => suggestions.events(sd, projectOf(res).id)));
      router.get('/2/properties', handle(log, 'properties', async (req, res) => suggestions.properties(sd, projectOf(res).id, req.query as Query)));
      router.get('/2/properties/values', handle(log, 'property_values', async (req, res) => suggestions.values(sd, projectOf(res).id, req.query as Query)));
      router.get('/2/stickiness', handle(log, 'stickiness', async (req, res) => stickiness(env(projectOf(res)), req.query as Query)));
    },
    selectUnits: (project, query) => selectUnits(env(project), query),
    matchEvents: chartEventMatcher(deps.db.table, deps.catalog),
    propertyCondition: propCondition,
  };
}
