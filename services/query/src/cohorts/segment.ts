// Cohort membership as a chart segment: {"prop": "cohort", "op": "is" | "is not", "values": ["<cohort id>", ...]}.
// A user cohort keeps the events of its users; a cohort of groups keeps the events attributed to member groups
// (on a row of that group type: the row's group; otherwise any of the event's groups of that type). index.ts
// registers this handler with the charts' condition registry.
import { sql, param, join, type Sql } from '@groupscope/clickhouse';
import type { ExtCondition } from '../domain/properties';
import { badParam } from '../http/errors';
import { groupAccess } from '../sql/conditions';
import type { ConditionHandler, ResolveEnv } from '../sql/segments';
import { EXPANDED, type BuildContext } from '../sql/source';
import { getCohort, isUserCohort, memberSet, type Cohort } from './store';

function memberTest(c: Cohort, ctx: BuildContext): Sql {
  const members = memberSet(ctx.table, c);
  if (isUserCohort(c)) return sql`user_key IN ${members}`;
  const access = groupAccess(ctx, c.count_group);
  if (access.kind === 'row') return sql`group_value IN ${members}`;
  if (access.kind === 'expanded') return sql`${EXPANDED} IN ${members}`;
  // IN (subquery) is not allowed inside a lambda: compare the event's values with the members as one array
  return sql`hasAny(groups[${param(c.count_group, 'String')}], (SELECT groupArray(member) FROM ${members}))`;
}

/** The predicate of a condition on cohorts that exist, over one row of ctx.source. */
export function cohortPredicate(op: 'is' | 'is not', cohorts: Cohort[]): (ctx: BuildContext) => Sql {
  return (ctx) => {
    const any = join(
      cohorts.map((c) => sql`(${memberTest(c, ctx)})`),
      ' OR ',
    );
    return op === 'is' ? sql`(${any})` : sql`NOT (${any})`;
  };
}

export const cohortConditionHandler: ConditionHandler = {
  async resolve(cond: ExtCondition, env: ResolveEnv) {
    // errors name the parameter ("s") and the condition in it ("s[0]"), as the charts' segment errors do
    const where = cond.param.replace(/\[.*$/, '');
    const at = { condition: cond.param };
    if (cond.op !== 'is' && cond.op !== 'is not') throw badParam(where, `${cond.param}: a cohort condition takes "is" or "is not", not "${cond.op}"`, 'unknown_operator', at);
    if (cond.values.length === 0) throw badParam(where, `${cond.param}: a cohort condition needs at least one cohort id`, 'missing_value', at);
    const cohorts = await Promise.all(cond.values.map((id) => getCohort(env.db, env.projectId, id)));
    const missing = cond.values.filter((_, i) => !cohorts[i]);
    if (missing.length > 0) throw badParam(where, `${cond.param}: unknown cohort ${missing.map((m) => JSON.stringify(m)).join(', ')}`, 'unknown_cohort', at);
    return cohortPredicate(cond.op, cohorts as Cohort[]);
  },
};
