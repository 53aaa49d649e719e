-- Cohorts of users or of groups (query service, issue 7). One row per saved state of a cohort: the newest
-- `version` wins (ReplacingMergeTree; readers use FINAL or argMax), deletion is a row with deleted = 1.
-- `members_version` names the membership in cohort_members that is current: a refresh inserts the new members
-- under a new version, then writes a cohort row pointing at it, so readers switch atomically and never see a
-- half-written membership. Older versions are deleted afterwards (best effort; readers ignore them anyway).
CREATE TABLE IF NOT EXISTS {db}.cohorts (
  project_id UInt32,
  id String,
  name String,
  count_group String COMMENT '''User'' or a group type',
  kind LowCardinality(String) COMMENT 'behavioral | static',
  definition String DEFAULT '[]' COMMENT 'JSON: the behavioral conditions, or how a static cohort was made',
  size UInt64,
  members_version UInt64,
  created_at DateTime64(3, 'UTC'),
  computed_at DateTime64(3, 'UTC'),
  deleted UInt8 DEFAULT 0,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (project_id, id);

-- Members of each cohort version: a user_key (user id, or '$device:<id>') or a group value.
CREATE TABLE IF NOT EXISTS {db}.cohort_members (
  project_id UInt32,
  cohort_id String,
  version UInt64,
  member String
) ENGINE = MergeTree
ORDER BY (project_id, cohort_id, version, member);
