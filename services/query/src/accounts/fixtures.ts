// Test fixtures for the issue-7 integration tests: rows built exactly as the writer builds them
// (services/writer/src/rows.ts, packages/clickhouse/migrations/001_core.sql) and inserted straight into ClickHouse.
import { randomUUID } from 'node:crypto';
import { insertRows, type ClickHouse } from '@groupscope/clickhouse';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;

const chTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const bag = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));

let offset = 0;

export interface TestEvent {
  project: number;
  time: number;
  type: string;
  user?: string;
  device?: string;
  props?: Record<string, unknown>;
  userProps?: Record<string, unknown>;
  /** group type -> values */
  groups?: Record<string, string[]>;
  /** group type -> value -> properties as stamped at ingest */
  groupProps?: Record<string, Record<string, Record<string, unknown>>>;
}

/** An event as the writer stores it: one `events` row and one `event_groups` row per group it is attributed to. */
export function eventRows(e: TestEvent): { events: object; eventGroups: object[] } {
  const uuid = randomUUID();
  const off = ++offset;
  const groups = e.groups ?? {};
  const snapshots = e.groupProps ?? {};
  const common = {
    project_id: e.project,
    event_time: chTime(e.time),
    event_type: e.type,
    uuid,
    user_id: e.user ?? '',
    device_id: e.device ?? '',
    insert_id: uuid,
    session_id: -1,
    event_properties: bag(e.props ?? {}),
    user_properties: bag(e.userProps ?? {}),
    groups,
    context: {},
    revenue: null,
    receive_time: chTime(e.time + 1000),
    kafka_partition: 0,
    kafka_offset: off,
  };
  const all = JSON.stringify(snapshots);
  const eventGroups = Object.entries(groups).flatMap(([type, values]) =>
    values.map((value) => ({ ...common, group_type: type, group_value: value, group_properties: bag(snapshots[type]?.[value] ?? {}), all_group_properties: all })),
  );
  return { events: { ...common, group_properties: all, event_id: -1, extra: '{}' }, eventGroups };
}

export async function insertEvents(ch: ClickHouse, events: TestEvent[]): Promise<void> {
  const rows = events.map(eventRows);
  await insertRows(ch, 'events', rows.map((r) => r.events));
  await insertRows(ch, 'event_groups', rows.flatMap((r) => r.eventGroups));
}

export interface TestGroupChange {
  project: number;
  type: string;
  value: string;
  time: number;
  /** the group's properties after the change */
  props: Record<string, unknown>;
  /** names changed by this change (default: every key of props) */
  changed?: string[];
}

/** Group changes as the writer stores them: the current row in `groups` and history rows per changed property. */
export async function insertGroupChanges(ch: ClickHouse, changes: TestGroupChange[]): Promise<void> {
  const groups: object[] = [];
  const history: object[] = [];
  for (const c of changes) {
    const off = ++offset;
    groups.push({
      project_id: c.project,
      group_type: c.type,
      group_value: c.value,
      properties: bag(c.props),
      properties_json: JSON.stringify(c.props),
      updated_at: chTime(c.time),
      first_identified: chTime(c.time),
      kafka_partition: 0,
      kafka_offset: off,
    });
    for (const name of c.changed ?? Object.keys(c.props)) {
      const v = c.props[name];
      history.push({
        project_id: c.project,
        group_type: c.type,
        property: name,
        value: typeof v === 'string' ? v : JSON.stringify(v),
        group_value: c.value,
        event_time: chTime(c.time),
        removed: 0,
        receive_time: chTime(c.time),
        kafka_partition: 0,
        kafka_offset: off,
      });
    }
  }
  await insertRows(ch, 'groups', groups);
  await insertRows(ch, 'group_property_history', history);
}
