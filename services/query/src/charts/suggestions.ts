// What the chart pickers suggest (GET /api/2/events/list, /api/2/properties, /api/2/properties/values): event types,
// property names as the chart API takes them, and the most frequent values of a property. Bounded: event data of the
// last CATALOG_DAYS days only, properties and values from a sample of at most SAMPLE_ROWS rows, group properties
// from the groups' current properties; every statement filtered by the project.
import { sql, param, join, trusted, type Sql } from '@groupscope/clickhouse';
import type { Catalog } from '../domain/catalog';
import { isAnyEvent, type PropRef } from '../domain/properties';
import { chDateTime } from '../domain/time';
import { badParam } from '../http/errors';
import { enumParam, intParam, single, type Query } from '../http/params';
import type { Db, TableRef } from '../sql/executor';
import { currentGroupValue, propertyValue, valueElements } from '../sql/conditions';
import { NO_RANGE, newContext } from '../sql/source';
import { BUILTIN_CONTEXT, eventProp, userProp } from './request';

/** How far back event data is read. */
export const CATALOG_DAYS = 30;
/** The most rows a property scan reads (a sample: counts are within it). */
export const SAMPLE_ROWS = 1_000_000;
const MAX_EVENT_TYPES = 2000;
const MAX_PROPERTIES = 1000;
const MAX_NAME = 1024;

export const PROPERTY_TYPES = ['event', 'user', 'group'] as const;
export type PropertyType = (typeof PROPERTY_TYPES)[number];

const sinceParam = (now: number) => param(chDateTime(now - CATALOG_DAYS * 86_400_000), "DateTime64(3, 'UTC')");

/** Rows of `events` in the window (and of one event type, unless it is `_active` / `_all`). */
function eventsWhere(projectId: number, now: number, eventType?: string): Sql {
  const parts = [sql`project_id = ${param(projectId, 'UInt32')}`, sql`event_time >= ${sinceParam(now)}`];
  if (eventType !== undefined && !isAnyEvent(eventType)) parts.push(sql`event_type = ${param(eventType, 'String')}`);
  return join(parts, ' AND ');
}

/** Event types with their number of events in the window, most frequent first (rows: name, totals). */
export function eventTypesQuery(t: TableRef, projectId: number, now: number): Sql {
  return sql`SELECT event_type AS name, count() AS totals FROM ${trusted(t('events'))}
    WHERE ${eventsWhere(projectId, now)}
    GROUP BY event_type ORDER BY totals DESC, name LIMIT ${param(MAX_EVENT_TYPES, 'UInt32')}`;
}

/**
 * Property names with the number of rows of the sample that have them (rows: name, count): event properties (and
 * `$revenue`), user properties (`gp:` custom ones, built-in ones bare), or a group type's current properties.
 */
export function propertyNamesQuery(t: TableRef, projectId: number, o: { type: PropertyType; now: number; eventType?: string; groupType?: string }): Sql {
  let names: Sql;
  let sample: Sql;
  if (o.type === 'group') {
    sample = sql`SELECT properties FROM ${trusted(t('groups'))} FINAL
      WHERE project_id = ${param(projectId, 'UInt32')} AND group_type = ${param(o.groupType ?? '', 'String')}`;
    names = sql`mapKeys(properties)`;
  } else if (o.type === 'event') {
    sample = sql`SELECT event_properties, revenue FROM ${trusted(t('events'))} WHERE ${eventsWhere(projectId, o.now, o.eventType)}`;
    names = sql`arrayConcat(mapKeys(event_properties), if(isNotNull(revenue), ['$revenue'], []))`;
  } else {
    sample = sql`SELECT user_properties, context, user_id, device_id FROM ${trusted(t('events'))} WHERE ${eventsWhere(projectId, o.now, o.eventType)}`;
    names = sql`arrayConcat(
      arrayMap(k -> concat('gp:', k), mapKeys(user_properties)),
      arrayFilter(k -> has(${param([...BUILTIN_CONTEXT], 'Array(String)')}, k), mapKeys(context)),
      if(user_id != '', ['user_id'], []), if(device_id != '', ['device_id'], []))`;
  }
  return sql`SELECT name, count() AS count FROM (${sample} LIMIT ${param(SAMPLE_ROWS, 'UInt32')}) ARRAY JOIN ${names} AS name
    GROUP BY name ORDER BY count DESC, name LIMIT ${param(MAX_PROPERTIES, 'UInt32')}`;
}

