// Topic names and their settings. Every name carries TOPIC_PREFIX so stacks and test files can share a cluster.

export interface TopicSpec {
  name: string;
  /** compacted changelogs keep the last value per key forever; others are time-retained streams */
  compacted: boolean;
  /**
   * The topic whose partition count this one must share (co-partitioned state: partition p of the state belongs to
   * partition p of that input), or undefined.
   */
  coPartition?: 'ingest' | 'group-identify';
  retentionMs?: number;
  /** segment roll time: a compacted topic is compacted only in closed segments, so a frequently rewritten key needs short ones */
  segmentMs?: number;
}

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

export interface Topics {
  /** events and identifies; key = project:user (user_id, else device_id) */
  ingest: string;
  /** group identifies; key = project:group_type:group_value */
  groupIdentify: string;
  /** enriched events; key = project:user */
  enriched: string;
  /** every group property change, for property history; key = project:group_type:group_value */
  groupChanges: string;
  /** enricher user state (groups + properties), co-partitioned with ingest; key = project:user */
  usersChangelog: string;
  /**
   * enricher group state (every group's property versions and each group-identify partition's watermark),
   * co-partitioned with group-identify and read whole by every instance
   */
  groupsChangelog: string;
  /** enricher insert_id de-duplication window, co-partitioned with ingest */
  dedupChangelog: string;
  /** enricher insert_id de-duplication window of group identifies, co-partitioned with group-identify */
  groupDedupChangelog: string;
  /** records that could not be processed, with the reason in headers */
  dlq: string;
}

export function topicNames(prefix: string): Topics {
  return {
    ingest: `${prefix}ingest`,
    groupIdentify: `${prefix}group-identify`,
    enriched: `${prefix}events-enriched`,
    groupChanges: `${prefix}group-changes`,
    usersChangelog: `${prefix}enricher-users-changelog`,
    groupsChangelog: `${prefix}enricher-groups-changelog`,
    dedupChangelog: `${prefix}enricher-dedup-changelog`,
    groupDedupChangelog: `${prefix}enricher-group-dedup-changelog`,
    dlq: `${prefix}dlq`,
  };
}

export function topicSpecs(t: Topics): TopicSpec[] {
  return [
    { name: t.ingest, compacted: false, coPartition: 'ingest', retentionMs: 7 * DAY },
    { name: t.groupIdentify, compacted: false, coPartition: 'group-identify', retentionMs: 7 * DAY },
    { name: t.enriched, compacted: false, coPartition: 'ingest', retentionMs: 7 * DAY },
    { name: t.groupChanges, compacted: false, retentionMs: 7 * DAY },
    { name: t.usersChangelog, compacted: true, coPartition: 'ingest' },
    // each group-identify transaction rewrites its partition's watermark record: short segments keep the part that
    // compaction has not reached (and every instance reads at start) small
    { name: t.groupsChangelog, compacted: true, coPartition: 'group-identify', segmentMs: HOUR },
    { name: t.dedupChangelog, compacted: true, coPartition: 'ingest' },
    { name: t.groupDedupChangelog, compacted: true, coPartition: 'group-identify' },
    { name: t.dlq, compacted: false, retentionMs: 30 * DAY },
  ];
}

/** Kafka message key of a user's records: events, identifies, enriched events and user state share it. */
export function userKey(projectId: number, userId: string | null | undefined, deviceId: string | null | undefined): string {
  // JSON keeps the key unambiguous whatever characters the ids hold (compacted changelogs rely on that)
  return userId ? JSON.stringify([projectId, 'u', userId]) : JSON.stringify([projectId, 'd', deviceId ?? '']);
}

/** Kafka message key of a group's records. */
export function groupKey(projectId: number, groupType: string, groupValue: string): string {
  return JSON.stringify([projectId, groupType, groupValue]);
}
