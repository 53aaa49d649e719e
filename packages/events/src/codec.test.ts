import { Codec, UnknownSchemaError, DecodeError, SCHEMA_HEADER, codecs, type IngestRecord } from './index';

const v1Record = {
  kind: 'event', project_id: 7, uuid: 'u-1', receive_time: 1000, event_time: 900, event_type: 'Signed Up',
  user_id: 'alice', device_id: null, insert_id: 'ins-1', session_id: 5, event_id: null,
  event_properties: '{"a":1}', user_properties: '{}', groups: { company: ['acme'] }, context: { country: 'FR' },
  revenue: null, price: null, quantity: null, location_lat: null, location_lng: null,
};

describe('Avro codec', () => {
  it('round-trips a current record and stamps the fingerprint header', () => {
    const rec: IngestRecord = { ...(v1Record as unknown as IngestRecord), extra: '{"library":"x"}' };
    const buf = codecs.ingest.encode(rec);
    const headers = codecs.ingest.headers();
    expect(headers[SCHEMA_HEADER]).toMatch(/^[0-9a-f]{16}$/);
    expect(codecs.ingest.decode(buf, headers)).toEqual(rec);
  });

  it('reads v1 data with the v2 reader, filling the new field with its default', () => {
    const { value, headers } = Codec.encodeWith('ingest-record.v1.avsc', v1Record);
    expect(headers[SCHEMA_HEADER]).not.toEqual(codecs.ingest.fingerprint);
    const decoded = codecs.ingest.decode(value, headers);
    expect(decoded).toEqual({ ...v1Record, extra: '{}' });
  });

  it('reads v1 group identifies with the v2 reader and round-trips the salesforce source', () => {
    const v1 = {
      project_id: 7, uuid: 'g-1', receive_time: 1000, event_time: 900, group_type: 'company', group_value: 'acme',
      group_properties: '{"$set":{"plan":"pro"}}', source: 'dynamic_property', user_id: null, device_id: null, insert_id: null,
    };
    const { value, headers } = Codec.encodeWith('group-identify.v1.avsc', v1);
    expect(codecs.groupIdentify.decode(value, headers)).toEqual(v1);
    const sf = { ...v1, source: 'salesforce' as const };
    expect(codecs.groupIdentify.decode(codecs.groupIdentify.encode(sf), codecs.groupIdentify.headers())).toEqual(sf);
  });

  it('reads v2 group identifies with the v3 reader and round-trips the health_score source; a v2 reader reads health_score as api', () => {
    const v2 = {
      project_id: 7, uuid: 'g-2', receive_time: 1000, event_time: 900, group_type: 'company', group_value: 'acme',
      group_properties: '{"$set":{"plan":"pro"}}', source: 'salesforce', user_id: null, device_id: null, insert_id: null,
    };
    const { value, headers } = Codec.encodeWith('group-identify.v2.avsc', v2);
    expect(codecs.groupIdentify.decode(value, headers)).toEqual(v2);
    const hs = { ...v2, source: 'health_score' as const };
    const encoded = codecs.groupIdentify.encode(hs);
    expect(codecs.groupIdentify.decode(encoded, codecs.groupIdentify.headers())).toEqual(hs);
    // a consumer still on v2 (rolling upgrade) resolves the unknown symbol to the enum default
    const older = new Codec('GroupIdentifyRecord', 'group-identify.v2.avsc');
    older.addWriter(codecs.groupIdentify.reader);
    expect(older.decode(encoded, codecs.groupIdentify.headers())).toEqual({ ...v2, source: 'api' });
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
    const buf = codecs.ingest.encode({ ...(v1Record as unknown as IngestRecord), extra: '{}' });
    expect(() => codecs.ingest.decode(buf, { [SCHEMA_HEADER]: 'ffffffffffffffff' })).toThrow(UnknownSchemaError);
  });

  it('rejects bytes that are not a record', () => {
    expect(() => codecs.groupChange.decode(Buffer.from([0xff, 0xff, 0xff]))).toThrow(DecodeError);
  });
});
