// The same rows as named objects, for code that inserts them as JSONEachRow (test fixtures, data generators,
// benchmarks' raw baselines). They come from the writer's own lines, so they cannot disagree with what the
// writer stores.
import type { EnrichedEvent, GroupChange } from '@groupscope/events';
import { changeRows, eventRows, groupLine, type Outcome } from './rows';
import { COLUMNS, EVENT_INPUT, type TableName } from './tables';

export type RowObject = Record<string, unknown>;

function named(columns: readonly string[], line: string): RowObject {
  const values = JSON.parse(line) as unknown[];
  return Object.fromEntries(columns.map((c, i) => [c, values[i]]));
}

const pick = (table: TableName, from: RowObject): RowObject => Object.fromEntries(COLUMNS[table].map((c) => [c, from[c]]));
const LINE_COLUMNS = EVENT_INPUT.map(([name]) => name);

/** An enriched event as the `events` row and its `event_groups` rows (one per group it is attributed to). */
export function eventRowObjects(e: EnrichedEvent, partition: number, offset: number): Outcome<{ event: RowObject; eventGroups: RowObject[] }> {
  const out = eventRows(e, partition, offset);
  if (out.kind !== 'ok') return out;
  const line = named(LINE_COLUMNS, out.value.line);
  const eventGroups = (line.group_rows as [string, string, Record<string, string>, string[]][]).map(([group_type, group_value, bag, jsonKeys]) =>
    pick('event_groups', { ...line, group_type, group_value, group_properties: bag, group_properties_json_keys: jsonKeys, all_group_properties: line.group_properties }),
  );
  return { kind: 'ok', value: { event: pick('events', line), eventGroups } };
}

/**
 * A group change as its `groups` row and `group_property_history` rows. `firstIdentified` is the earliest time
 * the group was seen (the writer looks it up in ClickHouse); by default the change's own time.
 */
export function changeRowObjects(c: GroupChange, partition: number, offset: number, firstIdentified = c.event_time): Outcome<{ group: RowObject; history: RowObject[] }> {
  const out = changeRows(c, partition, offset);
  if (out.kind !== 'ok') return out;
  return {
    kind: 'ok',
    value: {
      group: named(COLUMNS.groups, groupLine(out.value.group, firstIdentified)),
      history: out.value.history.map((r) => named(COLUMNS.group_property_history, r.line)),
    },
  };
}
