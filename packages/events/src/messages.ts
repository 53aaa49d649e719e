// The Kafka message of every record groupscope produces: the partitioning key (one user's records share a
// partition, as do one group's), the Avro value, and the header naming the writer schema. Every producer of a
// record builds it here, so key, encoding and headers cannot drift apart.
import { codecs, type Codec } from './codec';
import type { SlabEncoder } from './slab';
import { groupKey, userKey } from './topics';
import type { EnrichedEvent, GroupChange, GroupIdentifyRecord, IngestRecord } from './types';

export interface RecordMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** Builds the message of one record; with a slab, the value is a view into it (see SlabEncoder). */
export type MessageBuilder<T> = (record: T, slab?: SlabEncoder) => RecordMessage;

function builder<T>(codec: Codec<T>, keyOf: (record: T) => string): MessageBuilder<T> {
  // shared by every message: nothing downstream writes to headers
  const headers = codec.headers();
  return (record, slab) => ({ key: keyOf(record), value: slab ? slab.encode(codec.reader, record) : codec.encode(record), headers });
}

export const recordMessage = {
  /** ingest topic: events and identifies, keyed by user */
  ingest: builder<IngestRecord>(codecs.ingest, (r) => userKey(r.project_id, r.user_id, r.device_id)),
  /** group-identify topic, keyed by group */
  groupIdentify: builder<GroupIdentifyRecord>(codecs.groupIdentify, (r) => groupKey(r.project_id, r.group_type, r.group_value)),
  /** events-enriched topic, keyed by user like the ingest record it came from */
  enriched: builder<EnrichedEvent>(codecs.enriched, (e) => userKey(e.project_id, e.user_id, e.device_id)),
  /** group-changes topic, keyed by group */
  groupChange: builder<GroupChange>(codecs.groupChange, (c) => groupKey(c.project_id, c.group_type, c.group_value)),
};
