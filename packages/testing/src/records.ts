// Record builders for tests and benchmarks: each fills every field with a plausible value, `o` overrides any.
import { randomUUID } from 'node:crypto';
import {
  newIngestRecord,
  recordMessage,
  type EnrichedEvent,
  type GroupChange,
  type GroupIdentifyRecord,
  type IngestRecord,
  type RecordMessage,
} from '@groupscope/events';

const BASE = Date.UTC(2026, 10, 2, 9, 0, 0);

/** An ingest event of 'alice' now; `identifyRecord` for an identify. */
export function ingestRecord(o: Partial<IngestRecord> = {}): IngestRecord {
  const now = Date.now();
  return newIngestRecord({ project_id: 1, uuid: randomUUID(), receive_time: now, event_time: now, event_type: 'Page Viewed', user_id: 'alice', ...o });
}

export const identifyRecord = (o: Partial<IngestRecord>) => ingestRecord({ kind: 'identify', event_type: '$identify', ...o });

/** A group identify of org 'acme' now, without properties. */
export function groupIdentifyRecord(o: Partial<GroupIdentifyRecord> = {}): GroupIdentifyRecord {
  const now = Date.now();
  return {
    project_id: 1,
    uuid: randomUUID(),
    receive_time: now,
    event_time: now,
    group_type: 'org',
    group_value: 'acme',
    group_properties: '{}',
    source: 'api',
    user_id: null,
    device_id: null,
    insert_id: null,
    ...o,
  };
}

/** Enriched event i: user u<i % 11>, company c<i % 7> and team t<i % 3> with their property snapshots. */
export function enrichedEvent(i: number, o: Partial<EnrichedEvent> = {}): EnrichedEvent {
  const company = `c${i % 7}`;
  const team = `t${i % 3}`;
  return {
    project_id: 1,
    uuid: randomUUID(),
    receive_time: BASE + i * 1000 + 50,
    event_time: BASE + i * 1000,
    event_type: ['Page Viewed', 'Invoice Sent', 'Report Exported'][i % 3]!,
    user_id: `u${i % 11}`,
    device_id: null,
    insert_id: `ins-${i}`,
    session_id: null,
    event_id: i,
    event_properties: JSON.stringify({ amount: i % 500, page: `/p/${i % 5}` }),
    user_properties: JSON.stringify({ role: i % 2 ? 'admin' : 'member' }),
    groups: { company: [company], team: [team] },
    group_properties: [
      { group_type: 'company', group_value: company, properties: JSON.stringify({ plan: ['free', 'pro'][i % 2], seats: i % 50 }) },
      { group_type: 'team', group_value: team, properties: '{}' },
    ],
    context: { platform: 'Web' },
    revenue: i % 4 === 0 ? i / 10 : null,
    price: null,
    quantity: null,
    location_lat: null,
    location_lng: null,
    extra: '{}',
    ...o,
  };
}

/** Group change i: company g<i> on plan pro with i seats. */
export function groupChange(i: number, o: Partial<GroupChange> = {}): GroupChange {
  return {
    project_id: 1,
    group_type: 'company',
    group_value: `g${i}`,
    event_time: BASE + i * 1000,
    receive_time: BASE + i * 1000 + 20,
    properties: JSON.stringify({ plan: 'pro', seats: i }),
    changed: ['plan', 'seats'],
    removed: [],
    source_uuid: randomUUID(),
    ...o,
  };
}

/** The enricher's message of an enriched event (usable with Array.map). */
export const eventMessage = (e: EnrichedEvent): RecordMessage => recordMessage.enriched(e);
/** The enricher's message of a group change (usable with Array.map). */
export const changeMessage = (c: GroupChange): RecordMessage => recordMessage.groupChange(c);
