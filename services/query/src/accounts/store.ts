// Account lookup SQL: group types, search (prefix or any historical property value), one account's summary,
// users and activity stream. Every statement is scoped to one project and binds every value.
import { sql, param, trusted, join, queryRows, type ClickHouse, type Sql } from '@groupscope/clickhouse';

/** "Active in the last 6 months": an event attributed to the group, or a group identify, in that time. */
export const ACTIVE_MONTHS = 6;

export interface GroupTypeCount {
  group_type: string;
  groups: number;
}

/** Group types of a project: every type that has a group with activity or properties. */
export async function listGroupTypes(ch: ClickHouse, projectId: number): Promise<GroupTypeCount[]> {
  const rows = await queryRows<{ group_type: string; groups: number }>(
    ch,
    sql`SELECT group_type, uniqExact(group_value) AS groups FROM (
          SELECT group_type, group_value FROM ${trusted(ch.table('group_activity'))} WHERE project_id = ${param(projectId, 'UInt32')}
          UNION ALL
          SELECT group_type, group_value FROM ${trusted(ch.table('groups'))} WHERE project_id = ${param(projectId, 'UInt32')}
        ) GROUP BY group_type ORDER BY group_type`,
  );
  return rows.map((r) => ({ group_type: r.group_type, groups: Number(r.groups) }));
}

/** The group types a project has (cheap: reads only the low-cardinality group_type column). */
export async function knownGroupTypes(ch: ClickHouse, projectId: number): Promise<Set<string>> {
  const pid = param(projectId, 'UInt32');
  const rows = await queryRows<{ group_type: string }>(
    ch,
    sql`SELECT DISTINCT group_type FROM ${trusted(ch.table('group_activity'))} WHERE project_id = ${pid}
        UNION DISTINCT
        SELECT DISTINCT group_type FROM ${trusted(ch.table('groups'))} WHERE project_id = ${pid}`,
  );
  return new Set(rows.map((r) => r.group_type));
}

