// Segment conditions that are not property tests, compiled by registered handlers. Today only "cohort" is known,
// and it answers 400 until the cohorts module (issue 7) registers a real handler with registerConditionHandler:
//
//   registerConditionHandler('cohort', {
//     async resolve(cond, env) {            // look the cohort up (env.ch, env.projectId), check op/values, 400 if unknown
//       return (ctx) => sql`...`;           // a predicate over one row of ctx.source (unitExpr, groups[...], uuid ...)
//     },
//   });
import type { ClickHouse, Sql } from '@groupscope/clickhouse';
import { sql } from '@groupscope/clickhouse';
import type { Condition, ExtCondition, PropCondition } from '../definitions';
import { ApiError, badRequest } from '../errors';
import { andAll, conditionSql } from './conditions';
import type { BuildContext } from './source';

export interface ResolveEnv {
  ch: ClickHouse;
  projectId: number;
  /** the chart's countGroup: null for users, else a group type */
  countGroup: string | null;
}

/** A condition ready to compile against any source. */
export type CompiledCondition = PropCondition | { kind: 'compiled'; param: string; compile: (ctx: BuildContext) => Sql };

export interface ConditionHandler {
  resolve(cond: ExtCondition, env: ResolveEnv): Promise<(ctx: BuildContext) => Sql>;
}

const handlers = new Map<string, ConditionHandler>();

export function registerConditionHandler(name: string, handler: ConditionHandler): void {
  handlers.set(name, handler);
}

registerConditionHandler('cohort', {
  async resolve(cond) {
    throw new ApiError(400, 'unsupported', 'cohorts not supported yet', [{ param: cond.param.replace(/\[.*$/, ''), condition: cond.param }]);
  },
});

export async function resolveConditions(conds: Condition[], env: ResolveEnv): Promise<CompiledCondition[]> {
  return Promise.all(
    conds.map(async (c): Promise<CompiledCondition> => {
      if (c.kind === 'prop') return c;
      const h = handlers.get(c.name);
      if (!h) throw badRequest(c.param, `unknown segment condition "${c.name}"`);
      return { kind: 'compiled', param: c.param, compile: await h.resolve(c, env) };
    }),
  );
}

export function conditionsSql(ctx: BuildContext, conds: CompiledCondition[]): Sql {
  return andAll(conds.map((c) => (c.kind === 'prop' ? conditionSql(ctx, c) : sql`(${c.compile(ctx)})`)));
}
