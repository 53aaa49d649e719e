// Stored data for query tests that need exact rows without running the pipeline: short descriptions of events and
// group changes become the records the enricher would publish, and those go into ClickHouse through the writer's
// own row mapping (@groupscope/schema) and INSERT statements, so fixtures cannot drift from what the writer stores.
import { randomUUID } from 'node:crypto';
import { insertEventLines, insertLines, type ClickHouse } from '@groupscope/clickhouse';
import { newIngestRecord, type EnrichedEvent, type GroupChange } from '@groupscope/events';
import { changeRows, COLUMNS, eventRows, groupLine, type Outcome } from '@groupscope/schema';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;

export type Props = Record<string, unknown>;

/** ms, or ISO 8601 text (without a zone: UTC) */
export type TestTime = number | string;

export interface TestEvent {
  project: number;
  time: TestTime;
  type: string;
  user?: string;
  device?: string;
  props?: Props;
  userProps?: Props;
  /** every group the event is attributed to (user-level and event-level): type -> value -> properties as stamped */
  groups?: Record<string, Record<string, Props>>;
  revenue?: number | null;
  /** built-in user properties (device and location fields) */
  context?: Record<string, string>;
  insertId?: string;
  uuid?: string;
}

export interface TestGroupChange {
  project: number;
  type: string;
  value: string;
  time: TestTime;
  /** the group's properties after the change */
  props: Props;
  /** names changed by this change (default: every key of props) */
  changed?: string[];
  /** who sent the group identify (api, dynamic_property, salesforce); default '' as before sources were kept */
  source?: string;
}

const ms = (t: TestTime) => (typeof t === 'number' ? t : Date.parse(/Z$|[+-]\d\d:\d\d$/.test(t) ? t : `${t}Z`));

/** The enriched event the enricher would publish for `e`, received a second after it happened. */
export function testEnrichedEvent(e: TestEvent): EnrichedEvent {
  const uuid = e.uuid ?? randomUUID();
  const time = ms(e.time);
  const groups = e.groups ?? {};
  const { kind: _kind, ...ingested } = newIngestRecord({
    project_id: e.project,
    uuid,
    receive_time: time + 1000,
    event_time: time,
    event_type: e.type,
    user_id: e.user ?? null,
    device_id: e.device ?? null,
    insert_id: e.insertId ?? uuid,
    event_properties: JSON.stringify(e.props ?? {}),
    user_properties: JSON.stringify(e.userProps ?? {}),
    groups: Object.fromEntries(Object.entries(groups).map(([type, values]) => [type, Object.keys(values)])),
    revenue: e.revenue ?? null,
    context: e.context ?? {},
  });
  const snapshots = Object.entries(groups).flatMap(([group_type, values]) =>
    Object.entries(values).map(([group_value, props]) => ({ group_type, group_value, properties: JSON.stringify(props) })),
  );
  return { ...ingested, group_properties: snapshots };
}

/** The group change the enricher would publish for `c`. */
export function testGroupChange(c: TestGroupChange): GroupChange {
  const time = ms(c.time);
  return {
    project_id: c.project,
    group_type: c.type,
    group_value: c.value,
    event_time: time,
    receive_time: time,
    properties: JSON.stringify(c.props),
    changed: c.changed ?? Object.keys(c.props),
    removed: [],
    source_uuid: randomUUID(),
    source: (c.source ?? '') as GroupChange['source'],
  };
}

function valid<T>(out: Outcome<T>, what: string): T {
  if (out.kind !== 'ok') throw new Error(`test ${what} the writer would refuse: ${out.error}`);
  return out.value;
}

/** Kafka offsets of the stored rows: increasing across calls, as a partition's would be (all on partition 0). */
let offset = 0;

/** Stores events as the writer would: one `events` row each and one `event_groups` row per group. */
export async function insertEvents(ch: ClickHouse, events: TestEvent[]): Promise<void> {
  const lines = events.map((e) => valid(eventRows(testEnrichedEvent(e), 0, ++offset), 'event').line);
  await insertEventLines(ch, 'events', lines);
  await insertEventLines(ch, 'event_groups', lines);
}

/**
 * Stores group changes as the writer would: the current row in `groups` (first identified at the group's earliest
 * change among these) and one `group_property_history` row per changed property.
 */
export async function insertGroupChanges(ch: ClickHouse, changes: TestGroupChange[]): Promise<void> {
  const rows = changes.map((c) => valid(changeRows(testGroupChange(c), 0, ++offset), 'group change'));
  const first = new Map<string, number>();
  for (const { group } of rows) {
    const k = JSON.stringify(group.key);
    first.set(k, Math.min(first.get(k) ?? Number.POSITIVE_INFINITY, group.updatedAt));
  }
  await insertLines(ch, 'groups', COLUMNS.groups, rows.map(({ group }) => groupLine(group, first.get(JSON.stringify(group.key))!)));
  await insertLines(ch, 'group_property_history', COLUMNS.group_property_history, rows.flatMap((r) => r.history.map((h) => h.line)));
}
