// Charts: segmentation (with rolling active units), funnels, retention and stickiness (GET /api/2/...), and what
// other features are handed of them at composition: the units behind one point of a chart (the microscope), the
// event matcher (cohorts, dynamic properties) and the property-condition builder (the account list).
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
      router.get('/2/stickiness', handle(log, 'stickiness', async (req, res) => stickiness(env(projectOf(res)), req.query as Query)));
    },
    selectUnits: (project, query) => selectUnits(env(project), query),
    matchEvents: chartEventMatcher(deps.db.table, deps.catalog),
    propertyCondition: propCondition,
  };
}
