// Segment conditions that are not property tests ({"prop": "cohort", ...}), compiled by the handler registered under
// their name. The registry is built at composition (index.ts), where the cohorts feature registers its handler, and
// handed to the charts: the charts never know what a cohort is.
import { sql, type Sql } from '@groupscope/clickhouse';
import type { Condition, ExtCondition, PropCondition } from '../domain/properties';
import { ApiError } from '../http/errors';
import { andAll, conditionSql } from './conditions';
import type { Db } from './executor';
import type { BuildContext } from './source';

export interface ResolveEnv {
  db: Db;
  projectId: number;
  /** the chart's countGroup: null for users, else a group type */
  countGroup: string | null;
}

/** A condition ready to compile against any source. */
export type CompiledCondition = PropCondition | { kind: 'compiled'; param: string; compile: (ctx: BuildContext) => Sql };

export interface ConditionHandler {
  /** Checks the condition (400 when it names nothing that exists) and returns its predicate over one row of ctx.source. */
  resolve(cond: ExtCondition, env: ResolveEnv): Promise<(ctx: BuildContext) => Sql>;
}

export class ConditionRegistry {
  private readonly handlers = new Map<string, ConditionHandler>();

  register(name: string, handler: ConditionHandler): this {
    this.handlers.set(name, handler);
    return this;
  }

  async resolve(conds: Condition[], env: ResolveEnv): Promise<CompiledCondition[]> {
    return Promise.all(
      conds.map(async (c): Promise<CompiledCondition> => {
        if (c.kind === 'prop') return c;
        const h = this.handlers.get(c.name);
        if (!h) throw new ApiError(400, 'unsupported', `segment conditions on "${c.name}" are not supported here`, [{ param: c.param.replace(/\[.*$/, ''), condition: c.param }]);
        return { kind: 'compiled', param: c.param, compile: await h.resolve(c, env) };
      }),
    );
  }
}

export function conditionsSql(ctx: BuildContext, conds: CompiledCondition[]): Sql {
  return andAll(conds.map((c) => (c.kind === 'prop' ? conditionSql(ctx, c) : sql`(${c.compile(ctx)})`)));
}
