// Account lookup SQL: group types, search (prefix or any historical property value), one account's summary,
// users and activity stream, and the mapping of their rows to replies. Every statement is scoped to one project
// and binds every value; the feature's routes run them (sql/executor.ts).
import { sql, param, trusted, join, type Sql } from '@groupscope/clickhouse';
import { typedProperties } from '@groupscope/schema';
import type { TableRef } from '../sql/executor';
import { currentProperties, groupsQuery } from '../sql/groups';

/**
 * "Active in the last 6 months": an event attributed to the group in that time. A group identify is not activity
 * (and `/groupidentify` carries no time of its own).
 */
export const ACTIVE_MONTHS = 6;

export interface GroupTypeCount {
  group_type: string;
  groups: number;
}

/** Group types of a project: every type that has a group with activity or properties, with its number of groups. */
export function groupTypesQuery(t: TableRef, projectId: number): Sql {
  return sql`SELECT group_type, uniqExact(group_value) AS groups FROM (
      SELECT group_type, group_value FROM ${trusted(t('group_activity'))} WHERE project_id = ${param(projectId, 'UInt32')}
      UNION ALL
      SELECT group_type, group_value FROM ${trusted(t('groups'))} WHERE project_id = ${param(projectId, 'UInt32')}
    ) GROUP BY group_type ORDER BY group_type`;
}

export const toGroupTypeCount = (r: { group_type: string; groups: number }): GroupTypeCount => ({ group_type: r.group_type, groups: Number(r.groups) });

export interface GroupRow {
  group_type: string;
  group_value: string;
  first_seen: number;
  last_seen: number;
  updated_at: number;
  properties: Record<string, string>;
  properties_json: string;
}

export interface GroupSummary {
  group_type: string;
  group_value: string;
  properties: Record<string, unknown>;
  first_seen: number | null;
  last_seen: number | null;
  updated_at: number | null;
}

/** A search match: distinct users of the group's events in the activity window. */
export interface SearchMatchRow extends GroupRow {
  num_users: number;
}

export const toSummary = (r: GroupRow): GroupSummary => ({
  group_type: r.group_type,
  group_value: r.group_value,
  properties: currentProperties(r.properties, r.properties_json),
  first_seen: Number(r.first_seen) || null,
  last_seen: Number(r.last_seen) || null,
  updated_at: Number(r.updated_at) || null,
});

export type SearchFilter = { kind: 'all' } | { kind: 'prefix'; prefix: string } | { kind: 'property'; property: string; value: string };

export interface SearchOptions {
  groupType?: string;
  filter: SearchFilter;
  limit: number;
  offset: number;
  /** the clock, ms (tests pass a fixed one) */
  now: number;
}

/** A row when this project has (ever had) a group property of that name. */
export function propertyExistsQuery(t: TableRef, projectId: number, property: string, groupType?: string): Sql {
  const typeCond = groupType === undefined ? sql`1` : sql`group_type = ${param(groupType, 'String')}`;
  return sql`SELECT 1 FROM ${trusted(t('group_property_history'))}
    WHERE project_id = ${param(projectId, 'UInt32')} AND ${typeCond} AND property = ${param(property, 'String')} LIMIT 1`;
}

/**
 * Groups with an event in the last ACTIVE_MONTHS, most recently active first, each with the number of distinct users
 * of its events in that window (rows: SearchMatchRow). The users are counted for the page's groups only, each an
 * index range of event_groups.
 */
export function searchQuery(t: TableRef, projectId: number, o: SearchOptions): Sql {
  const conds: Sql[] = [];
  if (o.groupType !== undefined) conds.push(sql`group_type = ${param(o.groupType, 'String')}`);
  if (o.filter.kind === 'prefix') {
    conds.push(sql`startsWith(lowerUTF8(group_value), lowerUTF8(${param(o.filter.prefix, 'String')}))`);
  } else if (o.filter.kind === 'property') {
    // every value the property ever held: the history keeps each one with its time
    conds.push(sql`(group_type, group_value) IN (
      SELECT group_type, group_value FROM ${trusted(t('group_property_history'))}
      WHERE project_id = ${param(projectId, 'UInt32')}
        ${o.groupType === undefined ? sql`` : sql`AND group_type = ${param(o.groupType, 'String')}`}
        AND property = ${param(o.filter.property, 'String')} AND value = ${param(o.filter.value, 'String')} AND removed = 0)`);
  }
  const where = conds.length ? join(conds, ' AND ') : sql`1`;
  const since = () => sql`subtractMonths(fromUnixTimestamp64Milli(${param(o.now, 'Int64')}, 'UTC'), ${param(ACTIVE_MONTHS, 'UInt8')})`;
  const order = sql`ORDER BY last_seen DESC, group_type, group_value`;
  const page = () => sql`SELECT * FROM (${groupsQuery(t, projectId, where)})
    WHERE last_seen >= toUnixTimestamp64Milli(${since()})
    ${order} LIMIT ${param(o.limit, 'UInt32')} OFFSET ${param(o.offset, 'UInt32')}`;
  const users = sql`SELECT group_type, group_value, uniqExact(user_key) AS num_users FROM ${trusted(t('event_groups'))}
    WHERE project_id = ${param(projectId, 'UInt32')} AND event_time >= ${since()}
      AND (group_type, group_value) IN (SELECT group_type, group_value FROM (${page()}))
    GROUP BY group_type, group_value`;
  return sql`SELECT m.*, ifNull(n.num_users, 0) AS num_users FROM (${page()}) AS m LEFT JOIN (${users}) AS n USING (group_type, group_value) ${order}`;
}

