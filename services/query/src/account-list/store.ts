// The account list's SQL: every group of the type with its usage (sql/usage.ts), kept by the filters, in the order
// asked, one page (or all of it for CSV); and its rows as the reply. Property filters compile with the charts'
// condition builder over `group_properties` (the current properties here), so an operator means the same in both.
import { sql, param, ident, join, trusted, type Sql } from '@groupscope/clickhouse';
import { isoOrNull } from '../http/reply';
import { andAll, conditionSql } from '../sql/conditions';
import { currentProperties, groupRowContext } from '../sql/groups';
import { withClause, type BuildContext } from '../sql/source';
import { aggregatesFor, groupsWithUsage, NUMERIC_COLUMNS, METRIC_COLUMNS, DAYS_SINCE_LAST_SEEN, type GroupUsageRow, type KnownUsage, type UsageNeeds } from '../sql/usage';
import { columnName, type Column, type ListFilter, type ListRequest, type NumberOp } from './request';

/** A context in which a group's row reads like an event_groups row of its type: `group_value`, `group_properties`. */
export const listContext = groupRowContext;

const COMPARE: Record<Exclude<NumberOp, 'is' | 'is not'>, string> = { less: '<', 'less or equal': '<=', greater: '>', 'greater or equal': '>=' };

/** A number column by its allow-listed name. */
const numberColumn = (name: string) => ident(name, NUMERIC_COLUMNS);

/** A filter as a predicate over one list row. A NULL (a change against an empty period, never seen) matches only `is not`. */
export function filterSql(ctx: BuildContext, f: ListFilter): Sql {
  if (f.kind === 'property') return conditionSql(ctx, f.cond);
  const col = numberColumn(f.name);
  if (f.op === 'is' || f.op === 'is not') {
    const test = sql`ifNull(has(${param(f.values, 'Array(Float64)')}, toFloat64(${col})), 0)`;
    return f.op === 'is' ? test : sql`NOT ${test}`;
  }
  // as text: a number past 2^53 is a valid Float64 that a JS number binding would refuse
  return sql`ifNull(${col} ${trusted(COMPARE[f.op])} ${param(String(f.values[0]), 'Float64')}, 0)`;
}

/**
 * The order: the sort column (numbers numerically; a property's numeric values before its other values, as text),
 * missing values last in either direction, then the group value.
 */
export function orderSql(sort: Column, order: 'asc' | 'desc'): Sql {
  const dir = trusted(order === 'asc' ? 'ASC' : 'DESC');
  switch (sort.kind) {
    case 'group_value':
      return sql`group_value ${dir}`;
    case 'seen': {
      const col = ident(sort.name, ['first_seen', 'last_seen']);
      return sql`${col} = 0, ${col} ${dir}, group_value`;
    }
    case 'number': {
      const col = numberColumn(sort.name);
      return sql`isNull(${col}), ${col} ${dir}, group_value`;
    }
    case 'property': {
      const key = param(sort.key, 'String');
      const num = sql`toFloat64OrNull(group_properties[${key}])`;
      return sql`NOT mapContains(group_properties, ${key}), isNull(${num}), ${num} ${dir}, group_properties[${key}] ${dir}, group_value`;
    }
  }
}

/**
 * What the filters and the sort read. A cohort tests group_value only (its members), so it needs nothing more.
 */
export function orderAndFilterNeeds(r: ListRequest): UsageNeeds {
  const numbers = new Set<string>();
  const properties = new Set<string>();
  let seen = false;
  for (const c of [r.sort, ...r.filters]) {
    if (c.kind === 'number') numbers.add(c.name);
    else if (c.kind === 'seen') seen = true;
    else if (c.kind === 'property' && 'key' in c) properties.add(c.key);
    // a condition on the group value itself reads no property
    else if (c.kind === 'property' && c.cond.prop.kind === 'group') properties.add(c.cond.prop.key);
  }
  return { numbers: [...numbers], properties: [...properties], seen };
}

function filtered(ctx: BuildContext, r: ListRequest, extra: Sql[], needs?: UsageNeeds): Sql {
  const where = andAll([...r.filters.map((f) => filterSql(ctx, f)), ...extra]);
  return sql`SELECT * FROM (${groupsWithUsage(ctx.table, ctx.projectId, r.groupType, r.asOf, sql`1`, needs)}) WHERE ${where}`;
}

/**
 * The sorted, filtered list with the size of the whole filtered list in `total`, every column of every row (rows:
 * GroupUsageRow & {total}); `page` null reads all of it. `extra` holds predicates built elsewhere (cohorts).
 */
export function listQuery(ctx: BuildContext, r: ListRequest, extra: Sql[], page: { limit: number; offset: number } | null): Sql {
  const limit = page ? sql` LIMIT ${param(page.limit, 'UInt32')} OFFSET ${param(page.offset, 'UInt32')}` : sql``;
  return withClause(ctx, sql`SELECT *, count() OVER () AS total FROM (${filtered(ctx, r, extra)}) ORDER BY ${orderSql(r.sort, r.order)}${limit}`);
}

