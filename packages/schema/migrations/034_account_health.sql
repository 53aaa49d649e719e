-- Account health (query service): usage per group and day, kept by ClickHouse from event_groups, and the
-- definitions of health scores.
--
-- group_daily_usage holds, per (group, UTC day), the events attributed to the group and a uniq state of the users
-- behind them. The account list and the health scores read their usage metrics (active users over 1/7/30 days,
-- events over 7/30 days, each against the period before) from it: at most 60 rows per group instead of every event.
-- A replayed batch never reaches it twice, because the writer skips offsets already written before inserting into
-- event_groups. Days are UTC days (the view cannot know a project's time zone).
CREATE TABLE IF NOT EXISTS {db}.group_daily_usage (
  project_id UInt32,
  group_type LowCardinality(String),
  group_value String,
  day Date,
  events SimpleAggregateFunction(sum, UInt64),
  users AggregateFunction(uniq, String)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (project_id, group_type, group_value, day);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.group_daily_usage_mv TO {db}.group_daily_usage AS
SELECT project_id, group_type, group_value, toDate(event_time) AS day, count() AS events, uniqState(user_key) AS users
FROM {db}.event_groups
GROUP BY project_id, group_type, group_value, day;

-- Events stored before this migration. On a system that is writing while the migration runs, a batch written
-- between the view's creation and this statement is counted twice in `events` (user counts are not affected):
-- stop the writers for the upgrade where that matters.
INSERT INTO {db}.group_daily_usage (project_id, group_type, group_value, day, events, users)
SELECT project_id, group_type, group_value, toDate(event_time) AS day, count() AS events, uniqState(user_key) AS users
FROM {db}.event_groups
GROUP BY project_id, group_type, group_value, day;

-- Health scores: a named weighted sum of normalised usage metrics per project and group type, computed once a day
-- and written as group properties through the group-identify path. One row per saved state, newest `version` wins
-- (as cohorts and dynamic properties); last_as_of (the last day a run covered) survives restarts.
CREATE TABLE IF NOT EXISTS {db}.health_scores (
  project_id UInt32,
  id String,
  group_type String,
  name String,
  definition String COMMENT 'JSON {components: [{metric, weight, poor, healthy}], thresholds: {healthy, at_risk}}',
  created_at DateTime64(3, 'UTC'),
  updated_at DateTime64(3, 'UTC'),
  last_run_at Nullable(DateTime64(3, 'UTC')),
  last_as_of Nullable(Date),
  last_groups UInt64 DEFAULT 0,
  last_written UInt64 DEFAULT 0,
  deleted UInt8 DEFAULT 0,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (project_id, id);
