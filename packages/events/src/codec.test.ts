import { Codec, UnknownSchemaError, DecodeError, SCHEMA_HEADER, codecs, type IngestRecord } from './index';

const v1Record = {
  kind: 'event', project_id: 7, uuid: 'u-1', receive_time: 1000, event_time: 900, event_type: 'Signed Up',
  user_id: 'alice', device_id: null, insert_id: 'ins-1', session_id: 5, event_id: null,
  event_properties: '{"a":1}', user_properties: '{}', groups: { company: ['acme'] }, context: { country: 'FR' },
  revenue: null, price: null, quantity: null, location_lat: null, location_lng: null,
};

const v1Group = {
  project_id: 7, uuid: 'g-1', receive_time: 1000, event_time: 900, group_type: 'org', group_value: 'acme', group_properties: '{"plan":"x"}',
  source: 'api', user_id: null, device_id: null, insert_id: 'gi-1',
};

describe('Avro codec', () => {
  it('round-trips a current record and stamps the fingerprint header', () => {
    const rec: IngestRecord = { ...(v1Record as unknown as IngestRecord), extra: '{"library":"x"}', receive_pos: 1_762_000_000_000_123, producer_id: 'gw-1' };
    const buf = codecs.ingest.encode(rec);
    const headers = codecs.ingest.headers();
    expect(headers[SCHEMA_HEADER]).toMatch(/^[0-9a-f]{16}$/);
    expect(codecs.ingest.decode(buf, headers)).toEqual(rec);
  });

  it.each([
    ['ingest v1', 'ingest-record.v1.avsc', v1Record, codecs.ingest, { ...v1Record, extra: '{}', receive_pos: 0, producer_id: '' }],
    ['ingest v2', 'ingest-record.v2.avsc', { ...v1Record, extra: '{"a":1}' }, codecs.ingest, { ...v1Record, extra: '{"a":1}', receive_pos: 0, producer_id: '' }],
    ['group identify v1', 'group-identify.v1.avsc', v1Group, codecs.groupIdentify, { ...v1Group, receive_pos: 0, producer_id: '' }],
    ['group identify v2', 'group-identify.v2.avsc', { ...v1Group, source: 'salesforce' }, codecs.groupIdentify, { ...v1Group, source: 'salesforce', receive_pos: 0, producer_id: '' }],
  ] as const)('reads %s data with the current reader, a record without position as unordered (0, "")', (_name, file, record, codec, expected) => {
    const { value, headers } = Codec.encodeWith(file, record);
    expect(headers[SCHEMA_HEADER]).not.toEqual(codec.fingerprint);
    expect((codec.decode as (v: Buffer, h: object) => unknown)(value, headers)).toEqual(expected);
  });

  it('reads v1 group identifies with the current reader and round-trips the salesforce source', () => {
    const v1 = {
      project_id: 7, uuid: 'g-1', receive_time: 1000, event_time: 900, group_type: 'company', group_value: 'acme',
      group_properties: '{"$set":{"plan":"pro"}}', source: 'dynamic_property', user_id: null, device_id: null, insert_id: null,
    };
    const { value, headers } = Codec.encodeWith('group-identify.v1.avsc', v1);
    expect(codecs.groupIdentify.decode(value, headers)).toEqual({ ...v1, receive_pos: 0, producer_id: '' });
    const sf = { ...v1, source: 'salesforce' as const, receive_pos: 5, producer_id: 'gw-1' };
    expect(codecs.groupIdentify.decode(codecs.groupIdentify.encode(sf), codecs.groupIdentify.headers())).toEqual(sf);
  });

  it('reads v3 group identifies with the current reader and round-trips the health_score source; a v3 reader reads health_score as api', () => {
    const v3 = {
      project_id: 7, uuid: 'g-2', receive_time: 1000, event_time: 900, group_type: 'company', group_value: 'acme',
      group_properties: '{"$set":{"plan":"pro"}}', source: 'salesforce', user_id: null, device_id: null, insert_id: null,
      receive_pos: 12, producer_id: 'gw-1',
    };
    const { value, headers } = Codec.encodeWith('group-identify.v3.avsc', v3);
    expect(codecs.groupIdentify.decode(value, headers)).toEqual(v3);
    const hs = { ...v3, source: 'health_score' as const };
    const encoded = codecs.groupIdentify.encode(hs);
    expect(codecs.groupIdentify.decode(encoded, codecs.groupIdentify.headers())).toEqual(hs);
    // a consumer still on v3 (rolling upgrade) resolves the unknown symbol to the enum default
    const older = new Codec('GroupIdentifyRecord', 'group-identify.v3.avsc');
    older.addWriter(codecs.groupIdentify.reader);
    expect(older.decode(encoded, codecs.groupIdentify.headers())).toEqual({ ...v3, source: 'api' });
  });

  it('reads v1 group changes with an empty source, and writes an absent source as empty', () => {
    const v1 = { project_id: 7, group_type: 'company', group_value: 'acme', event_time: 900, receive_time: 1000, properties: '{}', changed: [], removed: [], source_uuid: 'g-1' };
    const { value, headers } = Codec.encodeWith('group-change.v1.avsc', v1);
    expect(codecs.groupChange.decode(value, headers)).toEqual({ ...v1, source: '' });
    expect(codecs.groupChange.decode(codecs.groupChange.encode(v1), codecs.groupChange.headers())).toEqual({ ...v1, source: '' });
    const sf = { ...v1, source: 'salesforce' as const };
    expect(codecs.groupChange.decode(codecs.groupChange.encode(sf), codecs.groupChange.headers())).toEqual(sf);
  });

  it('rejects an unknown writer fingerprint', () => {
    const buf = codecs.ingest.encode({ ...(v1Record as unknown as IngestRecord), extra: '{}', receive_pos: 0, producer_id: '' });
    expect(() => codecs.ingest.decode(buf, { [SCHEMA_HEADER]: 'ffffffffffffffff' })).toThrow(UnknownSchemaError);
  });

  it('rejects bytes that are not a record', () => {
    expect(() => codecs.groupChange.decode(Buffer.from([0xff, 0xff, 0xff]))).toThrow(DecodeError);
  });
});
