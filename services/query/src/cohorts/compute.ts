// Cohort membership as one SQL query. Event conditions: per user (or group), a count per condition over its own
// rolling window, kept when every count satisfies its operator; when every event condition is satisfied by zero
// events ("at most N times"), everyone known who did nothing is a member too, so the project's universe is added.
// Group property conditions: the users of the groups whose property matches (or, in a cohort of groups, those
// groups), each a set the members must belong to.
import { sql, param, trusted, join, type Sql } from '@groupscope/clickhouse';
import type { Catalog } from '../domain/catalog';
import type { PropRef } from '../domain/properties';
import { badParam } from '../http/errors';
import { conditionSql } from '../sql/conditions';
import type { EventMatcher, PropertyConditionBuilder } from '../sql/event-match';
import type { TableRef } from '../sql/executor';
import { groupRowContext, groupRowsQuery } from '../sql/groups';
import { admitsZero, type CohortCondition, type CountOp, type EventCondition, type GroupPropertyCondition } from './definition';
import { universe } from './universe';

const DAY_MS = 86_400_000;
const OP_SQL: Record<CountOp, string> = { '>=': '>=', '>': '>', '<=': '<=', '<': '<', '=': '=', '!=': '!=' };

export interface MemberDeps {
  table: TableRef;
  matchEvents: EventMatcher;
  /** the charts' property conditions (group property conditions on current properties) */
  propertyCondition: PropertyConditionBuilder;
  /** checks the group types and properties a condition names (absent: not checked) */
  catalog?: Catalog;
}

type Indexed<T> = { c: T; i: number };

async function eventMembers(deps: MemberDeps, projectId: number, countGroup: string, conditions: Indexed<EventCondition>[], now: number): Promise<Sql> {
  const t = deps.table;
  const isUser = countGroup === 'User';
  const table = isUser ? 'events' : 'event_groups';
  const matches = await Promise.all(
    conditions.map(({ c, i }) =>
      deps.matchEvents({
        projectId,
        e: { event_type: c.event_type, filters: c.filters },
        table,
        groupType: isUser ? undefined : countGroup,
        param: `definition[${i}]`,
      }),
    ),
  );
  const nowP = sql`fromUnixTimestamp64Milli(${param(now, 'Int64')}, 'UTC')`;
  const counts = conditions.map(
    ({ c }, k) => sql`countIf((${matches[k]!}) AND event_time >= fromUnixTimestamp64Milli(${param(now - c.time_value * DAY_MS, 'Int64')}, 'UTC')) AS c${trusted(String(k))}`,
  );
  const earliest = now - Math.max(...conditions.map(({ c }) => c.time_value)) * DAY_MS;
  const entity = trusted(isUser ? 'user_key' : 'group_value');
  const typeCond = isUser ? sql`` : sql` AND group_type = ${param(countGroup, 'String')}`;
  const scan = sql`SELECT ${entity} AS member, ${join(counts, ', ')}
    FROM ${trusted(t(table))}
    WHERE project_id = ${param(projectId, 'UInt32')}${typeCond}
      AND event_time >= fromUnixTimestamp64Milli(${param(earliest, 'Int64')}, 'UTC') AND event_time <= ${nowP}
      AND (${join(matches.map((m) => sql`(${m})`), ' OR ')})
    GROUP BY member`;
  const zeros = conditions.map((_, k) => sql`toUInt64(0) AS c${trusted(String(k))}`);
  const everyone = conditions.every(({ c }) => admitsZero(c)) ? sql` UNION ALL SELECT member, ${join(zeros, ', ')} FROM (${universe(t, projectId, countGroup)})` : sql``;
  const having = conditions.map(({ c }, k) => sql`sum(c${trusted(String(k))}) ${trusted(OP_SQL[c.op])} ${param(c.value, 'UInt64')}`);
  return sql`SELECT member FROM (${scan}${everyone}) GROUP BY member HAVING ${join(having, ' AND ')}`;
}

/** The members one group property condition admits (a query yielding `member`). */
async function propertyMembers(deps: MemberDeps, projectId: number, countGroup: string, c: GroupPropertyCondition, at: string, now: number): Promise<Sql> {
  const t = deps.table;
  const isUser = countGroup === 'User';
  if (!isUser && countGroup !== c.group_type) {
    throw badParam(at, `${at}: a cohort of ${countGroup} is defined by properties of ${countGroup}, not of ${c.group_type}`, 'invalid_definition');
  }
  const values = c.subprop_value.map((v, k) => {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw badParam(at, `${at}.subprop_value[${k}] must be a string, number or boolean`, 'invalid_value');
  });
  const filter = { subprop_type: 'group', group_type: c.group_type, ...(c.subprop_key ? { subprop_key: c.subprop_key } : {}), subprop_op: c.subprop_op, subprop_value: values };
  const scope = sql`project_id = ${param(projectId, 'UInt32')} AND group_type = ${param(c.group_type, 'String')}`;
  const window = sql`event_time >= fromUnixTimestamp64Milli(${param(now - c.time_value * DAY_MS, 'Int64')}, 'UTC') AND event_time <= fromUnixTimestamp64Milli(${param(now, 'Int64')}, 'UTC')`;
  const eventGroups = trusted(t('event_groups'));
  if (c.gpMode === 'event') {
    // the properties stamped on the events attributed to the group (event_groups rows of its type)
    const match = await deps.matchEvents({ projectId, e: { event_type: '_all', filters: [filter] }, table: 'event_groups', groupType: c.group_type, param: at });
    return sql`SELECT DISTINCT ${trusted(isUser ? 'user_key' : 'group_value')} AS member FROM ${eventGroups} WHERE ${scope} AND ${window} AND (${match})`;
  }
  // the groups' properties now
  const prop: PropRef = c.subprop_key ? { kind: 'group', groupType: c.group_type, key: c.subprop_key } : { kind: 'groupValue', groupType: c.group_type };
  const cond = deps.propertyCondition(at, prop, c.subprop_op, values);
  await deps.catalog?.check(projectId, [{ groupType: c.group_type, param: at }], prop.kind === 'group' ? [{ prop, param: at }] : []);
  const matching = sql`SELECT group_value FROM (${groupRowsQuery(t, projectId, c.group_type)}) WHERE ${conditionSql(groupRowContext(t, projectId, c.group_type), cond)}`;
  if (!isUser) return sql`SELECT group_value AS member FROM (${matching})`;
  return sql`SELECT DISTINCT user_key AS member FROM ${eventGroups} WHERE ${scope} AND ${window} AND group_value IN (${matching})`;
}

/** The members of a cohort defined by `conditions`, ANDed (a query yielding distinct `member`). */
export async function behavioralMembers(deps: MemberDeps, projectId: number, countGroup: string, conditions: readonly CohortCondition[], now: number): Promise<Sql> {
  const events = conditions.flatMap((c, i): Indexed<EventCondition>[] => (c.type === 'event' ? [{ c, i }] : []));
  const properties = conditions.flatMap((c, i): Indexed<GroupPropertyCondition>[] => (c.type === 'group_property' ? [{ c, i }] : []));
  const sets = await Promise.all(properties.map(({ c, i }) => propertyMembers(deps, projectId, countGroup, c, `definition[${i}]`, now)));
  const base = events.length > 0 ? await eventMembers(deps, projectId, countGroup, events, now) : sets.shift()!;
  if (sets.length === 0) return base;
  return sql`SELECT member FROM (${base}) WHERE ${join(sets.map((s) => sql`member IN (${s})`), ' AND ')}`;
}
