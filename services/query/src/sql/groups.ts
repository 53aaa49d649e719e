// The groups of a project, one row each: activity span (group_activity: events) and current properties (groups:
// identifies) merged, so a group known to only one of them is still listed. Read by the account pages and search,
// the account list and health scores.
import { sql, param, trusted, type Sql } from '@groupscope/clickhouse';
import type { TableRef } from './executor';
import { newContext, type BuildContext } from './source';

/**
 * Groups with their activity span and current properties (rows: group_type, group_value, first_seen, last_seen,
 * updated_at as ms, 0 when unknown; properties, properties_json): group_activity and groups merged with UNION ALL +
 * GROUP BY. `where` restricts both sides (it may name group_type and group_value only).
 */
export function groupsQuery(t: TableRef, projectId: number, where: Sql): Sql {
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
      FROM ${trusted(t('group_activity'))} WHERE project_id = ${pid} AND ${where}
      UNION ALL
      SELECT 1 AS src, group_type, group_value, toDateTime64(0, 3, 'UTC'), toDateTime64(0, 3, 'UTC'), updated_at,
             properties, properties_json, kafka_offset + 1
      FROM ${trusted(t('groups'))} WHERE project_id = ${pid} AND ${where}
    ) GROUP BY group_type, group_value`;
}

/**
 * Every group of a type as a row the charts' property conditions can test like an event_groups row of that type
 * (rows: group_value, group_properties: the current properties, group_properties_json_keys: those holding a JSON
 * list, properties_json, first_seen, last_seen). `where` may name group_value only.
 */
export function groupRowsQuery(t: TableRef, projectId: number, groupType: string, where: Sql = sql`1`): Sql {
  return rowsOfType(t, projectId, groupType, where, sql`p.properties`, sql`p.properties_json`, sql`mapKeys(p.properties)`);
}

/**
 * groupRowsQuery narrowed to the properties `keys`: group_properties and group_properties_json_keys hold only those,
 * properties_json is absent. What a sort or a filter on a few properties of every group reads: the whole maps of
 * 100k groups cost more than the rest of such a query.
 */
export function groupRowsOfKeys(t: TableRef, projectId: number, groupType: string, where: Sql, keys: readonly string[]): Sql {
  const names = param([...keys], 'Array(String)');
  return rowsOfType(t, projectId, groupType, where, sql`mapFilter((__k, __v) -> has(${names}, __k), p.properties)`, undefined, sql`${names}`);
}

/**
 * The groups of a type: their activity span joined with their newest `groups` row (FINAL: the table keeps the row
 * of the highest offset per group, and a group's changes all come from one partition), so a group known to only one
 * side is still a row (0 times, or an empty map and '' for properties_json). Both sides are one row per group
 * before the join: an argMax over whole maps cost three times as much at 100k groups. The JSON-list keys are those
 * of `keys` whose text starts with '[' and whose JSON value is not a string: the only JSON text a condition reads
 * differently (sql/conditions.ts); the cheap test on the text spares parsing the JSON of every other group.
 */
function rowsOfType(t: TableRef, projectId: number, groupType: string, where: Sql, properties: Sql, propertiesJson: Sql | undefined, keys: Sql): Sql {
  const ofType = sql`project_id = ${param(projectId, 'UInt32')} AND group_type = ${param(groupType, 'String')} AND ${where}`;
  return sql`SELECT group_value, ${properties} AS group_properties${propertiesJson ? sql`, ${propertiesJson} AS properties_json` : sql``},
      arrayFilter(__k -> startsWith(p.properties[__k], '[') AND JSONType(p.properties_json, __k) NOT IN ('String', 'Null'), ${keys}) AS group_properties_json_keys,
      toUnixTimestamp64Milli(a.first_seen) AS first_seen, toUnixTimestamp64Milli(a.last_seen) AS last_seen
    FROM (SELECT group_value, min(first_seen) AS first_seen, max(last_seen) AS last_seen FROM ${trusted(t('group_activity'))} WHERE ${ofType} GROUP BY group_value) AS a
    FULL OUTER JOIN (SELECT group_value, properties, properties_json FROM ${trusted(t('groups'))} FINAL WHERE ${ofType}) AS p USING (group_value)`;
}

/** The context in which a property condition (sql/conditions.ts) reads a row of groupRowsQuery: the group's own row. */
export function groupRowContext(t: TableRef, projectId: number, groupType: string): BuildContext {
  // the range is never read: these conditions test properties, not event times
  return newContext({ projectId, table: t, range: { startDay: '', endDay: '', tz: 'UTC', fromMs: 0, toMs: 0 }, gpMode: 'event', source: { table: 'event_groups', groupType } });
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