interface GroupRow {
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

/** Current properties: the writer's JSON copy keeps types (numbers, lists); the map is the fallback. */
export function currentProperties(map: Record<string, string>, json: string): Record<string, unknown> {
  if (json && json !== '{}') {
    try {
      const parsed = JSON.parse(json) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // fall back to the map
    }
  }
  return map;
}

const toSummary = (r: GroupRow): GroupSummary => ({
  group_type: r.group_type,
  group_value: r.group_value,
  properties: currentProperties(r.properties, r.properties_json),
  first_seen: Number(r.first_seen) || null,
  last_seen: Number(r.last_seen) || null,
  updated_at: Number(r.updated_at) || null,
});

/**
 * Groups with their activity span and current properties, one row per group: group_activity (events) and groups
 * (identifies) merged with UNION ALL + GROUP BY, so a group known to only one of them is still listed. `where`
 * restricts both sides (it may name group_type and group_value only).
 */
function groupsQuery(ch: ClickHouse, projectId: number, where: Sql): Sql {
  const pid = param(projectId, 'UInt32');
  return sql`SELECT group_type, group_value,
      toUnixTimestamp64Milli(minIf(first_seen, src = 0)) AS first_seen,
      toUnixTimestamp64Milli(maxIf(last_seen, src = 0)) AS last_seen,
      toUnixTimestamp64Milli(maxIf(updated_at, src = 1)) AS updated_at,
      argMaxIf(properties, ver, src = 1) AS properties,
      argMaxIf(properties_json, ver, src = 1) AS properties_json
    FROM (
      SELECT 0 AS src, group_type, group_value, first_seen, last_seen, toDateTime64(0, 3, 'UTC') AS updated_at,
             CAST(map(), 'Map(String, String)') AS properties, '{}' AS properties_json, toUInt64(0) AS ver
      FROM ${trusted(ch.table('group_activity'))} WHERE project_id = ${pid} AND ${where}
      UNION ALL
      SELECT 1 AS src, group_type, group_value, toDateTime64(0, 3, 'UTC'), toDateTime64(0, 3, 'UTC'), updated_at,
             properties, properties_json, kafka_offset + 1
      FROM ${trusted(ch.table('groups'))} WHERE project_id = ${pid} AND ${where}
    ) GROUP BY group_type, group_value`;
}

export type SearchFilter = { kind: 'all' } | { kind: 'prefix'; prefix: string } | { kind: 'property'; property: string; value: string };

export interface SearchOptions {
  groupType?: string;
  filter: SearchFilter;
  limit: number;
  offset: number;
  /** the clock, ms (tests pass a fixed one) */
  now: number;
}

/** Does this project have a group property of that name (ever)? */
export async function propertyExists(ch: ClickHouse, projectId: number, property: string, groupType?: string): Promise<boolean> {
  const typeCond = groupType === undefined ? sql`1` : sql`group_type = ${param(groupType, 'String')}`;
  const rows = await queryRows<{ n: number }>(
    ch,
    sql`SELECT count() AS n FROM (SELECT 1 FROM ${trusted(ch.table('group_property_history'))}
          WHERE project_id = ${param(projectId, 'UInt32')} AND ${typeCond} AND property = ${param(property, 'String')} LIMIT 1)`,
  );
  return Number(rows[0]?.n ?? 0) > 0;
}

export async function searchGroups(ch: ClickHouse, projectId: number, o: SearchOptions): Promise<GroupSummary[]> {
  const conds: Sql[] = [];
  if (o.groupType !== undefined) conds.push(sql`group_type = ${param(o.groupType, 'String')}`);
  if (o.filter.kind === 'prefix') {
    conds.push(sql`startsWith(lowerUTF8(group_value), lowerUTF8(${param(o.filter.prefix, 'String')}))`);
  } else if (o.filter.kind === 'property') {
    // every value the property ever held: the history keeps each one with its time
    conds.push(sql`(group_type, group_value) IN (
      SELECT group_type, group_value FROM ${trusted(ch.table('group_property_history'))}
      WHERE project_id = ${param(projectId, 'UInt32')}
        ${o.groupType === undefined ? sql`` : sql`AND group_type = ${param(o.groupType, 'String')}`}
        AND property = ${param(o.filter.property, 'String')} AND value = ${param(o.filter.value, 'String')} AND removed = 0)`);
  }
  const where = conds.length ? join(conds, ' AND ') : sql`1`;
  const rows = await queryRows<GroupRow>(
    ch,
    sql`SELECT * FROM (${groupsQuery(ch, projectId, where)})
        WHERE greatest(last_seen, updated_at) >= toUnixTimestamp64Milli(subtractMonths(fromUnixTimestamp64Milli(${param(o.now, 'Int64')}, 'UTC'), ${param(ACTIVE_MONTHS, 'UInt8')}))
        ORDER BY greatest(last_seen, updated_at) DESC, group_type, group_value
        LIMIT ${param(o.limit, 'UInt32')} OFFSET ${param(o.offset, 'UInt32')}`,
  );
  return rows.map(toSummary);
}

export interface AccountDetail {
  group: GroupSummary & { num_events: number; num_users: number };
  users: { user_id: string | null; device_id: string | null; last_seen: number }[];
}

export async function getAccount(ch: ClickHouse, projectId: number, groupType: string, groupValue: string, usersLimit: number): Promise<AccountDetail | undefined> {
  const key = sql`group_type = ${param(groupType, 'String')} AND group_value = ${param(groupValue, 'String')}`;
  const [row] = await queryRows<GroupRow>(ch, groupsQuery(ch, projectId, key));
  if (!row) return undefined;
  // one account is an index range of event_groups (sorted by project, type, value, time)
  const range = sql`FROM ${trusted(ch.table('event_groups'))} WHERE project_id = ${param(projectId, 'UInt32')} AND ${key}`;
  const [counts, users] = await Promise.all([
    queryRows<{ num_events: number; num_users: number }>(ch, sql`SELECT count() AS num_events, uniqExact(user_key) AS num_users ${range}`),
    queryRows<{ user_id: string; device_id: string; last_seen: number }>(
      ch,
      sql`SELECT any(user_id) AS user_id, any(device_id) AS device_id, toUnixTimestamp64Milli(max(event_time)) AS last_seen
          ${range} GROUP BY user_key ORDER BY last_seen DESC, user_key LIMIT ${param(usersLimit, 'UInt32')}`,
    ),
  ]);
  return {
    group: { ...toSummary(row), num_events: Number(counts[0]?.num_events ?? 0), num_users: Number(counts[0]?.num_users ?? 0) },
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
  event_properties: Record<string, string>;
  user_properties: Record<string, string>;
  groups: Record<string, string[]>;
  group_properties: Record<string, unknown>;
  context: Record<string, string>;
  revenue: number | null;
}

interface ActivityRow {
  uuid: string;
  event_type: string;
  time: number;
  user_id: string;
  device_id: string;
  insert_id: string;
  session_id: number;
  event_properties: Record<string, string>;
  user_properties: Record<string, string>;
  group_properties: Record<string, string>;
  groups: Record<string, string[]>;
  all_group_properties: string;
  context: Record<string, string>;
  revenue: number | null;
}

/** Properties of every group of the event as stamped at ingest: the writer's JSON, else this group's map. */
function stampedGroupProperties(r: ActivityRow, groupType: string, groupValue: string): Record<string, unknown> {
  if (r.all_group_properties && r.all_group_properties !== '{}') {
    try {
      const parsed = JSON.parse(r.all_group_properties) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // fall back to this group's own snapshot
    }
  }
  return { [groupType]: { [groupValue]: r.group_properties } };
}

/** The account's events, newest (latest) or oldest (earliest) first: an index range read in order. */
export async function accountActivity(
  ch: ClickHouse,
  projectId: number,
  groupType: string,
  groupValue: string,
  o: { limit: number; offset: number; direction: 'latest' | 'earliest' },
): Promise<ActivityEvent[]> {
  const order = trusted(o.direction === 'latest' ? 'DESC' : 'ASC');
  const rows = await queryRows<ActivityRow>(
    ch,
    sql`SELECT toString(uuid) AS uuid, event_type, toUnixTimestamp64Milli(event_time) AS time, user_id, device_id, insert_id, session_id,
               event_properties, user_properties, group_properties, groups, all_group_properties, context, revenue
        FROM ${trusted(ch.table('event_groups'))}
        WHERE project_id = ${param(projectId, 'UInt32')} AND group_type = ${param(groupType, 'String')} AND group_value = ${param(groupValue, 'String')}
        ORDER BY event_time ${order}, uuid ${order}
        LIMIT ${param(o.limit, 'UInt32')} OFFSET ${param(o.offset, 'UInt64')}`,
  );
  return rows.map((r) => ({
    uuid: r.uuid,
    event_type: r.event_type,
    time: new Date(Number(r.time)).toISOString(),
    user_id: r.user_id || null,
    device_id: r.device_id || null,
    insert_id: r.insert_id || null,
    session_id: Number(r.session_id),
    event_properties: r.event_properties,
    user_properties: r.user_properties,
    groups: r.groups,
    group_properties: stampedGroupProperties(r, groupType, groupValue),
    context: r.context,
    revenue: r.revenue,
  }));
}
