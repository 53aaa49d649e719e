// Enriched events, encoded as @groupscope/schema's event lines, into `events` and `event_groups`. An event is one
// JSONCompactEachRow line holding the `events` columns plus `group_rows`; each INSERT ... SELECT reads the lines
// with input() from its request body, and ClickHouse makes the event_groups rows itself (ARRAY JOIN group_rows), so
// the columns an event shares with its groups are neither encoded nor parsed once per group. A line goes only to
// the tables its `want` bits name.
import { COLUMNS, EVENT_INPUT, EVENT_LINE_STRUCTURE } from '@groupscope/schema';
import type { ClickHouse } from './client';
import { fenceCondition, fencedQueryId, type WriterFence } from './fence';
import { execWithBody, columnList, tableRef } from './query';
import { sql, trusted, type Sql, type SqlValue } from './sql';

export type EventTable = 'events' | 'event_groups';

/** event_groups columns in order, from an event line and one of its group_rows entries `g`. */
function eventGroupsSelect(): SqlValue {
  const lineColumns = EVENT_INPUT.map(([name]) => name);
  const from: Record<string, string> = {
    group_type: 'g.1',
    group_value: 'g.2',
    group_properties: 'g.3',
    group_properties_json_keys: 'g.4',
    all_group_properties: 'group_properties',
  };
  const exprs = COLUMNS.event_groups.map((c) => {
    const expr = from[c] ?? (lineColumns.includes(c) ? c : undefined);
    if (!expr) throw new Error(`event_groups column ${c} has no source in the event line`);
    return expr;
  });
  return trusted(exprs.join(', '));
}

/**
 * The INSERT ... SELECT that fills `table` from the event lines of its request body; with a `fence`, it stores
 * nothing and fails (isFencedOut) unless the writer still holds every partition of the lines.
 */
export function eventLinesInsert(ch: ClickHouse, table: EventTable, fence?: WriterFence): Sql {
  const source = trusted(`input('${EVENT_LINE_STRUCTURE}')`);
  const fenced = fence ? sql`${fenceCondition(ch, fence)} AND ` : sql``;
  return table === 'events'
    ? sql`INSERT INTO ${tableRef(ch, 'events')} (${columnList(COLUMNS.events)}) SELECT ${columnList(COLUMNS.events)} FROM ${source}
          WHERE ${fenced}bitTest(want, 0) SETTINGS max_insert_threads = 1 FORMAT JSONCompactEachRow`
    : sql`INSERT INTO ${tableRef(ch, 'event_groups')} (${columnList(COLUMNS.event_groups)}) SELECT ${eventGroupsSelect()} FROM ${source}
          ARRAY JOIN group_rows AS g WHERE ${fenced}bitTest(want, 1) SETTINGS max_insert_threads = 1 FORMAT JSONCompactEachRow`;
}

/**
 * Inserts event lines (each ending in '\n') into one of the two tables. The writer passes its `fence` (the lines'
 * topic, partitions and its token); the statement then runs under a query_id naming them (runningFencedInserts).
 */
export async function insertEventLines(ch: ClickHouse, table: EventTable, lines: Buffer | readonly (Buffer | string)[], fence?: WriterFence): Promise<void> {
  if (Buffer.isBuffer(lines) ? lines.length === 0 : lines.length === 0) return;
  await execWithBody(ch, eventLinesInsert(ch, table, fence), lines, undefined, fence ? { queryId: fencedQueryId(ch, fence) } : {});
}
