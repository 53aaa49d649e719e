// The tables the pipeline writes, as the row mapping encodes them: column lists in line order, the input structure
// of an enriched event's line, and which tables are partitioned by month (see ../migrations).

/** Column lists, in the order the lines are encoded. user_key is computed by ClickHouse. */
export const COLUMNS = {
  events: [
    'project_id', 'event_time', 'event_type', 'uuid', 'user_id', 'device_id', 'insert_id', 'session_id', 'event_id',
    'event_properties', 'event_properties_json_keys', 'user_properties', 'user_properties_json_keys', 'groups', 'group_properties',
    'context', 'revenue', 'price', 'quantity', 'location_lat', 'location_lng', 'extra', 'receive_time', 'kafka_partition', 'kafka_offset',
  ],
  event_groups: [
    'project_id', 'group_type', 'group_value', 'event_time', 'event_type', 'uuid', 'user_id', 'device_id', 'insert_id',
    'session_id', 'event_properties', 'event_properties_json_keys', 'user_properties', 'user_properties_json_keys',
    'group_properties', 'group_properties_json_keys', 'groups', 'all_group_properties', 'context', 'revenue', 'receive_time',
    'kafka_partition', 'kafka_offset',
  ],
  groups: [
    'project_id', 'group_type', 'group_value', 'properties', 'properties_json', 'updated_at', 'first_identified',
    'kafka_partition', 'kafka_offset',
  ],
  group_property_history: [
    'project_id', 'group_type', 'property', 'value', 'group_value', 'event_time', 'removed', 'receive_time', 'source',
    'kafka_partition', 'kafka_offset',
  ],
} as const;

export type TableName = keyof typeof COLUMNS;

/**
 * The columns of an enriched event's line, with the types ClickHouse parses them as (input() structure). Plain
 * String map keys parse faster than LowCardinality ones; the INSERT converts them to the table's types.
 */
export const EVENT_INPUT: readonly (readonly [string, string])[] = [
  ['project_id', 'UInt32'], ['event_time', 'DateTime64(3)'], ['event_type', 'String'], ['uuid', 'UUID'], ['user_id', 'String'],
  ['device_id', 'String'], ['insert_id', 'String'], ['session_id', 'Int64'], ['event_id', 'Int64'],
  ['event_properties', 'Map(String, String)'], ['event_properties_json_keys', 'Array(String)'], ['user_properties', 'Map(String, String)'],
  ['user_properties_json_keys', 'Array(String)'], ['groups', 'Map(String, Array(String))'],
  ['group_properties', 'String'], ['context', 'Map(String, String)'], ['revenue', 'Nullable(Float64)'], ['price', 'Nullable(Float64)'],
  ['quantity', 'Nullable(Int64)'], ['location_lat', 'Nullable(Float64)'], ['location_lng', 'Nullable(Float64)'], ['extra', 'String'],
  ['receive_time', 'DateTime64(3)'], ['kafka_partition', 'UInt32'], ['kafka_offset', 'UInt64'],
  // one (group type, group value, that group's property bag, the bag's keys holding JSON text) per event_groups row
  ['group_rows', 'Array(Tuple(String, String, Map(String, String), Array(String)))'],
  // which tables still need the line: bit 0 events, bit 1 event_groups. Always the last, one digit: the writer
  // clears bits in place (the byte WANT_FROM_END bytes before the line's end) for tables that hold it already.
  ['want', 'UInt8'],
];

export const WANT_EVENTS = 1;
export const WANT_EVENT_GROUPS = 2;
/** position of the `want` digit, counted back from the end of a line ('3]\n') */
export const WANT_FROM_END = 3;

/** Tables partitioned by month: a multi-month INSERT commits one part per month, each atomically. */
export const MONTHLY: Record<TableName, boolean> = { events: true, event_groups: true, groups: false, group_property_history: false };

/** The event line's columns as an input() / temporary-table structure. */
export const EVENT_LINE_STRUCTURE = EVENT_INPUT.map(([name, type]) => `${name} ${type}`).join(', ');
