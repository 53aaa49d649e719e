-- Core schema shared by the writer (which fills it) and the query service (which reads it).
-- Property bags are Map(String, String): strings as sent, numbers and booleans as their text, lists and objects
-- as JSON text. kafka_partition/kafka_offset record where each row came from: the writer skips offsets already
-- written when it replays a batch, which makes its inserts idempotent.

-- One row per event. Hot path: one project, a few event types, a date range.
CREATE TABLE IF NOT EXISTS {db}.events (
  project_id UInt32,
  event_time DateTime64(3, 'UTC'),
  event_type LowCardinality(String),
  uuid UUID,
  user_id String,
  device_id String,
  user_key String DEFAULT if(user_id != '', user_id, concat('$device:', device_id)),
  insert_id String,
  session_id Int64 DEFAULT -1,
  event_id Int64 DEFAULT -1,
  event_properties Map(String, String),
  user_properties Map(String, String),
  groups Map(LowCardinality(String), Array(String)),
  group_properties String DEFAULT '{}' COMMENT 'JSON {type: {value: {props}}} as stamped at ingest',
  context Map(LowCardinality(String), String),
  revenue Nullable(Float64),
  price Nullable(Float64),
  quantity Nullable(Int64),
  location_lat Nullable(Float64),
  location_lng Nullable(Float64),
  extra String DEFAULT '{}',
  receive_time DateTime64(3, 'UTC'),
  kafka_partition UInt32,
  kafka_offset UInt64
) ENGINE = MergeTree
PARTITION BY toYYYYMM(event_time)
ORDER BY (project_id, event_type, toDate(event_time), user_key, event_time);

-- One row per (event, group it is attributed to): what countGroup queries, group funnels and an account's
-- activity read. Sorted by group, so one account's activity is an index range, not a scan.
CREATE TABLE IF NOT EXISTS {db}.event_groups (
  project_id UInt32,
  group_type LowCardinality(String),
  group_value String,
  event_time DateTime64(3, 'UTC'),
  event_type LowCardinality(String),
  uuid UUID,
  user_id String,
  device_id String,
  user_key String DEFAULT if(user_id != '', user_id, concat('$device:', device_id)),
  insert_id String,
  session_id Int64 DEFAULT -1,
  event_properties Map(String, String),
  user_properties Map(String, String),
  group_properties Map(String, String) COMMENT 'this group''s properties as stamped at ingest',
  groups Map(LowCardinality(String), Array(String)),
  all_group_properties String DEFAULT '{}',
  context Map(LowCardinality(String), String),
  revenue Nullable(Float64),
  receive_time DateTime64(3, 'UTC'),
  kafka_partition UInt32,
  kafka_offset UInt64
) ENGINE = MergeTree
PARTITION BY toYYYYMM(event_time)
ORDER BY (project_id, group_type, group_value, event_time);

-- Current properties of each group: the newest change wins (version = the change's Kafka offset; one group's
-- changes always share a partition, so offsets order them).
CREATE TABLE IF NOT EXISTS {db}.groups (
  project_id UInt32,
  group_type LowCardinality(String),
  group_value String,
  properties Map(String, String),
  properties_json String DEFAULT '{}',
  updated_at DateTime64(3, 'UTC'),
  first_identified DateTime64(3, 'UTC'),
  kafka_partition UInt32,
  kafka_offset UInt64
) ENGINE = ReplacingMergeTree(kafka_offset)
ORDER BY (project_id, group_type, group_value);

-- Every value every group property ever held, with its time: "name = value" search matches history.
CREATE TABLE IF NOT EXISTS {db}.group_property_history (
  project_id UInt32,
  group_type LowCardinality(String),
  property String,
  value String,
  group_value String,
  event_time DateTime64(3, 'UTC'),
  removed UInt8 DEFAULT 0,
  receive_time DateTime64(3, 'UTC'),
  kafka_partition UInt32,
  kafka_offset UInt64
) ENGINE = MergeTree
ORDER BY (project_id, group_type, property, value, group_value, event_time);

-- First and last activity per group, kept by ClickHouse from event_groups (min and max are unchanged by a replay).
CREATE TABLE IF NOT EXISTS {db}.group_activity (
  project_id UInt32,
  group_type LowCardinality(String),
  group_value String,
  first_seen SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
  last_seen SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
) ENGINE = AggregatingMergeTree
ORDER BY (project_id, group_type, group_value);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.group_activity_mv TO {db}.group_activity AS
SELECT project_id, group_type, group_value, min(event_time) AS first_seen, max(event_time) AS last_seen
FROM {db}.event_groups
GROUP BY project_id, group_type, group_value;
