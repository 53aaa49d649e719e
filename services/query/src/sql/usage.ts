// Usage metrics of groups, read from group_daily_users (per group, UTC day and user: a hash of the user and their
// events): active users (distinct user hashes, exact) over 1, 7 and 30 days and events over 7 and 30 days, each
// beside the same metric over the period before and the change between the two in %. Windows are whole UTC days
// ending with `asOf` (inclusive). Shared by the account list, the account page's cards and health scores, so a
// number means the same everywhere.
import { sql, param, trusted, join, type Sql } from '@groupscope/clickhouse';
import type { TableRef } from './executor';
import { groupRowsOfKeys, groupRowsQuery } from './groups';

export const USAGE_METRICS = {
  active_users_1d: { kind: 'users', days: 1 },
  active_users_7d: { kind: 'users', days: 7 },
  active_users_30d: { kind: 'users', days: 30 },
  events_7d: { kind: 'events', days: 7 },
  events_30d: { kind: 'events', days: 30 },
} as const;
export type UsageMetric = keyof typeof USAGE_METRICS;
export const USAGE_METRIC_NAMES = Object.keys(USAGE_METRICS) as UsageMetric[];

/** Every number a usage row holds: each metric, its previous period (`_prev`) and the change in % (`_change`). */
export const METRIC_COLUMNS = USAGE_METRIC_NAMES.flatMap((m) => [m, `${m}_prev`, `${m}_change`] as const);
export type MetricColumn = (typeof METRIC_COLUMNS)[number];
/** Whole UTC days from the group's last event to the end of `asOf` (0 when active that day; null when never active). */
export const DAYS_SINCE_LAST_SEEN = 'days_since_last_seen';
/** The numbers a condition, a sort or a health-score component may name. */
export const NUMERIC_COLUMNS: readonly string[] = [...METRIC_COLUMNS, DAYS_SINCE_LAST_SEEN];

/** How far back a usage query reads: the longest window and the period before it. */
export const LOOKBACK_DAYS = 2 * Math.max(...USAGE_METRIC_NAMES.map((m) => USAGE_METRICS[m].days));

const asOfDate = (asOf: string) => sql`toDate(${param(asOf, 'String')})`;

/** The days of a window: `from` days back (exclusive) to `to` days back (inclusive) from asOf. */
function within(d: Sql, from: number, to: number): Sql {
  const upper = to === 0 ? sql`day <= ${d}` : sql`day <= subtractDays(${d}, ${trusted(String(to))})`;
  return sql`day > subtractDays(${d}, ${trusted(String(from))}) AND ${upper}`;
}

/** An aggregate a usage row can hold: a metric over its window, or over the period before it (`_prev`). */
export type UsageAggregate = UsageMetric | `${UsageMetric}_prev`;
const ALL_AGGREGATES: readonly UsageAggregate[] = USAGE_METRIC_NAMES.flatMap((m) => [m, `${m}_prev` as const]);

/**
 * Aggregates already computed for some groups (by an earlier query of the same request): `columns[a][i]` is
 * aggregate `a` of group `values[i]`. A usage query takes them instead of merging the same states again.
 */
export interface KnownUsage {
  values: readonly string[];
  columns: Partial<Record<UsageAggregate, readonly number[]>>;
}

/**
 * Per group of the type with usage in the lookback (rows: group_value and each aggregate of `aggregates`, all of them
 * by default). Only the days the aggregates cover are read: a 30-day metric alone reads half of what it and its
 * previous period read. An aggregate in `known` is taken from it (every group read must be in known.values).
 */
