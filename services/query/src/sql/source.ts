// Where a chart's rows come from, and the clauses every chart query shares: the mandatory project filter, the time
// range, the unit being counted, interval buckets in the project's time zone. Builders are pure: they take a
// BuildContext (project, range, names of tables) and return sql`` fragments with every value bound.
import { sql, param, trusted, join, type Sql } from '@groupscope/clickhouse';
import type { GpMode } from '../domain/properties';
import { chDateTime, WEEK_MODE, type DateRange, type Interval } from '../domain/time';
import type { TableRef } from './executor';

/**
 * - `events`: one row per event; the unit is the user.
 * - `event_groups` with `groupType`: one row per (event, group of that type it is attributed to, user-level or
 *   event-level); the unit is the group. Sorted by group, which is what group funnels and retention want.
 */
export interface Source {
  table: 'events' | 'event_groups';
  groupType?: string;
  /** events only: expand each event into one row per value of this group type (ARRAY JOIN), for group-bys */
  expand?: string;
}

export interface BuildContext {
  projectId: number;
  /** qualifies a table name (ClickHouse.table) */
  table: TableRef;
  range: DateRange;
  gpMode: GpMode;
  source: Source;
  /** scalar subqueries hoisted into the query's WITH clause (current group properties); filled while building */
  withs: Sql[];
  /** names of the hoisted lookups, by group type and property, so each is built once */
  lookups: Map<string, string>;
}

/** The range of a context that builds only conditions and values, which do not read it (time filters and buckets do). */
export const NO_RANGE: DateRange = { startDay: '1970-01-01', endDay: '1970-01-01', tz: 'UTC', fromMs: 0, toMs: 0 };

export function newContext(args: Omit<BuildContext, 'withs' | 'lookups'>): BuildContext {
  return { ...args, withs: [], lookups: new Map() };
}

/** The alias under which an expanded group value is visible (Source.expand). */
export const EXPANDED = trusted('__gv');

export function tableRef(ctx: BuildContext): Sql {
  return sql`${trusted(ctx.table(ctx.source.table))}`;
}

export function projectFilter(ctx: BuildContext): Sql {
  return sql`project_id = ${param(ctx.projectId, 'UInt32')}`;
}

export function timeFilter(ctx: BuildContext, opts: { from?: boolean } = {}): Sql {
  const to = sql`event_time < ${param(chDateTime(ctx.range.toMs), "DateTime64(3, 'UTC')")}`;
  if (opts.from === false) return to;
  return sql`event_time >= ${param(chDateTime(ctx.range.fromMs), "DateTime64(3, 'UTC')")} AND ${to}`;
}

/** FROM ... [ARRAY JOIN] WHERE project AND time [AND group_type] — the start of every chart's row query. */
export function fromWhere(ctx: BuildContext, opts: { from?: boolean } = {}): Sql {
  const parts = [projectFilter(ctx), timeFilter(ctx, opts)];
  if (ctx.source.table === 'event_groups') {
    if (!ctx.source.groupType) throw new Error('event_groups source without a group type');
    parts.push(sql`group_type = ${param(ctx.source.groupType, 'String')}`);
  }
  const arrayJoin = ctx.source.expand
    ? sql` ARRAY JOIN if(empty(groups[${param(ctx.source.expand, 'String')}]), [''], groups[${param(ctx.source.expand, 'String')}]) AS ${EXPANDED}`
    : sql``;
  return sql`FROM ${tableRef(ctx)}${arrayJoin} WHERE ${join(parts, ' AND ')}`;
}

/** What is counted: the user (user_key: user_id, else the device) or the group value. */
export function unitExpr(ctx: BuildContext): Sql {
  return ctx.source.table === 'event_groups' ? sql`group_value` : sql`user_key`;
}

/** The interval bucket of a row as the label the chart shows ('YYYY-MM-DD', or 'YYYY-MM-DDTHH:00:00' hourly). */
export function bucketExpr(ctx: BuildContext, interval: Interval): Sql {
  const tz = param(ctx.range.tz, 'String');
  switch (interval) {
    case 'hour':
      return sql`formatDateTime(event_time, '%Y-%m-%dT%H:00:00', ${tz})`;
    case 'day':
      return sql`toString(toDate(event_time, ${tz}))`;
    case 'week':
      return sql`toString(toStartOfWeek(toDate(event_time, ${tz}), ${trusted(String(WEEK_MODE))}))`;
    case 'month':
      return sql`toString(toStartOfMonth(toDate(event_time, ${tz})))`;
  }
}

/** The local day (Date) of a row, for retention's interval arithmetic. */
export function localDateExpr(ctx: BuildContext, interval: Exclude<Interval, 'hour'>): Sql {
  const tz = param(ctx.range.tz, 'String');
  switch (interval) {
    case 'day':
      return sql`toDate(event_time, ${tz})`;
    case 'week':
      return sql`toStartOfWeek(toDate(event_time, ${tz}), ${trusted(String(WEEK_MODE))})`;
    case 'month':
      return sql`toStartOfMonth(toDate(event_time, ${tz}))`;
  }
}

/** Prepends the hoisted scalar subqueries, if any. */
export function withClause(ctx: BuildContext, body: Sql): Sql {
  if (ctx.withs.length === 0) return body;
  return sql`WITH ${join(ctx.withs, ', ')} ${body}`;
}
