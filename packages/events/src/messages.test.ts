import { codecs, SCHEMA_HEADER } from './codec';
import { newIngestRecord } from './builders';
import { recordMessage } from './messages';
import { SlabEncoder } from './slab';
import { groupKey, userKey } from './topics';
import type { EnrichedEvent, GroupChange, GroupIdentifyRecord } from './types';

const ingest = newIngestRecord({ project_id: 3, uuid: 'u-1', receive_time: 2, event_time: 1, event_type: 'Signed Up', user_id: null, device_id: 'dev-9' });
const group: GroupIdentifyRecord = {
  project_id: 3, uuid: 'u-2', receive_time: 2, event_time: 1, group_type: 'org', group_value: 'acme', group_properties: '{}',
  source: 'api', user_id: null, device_id: null, insert_id: null,
};
const enriched: EnrichedEvent = {
  ...ingest, user_id: 'alice', groups: {}, group_properties: [], context: {},
} as unknown as EnrichedEvent;
const change: GroupChange = {
  project_id: 3, group_type: 'org', group_value: 'acme', event_time: 1, receive_time: 2, properties: '{}', changed: [], removed: [], source_uuid: 'u-2',
};

describe('recordMessage', () => {
  it.each([
    ['ingest', recordMessage.ingest(ingest), userKey(3, null, 'dev-9'), codecs.ingest, ingest],
    ['groupIdentify', recordMessage.groupIdentify(group), groupKey(3, 'org', 'acme'), codecs.groupIdentify, group],
    ['enriched', recordMessage.enriched(enriched), userKey(3, 'alice', 'dev-9'), codecs.enriched, enriched],
    ['groupChange', recordMessage.groupChange(change), groupKey(3, 'org', 'acme'), codecs.groupChange, change],
  ] as const)('%s: key, Avro value and schema header', (_kind, msg, key, codec, record) => {
    expect(msg.key).toBe(key);
    expect(msg.headers).toEqual({ [SCHEMA_HEADER]: codec.fingerprint });
    expect((codec.decode as (v: Buffer, h: object) => unknown)(msg.value, msg.headers)).toEqual((codec.decode as (v: Buffer) => unknown)(codec.encode(record as never)));
  });

  it('encodes into a slab to the same bytes', () => {
    const slab = new SlabEncoder();
    const a = recordMessage.ingest(ingest, slab);
    const b = recordMessage.ingest({ ...ingest, uuid: 'u-3' }, slab);
    expect(a.value.buffer).toBe(b.value.buffer);
    expect(Buffer.compare(a.value, codecs.ingest.encode(ingest))).toBe(0);
  });
});