export function usageQuery(
  t: TableRef,
  projectId: number,
  groupType: string,
  asOf: string,
  where: Sql = sql`1`,
  aggregates: readonly UsageAggregate[] = ALL_AGGREGATES,
  known?: KnownUsage,
): Sql {
  const d = asOfDate(asOf);
  const values = known ? param(known.values, 'Array(String)') : undefined;
  const windowOf = (a: UsageAggregate) => {
    const prev = a.endsWith('_prev');
    const { kind, days } = USAGE_METRICS[(prev ? a.slice(0, -'_prev'.length) : a) as UsageMetric];
    return { kind, days, prev, lookback: prev ? 2 * days : days };
  };
  // known aggregates count too: a group whose only usage they cover still needs its row
  const lookback = Math.max(1, ...aggregates.map((a) => windowOf(a).lookback));
  const columns = aggregates.map((a) => {
    const given = known?.columns[a];
    if (given && values) return sql`any(transform(group_value, ${values}, ${param(given, 'Array(UInt64)')}, toUInt64(0))) AS ${trusted(a)}`;
    const { kind, days, prev } = windowOf(a);
    const cond = prev ? within(d, 2 * days, days) : within(d, days, 0);
    return sql`${kind === 'users' ? sql`uniqExactIf(user_hash, ${cond})` : sql`sumIf(events, ${cond})`} AS ${trusted(a)}`;
  });
  return sql`SELECT group_value${columns.length > 0 ? sql`, ${join(columns, ', ')}` : sql``}
    FROM ${trusted(t('group_daily_users'))}
    WHERE project_id = ${param(projectId, 'UInt32')} AND group_type = ${param(groupType, 'String')}
      AND ${within(d, lookback, 0)} AND ${where}
    GROUP BY group_value`;
}

/** The change from `prev` to `cur` in %, one decimal; NULL when the previous period had nothing. */
const change = (cur: Sql, prev: Sql) => sql`if(${prev} = 0, NULL, round((toFloat64(${cur}) - ${prev}) * 100 / ${prev}, 1))`;

/**
 * What a reader of groupsWithUsage's rows needs, when not everything: ClickHouse then reads only that (the account
 * list sorts and filters 100k groups on one metric, then reads every column for the page's groups only).
 */
export interface UsageNeeds {
  /** number columns read (of NUMERIC_COLUMNS); others are absent from the rows */
  numbers: readonly string[];
  /**
   * the current properties read: 'all' (group_properties, properties_json, group_properties_json_keys), or only
   * these keys (group_properties and group_properties_json_keys hold only them; none when empty)
   */
  properties: 'all' | readonly string[];
  /** whether first_seen and last_seen are read */
  seen: boolean;
}

/** The aggregates the number columns `numbers` are computed from (a `_change` needs the metric and its previous period). */
export function aggregatesFor(numbers: readonly string[]): UsageAggregate[] {
  const out = new Set<UsageAggregate>();
  for (const n of numbers) {
    const base = n.replace(/_(prev|change)$/, '') as UsageMetric;
    if (!Object.hasOwn(USAGE_METRICS, base)) continue;
    if (n === base || n.endsWith('_change')) out.add(base);
    if (n.endsWith('_prev') || n.endsWith('_change')) out.add(`${base}_prev`);
  }
  return ALL_AGGREGATES.filter((a) => out.has(a));
}

/** Every group of the type, one row each: group_value, and first_seen and last_seen (ms, 0 when never) when `seen`. */
function groupValuesQuery(t: TableRef, projectId: number, groupType: string, where: Sql, seen: boolean): Sql {
  const pid = param(projectId, 'UInt32');
  const ofType = sql`project_id = ${pid} AND group_type = ${param(groupType, 'String')} AND ${where}`;
  if (!seen) {
    return sql`SELECT group_value FROM ${trusted(t('group_activity'))} WHERE ${ofType}
      UNION DISTINCT SELECT group_value FROM ${trusted(t('groups'))} WHERE ${ofType}`;
  }
  // as groupsQuery: 0 for a group known only by its properties
  return sql`SELECT group_value, toUnixTimestamp64Milli(minIf(first_seen, src = 0)) AS first_seen, toUnixTimestamp64Milli(maxIf(last_seen, src = 0)) AS last_seen
    FROM (
      SELECT 0 AS src, group_value, first_seen, last_seen FROM ${trusted(t('group_activity'))} WHERE ${ofType}
      UNION ALL
      SELECT 1 AS src, group_value, toDateTime64(0, 3, 'UTC'), toDateTime64(0, 3, 'UTC') FROM ${trusted(t('groups'))} WHERE ${ofType}
    ) GROUP BY group_value`;
}

/**
 * Every group of the type (with events or properties), one row each: group_value, its current properties as
 * `group_properties` (a Map, as on an event_groups row, so the charts' property conditions apply to it unchanged),
 * properties_json, the keys holding JSON text, first_seen and last_seen (ms, 0 when never), days_since_last_seen and
 * every metric column (0 and NULL changes for groups without usage); with `needs`, only what it names and the
 * aggregates those are computed from. `known`: aggregates already computed for the groups `where` selects. `where`
 * may name group_value only.
 */
