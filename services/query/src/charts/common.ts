// What every chart shares: the environment a request runs in, the choice of source table from countGroup and the
// group-bys, the name checks against the project, and running built queries.
import type { Sql } from '@groupscope/clickhouse';
import type { Logger } from '@groupscope/logger';
import type { Project } from '@groupscope/projects';
import type { Catalog, NameUse } from '../domain/catalog';
import { groupTypeOf, type Condition, type EventDef, type GpMode, type PropRef } from '../domain/properties';
import type { DateRange, RangeLimits } from '../domain/time';
import { badParam } from '../http/errors';
import type { Db, TableRef } from '../sql/executor';
import type { CompiledCondition, ConditionRegistry } from '../sql/segments';
import { newContext, type BuildContext, type Source } from '../sql/source';

export type { Query } from '../http/params';

export interface QueryLimits extends RangeLimits {
  /** most series a group-by may return */
  maxGroupByLimit: number;
}

/** What a chart request runs with: its project, and the service's ClickHouse, catalog, limits and segment handlers. */
export interface ChartEnv {
  db: Db;
  catalog: Catalog;
  conditions: ConditionRegistry;
  project: Project;
  limits: QueryLimits;
  logger: Logger;
}

/** The parts of a chart request every chart has. */
export interface CommonPlan {
  range: DateRange;
  countGroup: string | null;
  gpMode: GpMode;
  segments: Condition[];
}

/**
 * The source for a chart: countGroup=<type> reads event_groups rows of that type (the unit is the group);
 * otherwise events (the unit is the user), expanded by the group-by's group type when `expand` is set.
 * Group-bys may name one group type, and with countGroup only that one.
 */
export function chooseSource(countGroup: string | null, groupBys: { prop: PropRef; param: string }[], expand: boolean): Source {
  const types = new Map<string, string>();
  for (const g of groupBys) {
    const t = groupTypeOf(g.prop);
    if (t !== undefined && !types.has(t)) types.set(t, g.param);
  }
  if (types.size > 1) {
    const [, second] = [...types];
    throw badParam(second![1], `group-bys may name only one group type; got ${[...types.keys()].map((t) => `"${t}"`).join(' and ')}`, 'unsupported');
  }
  const [only] = [...types];
  if (countGroup !== null) {
    if (only && only[0] !== countGroup) {
      throw badParam(only[1], `with countGroup "${countGroup}", a group-by on group type "${only[0]}" is not supported; group by "${countGroup}" properties or count users`, 'unsupported');
    }
    return { table: 'event_groups', groupType: countGroup };
  }
  return { table: 'events', ...(expand && only ? { expand: only[0] } : {}) };
}

/** Every name a chart uses, for the catalog check. */
export function namesOf(defs: EventDef[], segments: Condition[], extra: NameUse[] = []): NameUse[] {
  const out: NameUse[] = [...extra];
  for (const d of defs) {
    for (const f of d.filters) out.push({ prop: f.prop, param: d.param });
    for (const g of d.groupBy) out.push({ prop: g, param: d.param });
  }
  for (const s of segments) if (s.kind === 'prop') out.push({ prop: s.prop, param: 's' });
  return out;
}

/** Checks names against the project and resolves segment conditions handled elsewhere (cohorts). */
export async function resolvePlan(env: ChartEnv, plan: CommonPlan, names: NameUse[]): Promise<CompiledCondition[]> {
  const groupTypes = plan.countGroup === null ? [] : [{ groupType: plan.countGroup, param: 'countGroup' }];
  await env.catalog.check(env.project.id, groupTypes, names);
  return env.conditions.resolve(plan.segments, { db: env.db, projectId: env.project.id, countGroup: plan.countGroup });
}

export function buildContext(projectId: number, table: TableRef, plan: CommonPlan, source: Source): BuildContext {
  return newContext({ projectId, table, range: plan.range, gpMode: plan.gpMode, source });
}

export async function run<T>(env: ChartEnv, q: Sql, chart: string): Promise<T[]> {
  const t0 = performance.now();
  const rows = await env.db.rows<T>(q);
  env.logger.debug({ chart, project_id: env.project.id, rows: rows.length, duration_ms: Math.round(performance.now() - t0) }, 'chart_query');
  return rows;
}

/** Numbers from ClickHouse JSON (64-bit integers may arrive as text on some servers; NaN and null read as 0). */
export function num(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : 0;
  return Number.isFinite(n) ? n : 0;
}

/** The label of a group-by value: "(none)" for unset, several keys joined with "; ". */
export function label(keys: string[]): string {
  return keys.map((k) => (k === '' ? '(none)' : k)).join('; ');
}