export interface AccountDetail {
  group: GroupSummary & { num_events: number; num_users: number };
  users: { user_id: string | null; device_id: string | null; last_seen: number }[];
}

/** One account's page: its summary (rows: GroupRow), its counts and its most recent users. */
export function accountQueries(t: TableRef, projectId: number, groupType: string, groupValue: string, usersLimit: number): { group: Sql; counts: Sql; users: Sql } {
  const key = sql`group_type = ${param(groupType, 'String')} AND group_value = ${param(groupValue, 'String')}`;
  // one account is an index range of event_groups (sorted by project, type, value, time)
  const range = sql`FROM ${trusted(t('event_groups'))} WHERE project_id = ${param(projectId, 'UInt32')} AND ${key}`;
  return {
    group: groupsQuery(t, projectId, key),
    counts: sql`SELECT count() AS num_events, uniqExact(user_key) AS num_users ${range}`,
    users: sql`SELECT any(user_id) AS user_id, any(device_id) AS device_id, toUnixTimestamp64Milli(max(event_time)) AS last_seen
      ${range} GROUP BY user_key ORDER BY last_seen DESC, user_key LIMIT ${param(usersLimit, 'UInt32')}`,
  };
}

export function toAccount(
  group: GroupRow,
  counts: { num_events: number; num_users: number } | undefined,
  users: { user_id: string; device_id: string; last_seen: number }[],
): AccountDetail {
  return {
    group: { ...toSummary(group), num_events: Number(counts?.num_events ?? 0), num_users: Number(counts?.num_users ?? 0) },
    users: users.map((u) => ({ user_id: u.user_id || null, device_id: u.device_id || null, last_seen: Number(u.last_seen) })),
  };
}

export interface ActivityEvent {
  uuid: string;
  event_type: string;
  time: string;
  user_id: string | null;
  device_id: string | null;
  insert_id: string | null;
  session_id: number;
  event_properties: Record<string, unknown>;
  user_properties: Record<string, unknown>;
  groups: Record<string, string[]>;
  group_properties: Record<string, unknown>;
  context: Record<string, string>;
  revenue: number | null;
}

export interface ActivityRow {
  uuid: string;
  event_type: string;
  time: number;
  user_id: string;
  device_id: string;
  insert_id: string;
  session_id: number;
  event_properties: Record<string, string>;
  event_properties_json_keys: string[];
  user_properties: Record<string, string>;
  user_properties_json_keys: string[];
  group_properties: Record<string, string>;
  group_properties_json_keys: string[];
  groups: Record<string, string[]>;
  all_group_properties: string;
  context: Record<string, string>;
  revenue: number | null;
}

/** Properties of every group of the event as stamped at ingest: the writer's JSON, else this group's bag. */
function stampedGroupProperties(r: ActivityRow, groupType: string, groupValue: string): Record<string, unknown> {
  if (r.all_group_properties && r.all_group_properties !== '{}') {
    try {
      const parsed = JSON.parse(r.all_group_properties) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // fall back to this group's own snapshot
    }
  }
  return { [groupType]: { [groupValue]: typedProperties(r.group_properties, r.group_properties_json_keys) } };
}

