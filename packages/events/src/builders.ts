import type { IngestRecord } from './types';

/** The fields every IngestRecord must be given; the rest default to empty. */
export type IngestRecordCore = Pick<IngestRecord, 'project_id' | 'uuid' | 'receive_time' | 'event_time' | 'event_type'>;

/** An event IngestRecord with every optional field empty (nulls, `{}` bags); `fields` overrides any of them. */
export function newIngestRecord(fields: IngestRecordCore & Partial<IngestRecord>): IngestRecord {
  return {
    kind: 'event',
    user_id: null,
    device_id: null,
    insert_id: null,
    session_id: null,
    event_id: null,
    event_properties: '{}',
    user_properties: '{}',
    groups: {},
    context: {},
    revenue: null,
    price: null,
    quantity: null,
    location_lat: null,
    location_lng: null,
    extra: '{}',
    receive_pos: 0,
    producer_id: '',
    ...fields,
  };
}
