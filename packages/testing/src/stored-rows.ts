// Rows as the writer stores them (packages/schema/migrations), built from short descriptions and
// inserted straight into ClickHouse: for query tests that need exact data without running the pipeline. One
// `events` row per event, one `event_groups` row per group it is attributed to; for a group change, the current
// row in `groups` and one `group_property_history` row per changed property.
import { randomUUID } from 'node:crypto';
import { insertRows, type ClickHouse } from '@groupscope/clickhouse';
import { typedBag } from '@groupscope/schema';

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
}

const ms = (t: TestTime) => (typeof t === 'number' ? t : Date.parse(/Z$|[+-]\d\d:\d\d$/.test(t) ? t : `${t}Z`));
const chTime = (t: number) => new Date(t).toISOString().replace('T', ' ').replace('Z', '');

/** A property bag as the Map columns hold it: strings as-is, anything else as JSON text; null and undefined dropped. */
export function bag(p: Props | undefined): Record<string, string> {
  return typedBag(p ?? {}, 'properties').bag;
}

/** The keys of a bag holding JSON text (its *_json_keys column). */
const jsonKeys = (p: Props | undefined): string[] => typedBag(p ?? {}, 'properties').jsonKeys;

let offset = 0;

export function eventRows(e: TestEvent): { event: Record<string, unknown>; eventGroups: Record<string, unknown>[] } {
  const uuid = e.uuid ?? randomUUID();
  const time = ms(e.time);
  const groups = e.groups ?? {};
  const stamped = JSON.stringify(groups);
  const common = {
    project_id: e.project,
    event_time: chTime(time),
    event_type: e.type,
    uuid,
    user_id: e.user ?? '',
    device_id: e.device ?? '',
    insert_id: e.insertId ?? uuid,
    session_id: -1,
    event_properties: bag(e.props),
    event_properties_json_keys: jsonKeys(e.props),
    user_properties: bag(e.userProps),
    user_properties_json_keys: jsonKeys(e.userProps),
    groups: Object.fromEntries(Object.entries(groups).map(([type, values]) => [type, Object.keys(values)])),
    context: e.context ?? {},
    revenue: e.revenue ?? null,
    receive_time: chTime(time + 1000),
    kafka_partition: 0,
    kafka_offset: ++offset,
  };
  const eventGroups = Object.entries(groups).flatMap(([type, values]) =>
    Object.entries(values).map(([value, props]) => ({
      ...common,
      group_type: type,
      group_value: value,
      group_properties: bag(props),
      group_properties_json_keys: jsonKeys(props),
      all_group_properties: stamped,
    })),
  );
  return { event: { ...common, group_properties: stamped }, eventGroups };
}

export function groupChangeRows(c: TestGroupChange): { group: Record<string, unknown>; history: Record<string, unknown>[] } {
  const off = ++offset;
  const time = chTime(ms(c.time));
  const props = bag(c.props);
  return {
    group: {
      project_id: c.project,
      group_type: c.type,
      group_value: c.value,
      properties: props,
      properties_json: JSON.stringify(c.props),
      updated_at: time,
      first_identified: time,
      kafka_partition: 0,
      kafka_offset: off,
    },
    history: (c.changed ?? Object.keys(c.props)).map((property) => ({
      project_id: c.project,
      group_type: c.type,
      property,
      value: props[property] ?? '',
      group_value: c.value,
      event_time: time,
      removed: 0,
      receive_time: time,
      kafka_partition: 0,
      kafka_offset: off,
    })),
  };
}

export async function insertEvents(ch: ClickHouse, events: TestEvent[]): Promise<void> {
  const rows = events.map(eventRows);
  await insertRows(ch, 'events', rows.map((r) => r.event));
  await insertRows(ch, 'event_groups', rows.flatMap((r) => r.eventGroups));
}

export async function insertGroupChanges(ch: ClickHouse, changes: TestGroupChange[]): Promise<void> {
  const rows = changes.map(groupChangeRows);
  await insertRows(ch, 'groups', rows.map((r) => r.group));
  await insertRows(ch, 'group_property_history', rows.flatMap((r) => r.history));
}
