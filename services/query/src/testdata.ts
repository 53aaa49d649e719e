// Builds ClickHouse rows the way the writer stores an enriched event (see migrations/001_core.sql): one `events`
// row, one `event_groups` row per group the event is attributed to, and group rows for `groups` and
// `group_property_history`. Used by the integration tests and the data generator's direct ClickHouse sink.
import { randomUUID } from 'node:crypto';

export type Props = Record<string, string | number | boolean>;

export interface EventSpec {
  project_id: number;
  time: number | string;
  event_type: string;
  user_id?: string;
  device_id?: string;
  event_properties?: Props;
  user_properties?: Props;
  /** every group the event is attributed to (user-level and event-level), with its properties as stamped */
  groups?: Record<string, Record<string, Props>>;
  revenue?: number | null;
  insert_id?: string;
  uuid?: string;
}

const ms = (t: number | string) => (typeof t === 'number' ? t : Date.parse(t.endsWith('Z') ? t : `${t}Z`));
export const chTime = (t: number | string) => new Date(ms(t)).toISOString().replace('T', ' ').replace('Z', '');

/** A property bag as the Map columns hold it: strings as-is, anything else as JSON text. */
export function bag(p: Props | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(p ?? {})) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

let offset = 0;

export function eventRows(e: EventSpec): { event: Record<string, unknown>; groups: Record<string, unknown>[] } {
  const uuid = e.uuid ?? randomUUID();
  const time = chTime(e.time);
  const groupsMap: Record<string, string[]> = {};
  for (const [type, values] of Object.entries(e.groups ?? {})) groupsMap[type] = Object.keys(values);
  const stamped = JSON.stringify(e.groups ?? {});
  const kafkaOffset = offset++;
  const common = {
    project_id: e.project_id,
    event_time: time,
    event_type: e.event_type,
    uuid,
    user_id: e.user_id ?? '',
    device_id: e.device_id ?? '',
    insert_id: e.insert_id ?? uuid,
    event_properties: bag(e.event_properties),
    user_properties: bag(e.user_properties),
    groups: groupsMap,
    context: {},
    revenue: e.revenue ?? null,
    receive_time: time,
    kafka_partition: 0,
    kafka_offset: kafkaOffset,
  };
  const event = { ...common, group_properties: stamped };
  const groups = Object.entries(e.groups ?? {}).flatMap(([type, values]) =>
    Object.entries(values).map(([value, props]) => ({
      ...common,
      group_type: type,
      group_value: value,
      group_properties: bag(props),
      all_group_properties: stamped,
    })),
  );
  return { event, groups };
}

export interface GroupChangeSpec {
  project_id: number;
  group_type: string;
  group_value: string;
  time: number | string;
  /** the group's properties after the change */
  properties: Props;
  /** the properties this change set */
  changed?: string[];
}

/** Rows for `groups` (current properties; newer offset wins) and `group_property_history`. */
export function groupChangeRows(c: GroupChangeSpec): { group: Record<string, unknown>; history: Record<string, unknown>[] } {
  const kafkaOffset = offset++;
  const time = chTime(c.time);
  const props = bag(c.properties);
  return {
    group: {
      project_id: c.project_id,
      group_type: c.group_type,
      group_value: c.group_value,
      properties: props,
      properties_json: JSON.stringify(c.properties),
      updated_at: time,
      first_identified: time,
      kafka_partition: 0,
      kafka_offset: kafkaOffset,
    },
    history: (c.changed ?? Object.keys(props)).map((property) => ({
      project_id: c.project_id,
      group_type: c.group_type,
      property,
      value: props[property] ?? '',
      group_value: c.group_value,
      event_time: time,
      receive_time: time,
      kafka_partition: 0,
      kafka_offset: kafkaOffset,
    })),
  };
}
