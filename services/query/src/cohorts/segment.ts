// Cohort membership as a chart segment: {"prop": "cohort", "op": "is" | "is not", "values": ["<cohort id>", ...]}.
// A user cohort keeps the events of its users; a cohort of groups keeps the events attributed to member groups
// (on a row of that group type: the row's group; otherwise any of the event's groups of that type).
import { sql, param, join, type ClickHouse, type Sql } from '@groupscope/clickhouse';
import type { ExtCondition } from '../definitions';
import { badRequest } from '../errors';
import { groupAccess } from '../sql/conditions';
import { registerConditionHandler, type ConditionHandler } from '../sql/segments';
import { EXPANDED, type BuildContext } from '../sql/source';
import { getCohort, isUserCohort, memberSet, type Cohort } from './store';

function memberTest(ch: ClickHouse, c: Cohort, ctx: BuildContext): Sql {
  const members = memberSet(ch, c);
  if (isUserCohort(c)) return sql`user_key IN ${members}`;
  const access = groupAccess(ctx, c.count_group);
  if (access.kind === 'row') return sql`group_value IN ${members}`;
  if (access.kind === 'expanded') return sql`${EXPANDED} IN ${members}`;
  // IN (subquery) is not allowed inside a lambda: compare the event's values with the members as one array
  return sql`hasAny(groups[${param(c.count_group, 'String')}], (SELECT groupArray(member) FROM ${members}))`;
}

export const cohortConditionHandler: ConditionHandler = {
  async resolve(cond: ExtCondition, env) {
    // errors name the parameter ("s") and the condition in it ("s[0]"), as the charts' segment errors do
    const where = cond.param.replace(/\[.*$/, '');
    const at = { condition: cond.param };
    if (cond.op !== 'is' && cond.op !== 'is not') throw badRequest(where, `${cond.param}: a cohort condition takes "is" or "is not", not "${cond.op}"`, 'unknown_operator', at);
    if (cond.values.length === 0) throw badRequest(where, `${cond.param}: a cohort condition needs at least one cohort id`, 'missing_value', at);
    const cohorts = await Promise.all(cond.values.map((id) => getCohort(env.ch, env.projectId, id)));
    const missing = cond.values.filter((_, i) => !cohorts[i]);
    if (missing.length > 0) throw badRequest(where, `${cond.param}: unknown cohort ${missing.map((m) => JSON.stringify(m)).join(', ')}`, 'unknown_cohort', at);
    const found = cohorts as Cohort[];
    return (ctx: BuildContext) => {
      const any = join(
        found.map((c) => sql`(${memberTest(env.ch, c, ctx)})`),
        ' OR ',
      );
      return cond.op === 'is' ? sql`(${any})` : sql`NOT (${any})`;
    };
  },
};

/** Plugs cohort segments into the chart code's condition registry (replacing its "not supported yet" handler). */
export function registerCohortSegments(): void {
  registerConditionHandler('cohort', cohortConditionHandler);
}
