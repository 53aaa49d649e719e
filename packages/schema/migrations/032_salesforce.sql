-- The Salesforce sync (query service): mappings of a Salesforce object to a group type, the sync state of each
-- mapping, and the pickup state of each group value it has seen. Every table keeps one row per saved state and the
-- newest `version` wins (ReplacingMergeTree; readers use argMax), as cohorts and dynamic properties do.
-- `revision` changes when a mapping's object, name field or properties change: state and pickups of an older
-- revision are ignored, so the next run is a full sync under the new definition.
CREATE TABLE IF NOT EXISTS {db}.salesforce_mappings (
  project_id UInt32,
  id String,
  sobject String,
  group_type String,
  name_field String,
  properties String COMMENT 'JSON [{sf_field, group_property}]',
  cadence String COMMENT 'JSON {type: hourly | daily | days, days?}',
  revision UInt64,
  created_at DateTime64(3, 'UTC'),
  updated_at DateTime64(3, 'UTC'),
  deleted UInt8 DEFAULT 0,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (project_id, id);

-- One mapping's sync state: the SystemModstamp high-water mark (advanced only after a run's group identifies were
-- acknowledged by Kafka) and what the status endpoint reports about the last run.
CREATE TABLE IF NOT EXISTS {db}.salesforce_sync_state (
  project_id UInt32,
  mapping_id String,
  revision UInt64,
  high_water_mark Nullable(DateTime64(3, 'UTC')),
  last_attempt_at Nullable(DateTime64(3, 'UTC')),
  last_success_at Nullable(DateTime64(3, 'UTC')),
  last_trigger LowCardinality(String) DEFAULT '',
  last_outcome LowCardinality(String) DEFAULT '',
  full_sync UInt8 DEFAULT 0,
  rows_read UInt64 DEFAULT 0,
  groups_updated UInt64 DEFAULT 0,
  groups_deferred UInt64 DEFAULT 0,
  unknown_values UInt64 DEFAULT 0,
  rows_without_name UInt64 DEFAULT 0,
  retries UInt32 DEFAULT 0,
  duration_ms UInt64 DEFAULT 0,
  last_error_code String DEFAULT '',
  last_error_message String DEFAULT '',
  consecutive_failures UInt32 DEFAULT 0,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (project_id, mapping_id);

-- Per group value of a mapping: whether it was written (synced), changed in Salesforce but not due yet (pending),
-- not a group in groupscope (unknown) or asked for and not found in Salesforce (missing); the newest
-- SystemModstamp applied or seen; the last update and the next pickup date.
CREATE TABLE IF NOT EXISTS {db}.salesforce_pickups (
  project_id UInt32,
  mapping_id String,
  revision UInt64,
  group_value String,
  state LowCardinality(String),
  sf_modstamp DateTime64(3, 'UTC'),
  last_update Nullable(DateTime64(3, 'UTC')),
  next_pickup Nullable(DateTime64(3, 'UTC')),
  version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (project_id, mapping_id, revision, group_value);

-- Property history records who set each value (api, dynamic_property, salesforce; '' before this column existed),
-- and one group's history is found through a skip index instead of a scan of its group type.
ALTER TABLE {db}.group_property_history ADD COLUMN IF NOT EXISTS source LowCardinality(String) DEFAULT '' AFTER receive_time;

ALTER TABLE {db}.group_property_history ADD INDEX IF NOT EXISTS group_value_idx group_value TYPE bloom_filter(0.01) GRANULARITY 1;

ALTER TABLE {db}.group_property_history MATERIALIZE INDEX group_value_idx;
