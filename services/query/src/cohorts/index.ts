// Cohorts of users or groups: behavioral (computed on creation and refresh) and static (uploaded ids, or saved from
// the microscope); list, members (JSON or CSV), delete (/api/3/cohorts...). Other features are handed two of its
// capabilities at composition: cohort segments for the charts, and saving a static cohort for the microscope.
import type { Sql } from '@groupscope/clickhouse';
import type { Router } from '@groupscope/http';
import type { ConditionHandler } from '../sql/segments';
import { cohortJson, registerCohortRoutes, requireName, saveStaticCohort, type CohortRoutesDeps } from './routes';
import { cohortConditionHandler } from './segment';
import { getCohort } from './store';

export type CohortsDeps = CohortRoutesDeps;

export interface StaticCohorts {
  /** the cohort name from a request (400 when missing or too long) */
  checkName(raw: unknown): string;
  /** saves the units of `members` (a query yielding `member`) as a static cohort; its reply body */
  save(projectId: number, o: { name: string; countGroup: string; definition: unknown; members: Sql }): Promise<ReturnType<typeof cohortJson>>;
}

export interface Cohorts {
  register(router: Router): void;
  /** the handler of {"prop": "cohort", ...} segment conditions */
  conditionHandler: ConditionHandler;
  staticCohorts: StaticCohorts;
  /** what a cohort counts: 'User' or a group type; undefined when the project has no such cohort */
  unitOf(projectId: number, id: string): Promise<string | undefined>;
}

export function cohortsFeature(deps: CohortsDeps): Cohorts {
  const log = deps.logger.child({ module: 'cohorts' });
  const now = deps.now ?? Date.now;
  return {
    register: (router) => registerCohortRoutes(router, deps),
    conditionHandler: cohortConditionHandler,
    staticCohorts: {
      checkName: requireName,
      save: async (projectId, o) => cohortJson(await saveStaticCohort(deps.db, log, projectId, { ...o, now: now() })),
    },
    unitOf: async (projectId, id) => (await getCohort(deps.db, projectId, id))?.count_group,
  };
}
