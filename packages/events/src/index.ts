import { Codec } from './codec';
import type { EnrichedEvent, GroupChange, GroupIdentifyRecord, IngestRecord } from './types';

export * from './codec';
export * from './topics';
export * from './types';
export * from './builders';

/** The codecs of every record groupscope writes to Kafka, each able to read all earlier versions. */
export const codecs = {
  ingest: new Codec<IngestRecord>('IngestRecord', 'ingest-record.v2.avsc', ['ingest-record.v1.avsc']),
  groupIdentify: new Codec<GroupIdentifyRecord>('GroupIdentifyRecord', 'group-identify.v2.avsc', ['group-identify.v1.avsc']),
  enriched: new Codec<EnrichedEvent>('EnrichedEvent', 'enriched-event.v1.avsc'),
  groupChange: new Codec<GroupChange>('GroupChange', 'group-change.v2.avsc', ['group-change.v1.avsc']),
};
