// Behavioral cohort membership as one SQL query: per user (or group), a count per condition over its own rolling
// window, kept when every count satisfies its operator. When every condition is satisfied by zero events
// ("at most N times"), everyone known who did nothing is a member too, so the project's universe is added.
import { sql, param, trusted, join, type Sql } from '@groupscope/clickhouse';
import type { EventMatcher } from '../sql/event-match';
import type { TableRef } from '../sql/executor';
import { admitsZero, type CountOp, type EventCondition } from './definition';
import { universe } from './universe';

const DAY_MS = 86_400_000;
const OP_SQL: Record<CountOp, string> = { '>=': '>=', '>': '>', '<=': '<=', '<': '<', '=': '=', '!=': '!=' };

export async function behavioralMembers(
  deps: { table: TableRef; matchEvents: EventMatcher },
  projectId: number,
  countGroup: string,
  conditions: readonly EventCondition[],
  now: number,
): Promise<Sql> {
  const t = deps.table;
  const isUser = countGroup === 'User';
  const table = isUser ? 'events' : 'event_groups';
  const matches = await Promise.all(
    conditions.map((c, i) =>
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
    (c, i) => sql`countIf((${matches[i]!}) AND event_time >= fromUnixTimestamp64Milli(${param(now - c.time_value * DAY_MS, 'Int64')}, 'UTC')) AS c${trusted(String(i))}`,
  );
  const earliest = now - Math.max(...conditions.map((c) => c.time_value)) * DAY_MS;
  const entity = trusted(isUser ? 'user_key' : 'group_value');
  const typeCond = isUser ? sql`` : sql` AND group_type = ${param(countGroup, 'String')}`;
  const scan = sql`SELECT ${entity} AS member, ${join(counts, ', ')}
    FROM ${trusted(t(table))}
    WHERE project_id = ${param(projectId, 'UInt32')}${typeCond}
      AND event_time >= fromUnixTimestamp64Milli(${param(earliest, 'Int64')}, 'UTC') AND event_time <= ${nowP}
      AND (${join(matches.map((m) => sql`(${m})`), ' OR ')})
    GROUP BY member`;
  const zeros = conditions.map((_, i) => sql`toUInt64(0) AS c${trusted(String(i))}`);
  const everyone = conditions.every(admitsZero) ? sql` UNION ALL SELECT member, ${join(zeros, ', ')} FROM (${universe(t, projectId, countGroup)})` : sql``;
  const having = conditions.map((c, i) => sql`sum(c${trusted(String(i))}) ${trusted(OP_SQL[c.op])} ${param(c.value, 'UInt64')}`);
  return sql`SELECT member FROM (${scan}${everyone}) GROUP BY member HAVING ${join(having, ' AND ')}`;
}