/**
 * The most frequent values of a property in the sample of rows that have it (rows: value, count). A list counts
 * each of its elements (what `is` compares); empty values are left out; `prefix` keeps values that start with it,
 * ignoring case. Group properties are the groups' current ones.
 */
export function propertyValuesQuery(
  t: TableRef,
  projectId: number,
  o: { prop: PropRef; now: number; eventType?: string; prefix?: string; limit: number },
): Sql {
  let sample: Sql;
  if (o.prop.kind === 'group') {
    const v = currentGroupValue(o.prop.key);
    sample = sql`SELECT ${valueElements(v)} AS vs FROM ${trusted(t('groups'))} FINAL
      WHERE project_id = ${param(projectId, 'UInt32')} AND group_type = ${param(o.prop.groupType, 'String')} AND ${v.present}`;
  } else {
    const ctx = newContext({ projectId, table: t, range: NO_RANGE, gpMode: 'event', source: { table: 'events' } });
    const v = propertyValue(ctx, o.prop);
    sample = sql`SELECT ${valueElements(v)} AS vs FROM ${trusted(t('events'))} WHERE ${eventsWhere(projectId, o.now, o.eventType)} AND ${v.present}`;
  }
  const prefix = o.prefix ? sql` AND startsWith(lowerUTF8(value), lowerUTF8(${param(o.prefix, 'String')}))` : sql``;
  return sql`SELECT value, count() AS count FROM (${sample} LIMIT ${param(SAMPLE_ROWS, 'UInt32')}) ARRAY JOIN vs AS value
    WHERE value != ''${prefix}
    GROUP BY value ORDER BY count DESC, value LIMIT ${param(o.limit, 'UInt32')}`;
}

function textParam(query: Query, key: string, required: boolean): string | undefined {
  const v = single(key, query[key]);
  if (v === undefined || v === '') {
    if (required) throw badParam(key, `${key} is required`, 'missing_parameter');
    return undefined;
  }
  if (v.length > MAX_NAME) throw badParam(key, `${key} is longer than ${MAX_NAME} characters`);
  return v;
}

/** The request's property type, group type (required for group properties, and checked) and event type. */
async function scope(catalog: Catalog, projectId: number, query: Query): Promise<{ type: PropertyType; groupType?: string; eventType?: string }> {
  if (!single('type', query.type)) throw badParam('type', `type is required: one of ${PROPERTY_TYPES.join(', ')}`, 'missing_parameter');
  const type = enumParam(query, 'type', PROPERTY_TYPES, 'event');
  const groupType = textParam(query, 'group_type', type === 'group');
  if (groupType !== undefined) await catalog.requireGroupType(projectId, groupType, 'group_type');
  return { type, groupType, eventType: textParam(query, 'event_type', false) };
}

/** The property a values request names, as the chart API would read it. */
function propOf(type: PropertyType, raw: string, groupType: string | undefined): PropRef {
  if (type === 'event') return eventProp(raw);
  if (type === 'user') return userProp('name', raw);
  return { kind: 'group', groupType: groupType!, key: raw };
}

export interface SuggestionsDeps {
  db: Db;
  catalog: Catalog;
  now: () => number;
}

export const suggestions = {
  async events(deps: SuggestionsDeps, projectId: number) {
    const rows = await deps.db.rows<{ name: string; totals: number }>(eventTypesQuery(deps.db.table, projectId, deps.now()));
    return { data: rows.map((r) => ({ name: r.name, totals: Number(r.totals) })) };
  },

  async properties(deps: SuggestionsDeps, projectId: number, query: Query) {
    const s = await scope(deps.catalog, projectId, query);
    const rows = await deps.db.rows<{ name: string; count: number }>(propertyNamesQuery(deps.db.table, projectId, { ...s, now: deps.now() }));
    return { properties: rows.map((r) => ({ name: r.name, count: Number(r.count) })) };
  },

  async values(deps: SuggestionsDeps, projectId: number, query: Query) {
    const s = await scope(deps.catalog, projectId, query);
    const prop = propOf(s.type, textParam(query, 'name', true)!, s.groupType);
    const limit = intParam(query, 'limit', 50, 1, 1000);
    const prefix = textParam(query, 'q', false);
    const rows = await deps.db.rows<{ value: string; count: number }>(
      propertyValuesQuery(deps.db.table, projectId, { prop, now: deps.now(), eventType: s.eventType, prefix, limit }),
    );
    return { values: rows.map((r) => ({ value: r.value, count: Number(r.count) })) };
  },
};
