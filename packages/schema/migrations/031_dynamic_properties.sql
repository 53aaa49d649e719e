-- Dynamic group properties (query service, issue 7): a metric computed per group and written as a group
-- property through the group-identify path. `definition` is a copy of the metric and window taken at creation,
-- so nothing edited later changes an existing property. One row per saved state, newest `version` wins;
-- last_run_at survives restarts, so the scheduler does not re-run a property that already ran this period.
CREATE TABLE IF NOT EXISTS {db}.dynamic_properties (
  project_id UInt32,
  id String,
  group_type String,
  name String,
  definition String COMMENT 'JSON {metric: {e, m}, window}',
  created_at DateTime64(3, 'UTC'),
  last_run_at Nullable(DateTime64(3, 'UTC')),
  last_window_start Nullable(DateTime64(3, 'UTC')),
  last_window_end Nullable(DateTime64(3, 'UTC')),
  last_groups UInt64 DEFAULT 0,
  deleted UInt8 DEFAULT 0,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (project_id, id);