/**
 * One page of the sorted, filtered list as group values, in order, with the size of the whole filtered list in
 * `total` (rows: {group_value, total}). Only what the sort and the filters read is computed, for every group; the
 * page's other columns are read by pageRowsQuery for its groups alone.
 */
export function pageQuery(ctx: BuildContext, r: ListRequest, extra: Sql[], page: { limit: number; offset: number }): Sql {
  const needs = orderAndFilterNeeds(r);
  // the usage aggregates computed for the order come along, so the page's read need not merge them again
  const aggregates = aggregatesFor(needs.numbers).map((a) => sql`, ${ident(a, NUMERIC_COLUMNS)}`);
  return withClause(
    ctx,
    sql`SELECT group_value${join(aggregates, '')}, count() OVER () AS total FROM (${filtered(ctx, r, extra, needs)})
      ORDER BY ${orderSql(r.sort, r.order)} LIMIT ${param(page.limit, 'UInt32')} OFFSET ${param(page.offset, 'UInt32')}`,
  );
}

/** A row of pageQuery: the group value, the aggregates the order computed, the size of the filtered list. */
export type PageRow = { group_value: string; total: number | string } & Record<string, unknown>;

/** Every column of the page's groups (rows: GroupUsageRow, in no particular order), taking the aggregates its order computed. */
export function pageRowsQuery(ctx: BuildContext, r: ListRequest, page: readonly PageRow[]): Sql {
  const values = page.map((p) => p.group_value);
  const known: KnownUsage = { values, columns: {} };
  for (const a of aggregatesFor(orderAndFilterNeeds(r).numbers)) known.columns[a] = page.map((p) => Number(p[a] ?? 0));
  return groupsWithUsage(ctx.table, ctx.projectId, r.groupType, r.asOf, sql`group_value IN ${param(values, 'Array(String)')}`, undefined, known);
}

/** The size of the filtered list (rows: {n}): for a page past its end, which carries no `total`. */
export function countQuery(ctx: BuildContext, r: ListRequest, extra: Sql[]): Sql {
  return withClause(ctx, sql`SELECT count() AS n FROM (${filtered(ctx, r, extra, orderAndFilterNeeds(r))})`);
}

/** Groups with an event by a member of a user cohort (its predicate over event_groups rows of the type), as a test of a list row. */
export function withMembersIn(ctx: BuildContext, memberPredicate: Sql): Sql {
  return sql`group_value IN (SELECT group_value FROM ${trusted(ctx.table('event_groups'))}
    WHERE project_id = ${param(ctx.projectId, 'UInt32')} AND group_type = ${param(ctx.source.groupType ?? '', 'String')} AND (${memberPredicate}))`;
}

export type ListRow = GroupUsageRow & { total?: number | string };

export interface ListEntry {
  group_value: string;
  properties: Record<string, unknown>;
  first_seen: string | null;
  last_seen: string | null;
  metrics: Record<string, number | null>;
}

const orNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** A row as the JSON reply shows it: the properties asked for (all of them when none was named), every number. */
export function toEntry(row: ListRow, r: ListRequest): ListEntry {
  const all = currentProperties(row.group_properties, row.properties_json);
  let properties = all;
  if (r.namedProperties) {
    properties = {};
    for (const c of r.columns) if (c.kind === 'property' && Object.hasOwn(all, c.key)) properties[c.key] = all[c.key];
  }
  const metrics: Record<string, number | null> = {};
  for (const m of METRIC_COLUMNS) metrics[m] = orNull(row[m]);
  metrics[DAYS_SINCE_LAST_SEEN] = orNull(row[DAYS_SINCE_LAST_SEEN]);
  return { group_value: row.group_value, properties, first_seen: isoOrNull(Number(row.first_seen)), last_seen: isoOrNull(Number(row.last_seen)), metrics };
}

/** The CSV header: group_value, then the columns asked for. */
export const csvHeader = (r: ListRequest): string[] => ['group_value', ...r.columns.map(columnName)];

/** A row's CSV cells, in the header's order: properties as their text (lists and objects as JSON), times in ISO 8601. */
export function csvCells(row: ListRow, r: ListRequest): (string | number | null)[] {
  const props = currentProperties(row.group_properties, row.properties_json);
  return [
    row.group_value,
    ...r.columns.map((c) => {
      switch (c.kind) {
        case 'group_value':
          return row.group_value;
        case 'seen':
          return isoOrNull(Number(row[c.name]));
        case 'number':
          return orNull(row[c.name]);
        case 'property': {
          const v = props[c.key];
          return v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v);
        }
      }
    }),
  ];
}