/** The account's events, newest (latest) or oldest (earliest) first: an index range read in order. */
export function activityQuery(
  t: TableRef,
  projectId: number,
  groupType: string,
  groupValue: string,
  o: { limit: number; offset: number; direction: 'latest' | 'earliest'; after?: { time: number; uuid: string } },
): Sql {
  const latest = o.direction === 'latest';
  const order = trusted(latest ? 'DESC' : 'ASC');
  // keyset: only events after the cursor in this order (the time bound alone is a range of the table's key); `uuid`
  // here is the text alias the rows are ordered by
  let after = sql``;
  if (o.after) {
    const t = sql`fromUnixTimestamp64Milli(${param(o.after.time, 'Int64')}, 'UTC')`;
    const u = param(o.after.uuid, 'String');
    after = latest ? sql`AND event_time <= ${t} AND (event_time, uuid) < (${t}, ${u})` : sql`AND event_time >= ${t} AND (event_time, uuid) > (${t}, ${u})`;
  }
  return sql`SELECT toString(uuid) AS uuid, event_type, toUnixTimestamp64Milli(event_time) AS time, user_id, device_id, insert_id, session_id,
           event_properties, event_properties_json_keys, user_properties, user_properties_json_keys, group_properties,
           group_properties_json_keys, groups, all_group_properties, context, revenue
    FROM ${trusted(t('event_groups'))}
    WHERE project_id = ${param(projectId, 'UInt32')} AND group_type = ${param(groupType, 'String')} AND group_value = ${param(groupValue, 'String')} ${after}
    ORDER BY event_time ${order}, uuid ${order}
    LIMIT ${param(o.limit, 'UInt32')} OFFSET ${param(o.offset, 'UInt64')}`;
}

export function toActivity(r: ActivityRow, groupType: string, groupValue: string): ActivityEvent {
  return {
    uuid: r.uuid,
    event_type: r.event_type,
    time: new Date(Number(r.time)).toISOString(),
    user_id: r.user_id || null,
    device_id: r.device_id || null,
    insert_id: r.insert_id || null,
    session_id: Number(r.session_id),
    event_properties: typedProperties(r.event_properties, r.event_properties_json_keys),
    user_properties: typedProperties(r.user_properties, r.user_properties_json_keys),
    groups: r.groups,
    group_properties: stampedGroupProperties(r, groupType, groupValue),
    context: r.context,
    revenue: r.revenue,
  };
}

export interface PropertySource {
  /** who set the current value: api, dynamic_property, salesforce ('' for values written before sources were kept) */
  source: string;
  set_at: number;
}

/**
 * Who set each property of one group last, and when (rows: {property, source, set_at, removed}). One group's
 * changes share a Kafka partition, so the highest offset is the newest change.
 */
export function propertySourcesQuery(t: TableRef, projectId: number, groupType: string, groupValue: string): Sql {
  return sql`SELECT property, argMax(source, kafka_offset) AS source, toUnixTimestamp64Milli(argMax(event_time, kafka_offset)) AS set_at,
      argMax(removed, kafka_offset) AS removed
    FROM ${trusted(t('group_property_history'))}
    WHERE project_id = ${param(projectId, 'UInt32')} AND group_type = ${param(groupType, 'String')} AND group_value = ${param(groupValue, 'String')}
    GROUP BY property`;
}

/** The sources of the properties a group has now (removed ones left out). */
export function toPropertySources(rows: { property: string; source: string; set_at: number | string; removed: number | string }[]): Record<string, PropertySource> {
  const out: Record<string, PropertySource> = {};
  for (const r of rows) if (Number(r.removed) === 0) out[r.property] = { source: r.source, set_at: Number(r.set_at) };
  return out;
}

export interface HistoryRow {
  property: string;
  value: string;
  removed: number | string;
  time: number | string;
  source: string;
}

/** One group's property history, newest change first, optionally of one property (rows: HistoryRow). */
export function historyQuery(t: TableRef, projectId: number, groupType: string, groupValue: string, o: { property?: string; limit: number; offset: number }): Sql {
  const prop = o.property === undefined ? sql`` : sql`AND property = ${param(o.property, 'String')}`;
  return sql`SELECT property, value, removed, toUnixTimestamp64Milli(event_time) AS time, source
    FROM ${trusted(t('group_property_history'))}
    WHERE project_id = ${param(projectId, 'UInt32')} AND group_type = ${param(groupType, 'String')} AND group_value = ${param(groupValue, 'String')} ${prop}
    ORDER BY kafka_offset DESC, property
    LIMIT ${param(o.limit, 'UInt32')} OFFSET ${param(o.offset, 'UInt64')}`;
}

export const toHistory = (r: HistoryRow) => ({
  property: r.property,
  value: Number(r.removed) === 1 ? null : r.value,
  removed: Number(r.removed) === 1,
  time: new Date(Number(r.time)).toISOString(),
  source: r.source || null,
});