export function groupsWithUsage(t: TableRef, projectId: number, groupType: string, asOf: string, where: Sql = sql`1`, needs?: UsageNeeds, known?: KnownUsage): Sql {
  const aggregates = aggregatesFor(needs ? needs.numbers : NUMERIC_COLUMNS);
  // the aggregates behind the columns asked for are columns too (a page's order hands them to the page's read)
  const numbers = new Set([...(needs ? needs.numbers : NUMERIC_COLUMNS), ...aggregates]);
  const properties = needs ? needs.properties : 'all';
  const seen = needs ? needs.seen || numbers.has(DAYS_SINCE_LAST_SEEN) : true;
  const columns: Sql[] = [sql`g.group_value AS group_value`];
  if (properties === 'all') columns.push(sql`g.properties_json AS properties_json`);
  if (properties === 'all' || properties.length > 0) columns.push(sql`g.group_properties AS group_properties, g.group_properties_json_keys AS group_properties_json_keys`);
  if (seen) columns.push(sql`g.first_seen AS first_seen, g.last_seen AS last_seen`);
  if (numbers.has(DAYS_SINCE_LAST_SEEN)) {
    columns.push(sql`if(g.last_seen = 0, NULL, toUInt32(greatest(0, dateDiff('day', toDate(fromUnixTimestamp64Milli(g.last_seen, 'UTC')), ${asOfDate(asOf)})))) AS ${trusted(DAYS_SINCE_LAST_SEEN)}`);
  }
  for (const m of USAGE_METRIC_NAMES) {
    const cur = trusted(`u.${m}`);
    const prev = trusted(`u.${m}_prev`);
    if (numbers.has(m)) columns.push(sql`${cur} AS ${trusted(m)}`);
    if (numbers.has(`${m}_prev`)) columns.push(sql`${prev} AS ${trusted(`${m}_prev`)}`);
    if (numbers.has(`${m}_change`)) columns.push(sql`${change(sql`${cur}`, sql`${prev}`)} AS ${trusted(`${m}_change`)}`);
  }
  const g =
    properties === 'all'
      ? groupRowsQuery(t, projectId, groupType, where)
      : properties.length > 0
        ? groupRowsOfKeys(t, projectId, groupType, where, properties)
        : groupValuesQuery(t, projectId, groupType, where, seen);
  const usage = aggregates.length > 0 ? sql` LEFT JOIN (${usageQuery(t, projectId, groupType, asOf, where, aggregates, known)}) AS u ON u.group_value = g.group_value` : sql``;
  return sql`SELECT ${join(columns, ', ')} FROM (${g}) AS g${usage}`;
}

/** One row of groupsWithUsage as ClickHouse returns it. */
export interface GroupUsageRow {
  group_value: string;
  group_properties: Record<string, string>;
  properties_json: string;
  first_seen: number | string;
  last_seen: number | string;
  [column: string]: unknown;
}

/** The numbers of a row: every metric column and days_since_last_seen (null where ClickHouse gave NULL). */
export function usageNumbers(r: Record<string, unknown>): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const c of NUMERIC_COLUMNS) {
    const v = r[c];
    out[c] = v === null || v === undefined ? null : Number(v);
  }
  return out;
}

/** One group's events and active users per UTC day over [from, to] (rows: d 'YYYY-MM-DD', events, users); days without usage are absent. */
export function dailyUsageQuery(t: TableRef, projectId: number, groupType: string, groupValue: string, from: string, to: string): Sql {
  return sql`SELECT toString(day) AS d, sum(events) AS events, uniqExact(user_hash) AS users
    FROM ${trusted(t('group_daily_users'))}
    WHERE project_id = ${param(projectId, 'UInt32')} AND group_type = ${param(groupType, 'String')} AND group_value = ${param(groupValue, 'String')}
      AND day >= toDate(${param(from, 'String')}) AND day <= toDate(${param(to, 'String')})
    GROUP BY day ORDER BY day`;
}

/** The last complete UTC day before `now`: the default end of every usage window. */
export function lastCompleteDay(now: number): string {
  return new Date(Math.floor(now / 86_400_000) * 86_400_000 - 86_400_000).toISOString().slice(0, 10);
}
