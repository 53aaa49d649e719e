// Generated records as the gateway would publish them (IngestRecord, GroupIdentifyRecord): what the Kafka sink
// sends, and what the ClickHouse sink's stamper enriches.
import { randomUUID } from 'node:crypto';
import { newIngestRecord, type GroupIdentifyRecord, type IngestRecord } from '@groupscope/events';
import type { GenRecord } from './model';

export function ingestRecord(r: Exclude<GenRecord, { kind: 'group' }>, projectId: number, now: number): IngestRecord {
  const identify = r.kind === 'identify';
  return newIngestRecord({
    kind: identify ? 'identify' : 'event',
    project_id: projectId,
    uuid: randomUUID(),
    receive_time: now,
    event_time: r.time,
    event_type: identify ? '$identify' : r.eventType,
    user_id: r.userId,
    insert_id: identify ? null : r.insertId,
    event_properties: identify ? '{}' : JSON.stringify(r.eventProperties),
    user_properties: identify ? JSON.stringify({ $set: r.userProperties }) : '{}',
    groups: identify ? r.groups : (r.groups ?? {}),
    context: { platform: 'Web' },
  });
}

export function groupIdentifyRecord(r: Extract<GenRecord, { kind: 'group' }>, projectId: number, now: number): GroupIdentifyRecord {
  return {
    project_id: projectId,
    uuid: randomUUID(),
    receive_time: now,
    event_time: r.time,
    group_type: r.groupType,
    group_value: r.groupValue,
    group_properties: JSON.stringify({ $set: r.properties }),
    source: 'api',
    user_id: null,
    device_id: null,
    insert_id: null,
  };
}
