import { codecs, groupKey, userKey, type GroupIdentifyRecord, type IngestRecord } from '@groupscope/events';
import type { Project } from '@groupscope/projects';
import { parseJson, processEvents, processGroupIdentify, processIdentify, type Accepted, type Rejected, type RequestContext } from './protocol';
import { Throttle } from './throttle';
import { ReceiveClock } from './positions';

const project = (throttle = { enabled: false, httpapi_eps: 30, batch_eps: 1000 }): Project => ({
  id: 7, name: 'p', api_key: 'key-7', secret_salt: 's', secret_hash: 'h', time_zone: 'UTC', throttle, created_at: '2026-01-01T00:00:00Z',
});

function ctx(p: Project = project(), overrides: Partial<RequestContext> = {}): RequestContext {
  let n = 0;
  return {
    lookup: (k) => (k === p.api_key ? p : undefined),
    throttle: new Throttle(1000, () => 1_000_000),
    limits: { maxEvents: 2000, maxIdentifications: 1024, maxRecordBytes: 900_000 },
    receiveTime: 1_700_000_000_000,
    position: new ReceiveClock('gw-test', () => 1_700_000_000_000),
    uuid: () => `uuid-${++n}`,
    remoteIp: '198.51.100.4',
    ...overrides,
  };
}

const ok = (r: Accepted | Rejected): Accepted => {
  if (!r.ok) throw new Error(`rejected: ${JSON.stringify(r.reply)}`);
  return r;
};
const rejected = (r: Accepted | Rejected): Rejected => {
  if (r.ok) throw new Error('accepted');
  return r;
};

const decodeIngest = (a: Accepted) =>
  a.messages.filter((m) => m.role === 'ingest').map((m) => ({ key: m.key, rec: codecs.ingest.decode(m.value, m.headers) as IngestRecord }));
const decodeGroups = (a: Accepted) =>
  a.messages.filter((m) => m.role === 'groupIdentify').map((m) => ({ key: m.key, rec: codecs.groupIdentify.decode(m.value, m.headers) as GroupIdentifyRecord }));

describe('parseJson', () => {
  it.each([
    ['malformed', '{"api_key": '],
    ['empty', ''],
    ['trailing garbage', '{"a":1} x'],
    ['binary', '\u0000\u0001\u0002'],
  ])('returns undefined for %s', (_n, text) => {
    expect(parseJson(Buffer.from(text))).toBeUndefined();
  });
  it('stores valid Unicode: lone surrogate escapes and invalid bytes become U+FFFD', () => {
    const text = '{"a":"x\\ud800y","\\udfffk":"\\ud83d\\ude00","esc":"\\\\ud800"}';
    expect(parseJson(Buffer.from(text))).toEqual({ a: 'x\ufffdy', '\ufffdk': '😀', esc: '\\ud800' });
    expect(parseJson(Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28, 0xed, 0xa0, 0x80, 0xff]), Buffer.from('"}')]))).toEqual({ a: '\ufffd(\ufffd\ufffd\ufffd\ufffd' });
  });
  it('tolerates a byte-order mark and survives absurd nesting', () => {
    expect(parseJson(Buffer.from('\ufeff{"a":1}'))).toEqual({ a: 1 });
    expect(() => parseJson(Buffer.from('['.repeat(200_000) + ']'.repeat(200_000)))).not.toThrow();
  });
});

describe('processEvents: request-level rules', () => {
  const cases: [string, unknown, number, Record<string, unknown>][] = [
    ['body not an object', [1, 2], 400, { code: 400, error: 'Invalid JSON request body' }],
    ['missing api_key', { events: [] }, 400, { code: 400, error: 'Request missing required field', missing_field: 'api_key' }],
    ['unknown api_key', { api_key: 'nope', events: [] }, 400, { code: 400, error: 'Invalid API key: nope' }],
    ['numeric api_key', { api_key: 7, events: [] }, 400, { code: 400, error: 'Invalid API key: 7' }],
    ['no events array', { api_key: 'key-7', events: {} }, 400, { code: 400, error: 'Request missing required field', missing_field: 'events' }],
    ['2001 events', { api_key: 'key-7', events: Array.from({ length: 2001 }, () => ({ user_id: 'user-1', event_type: 'x' })) }, 413, { code: 413, error: 'Payload too large' }],
  ];
  it.each(cases)('%s', (_n, body, status, reply) => {
    const r = rejected(processEvents(body, 'httpapi', ctx()));
    expect(r.reply.status).toBe(status);
    expect(r.reply.body).toEqual(reply);
  });

  it('lists every failing event by index and rejects the request whole', () => {
    const events = [
      { user_id: 'user-1', event_type: 'ok' },
      { user_id: 'user-1', event_type: 'x', time: 'yesterday' },
      { user_id: 'user-1' },
      { user_id: 'abc', event_type: 'x' },
      { user_id: 'user-1', event_type: 'x', time: 1.25 },
    ];
    const r = rejected(processEvents({ api_key: 'key-7', events }, 'batch', ctx()));
    expect(r.reply).toEqual({
      status: 400,
      body: {
        code: 400,
        error: 'Invalid field values on some events',
        events_with_invalid_fields: { time: [1, 4] },
        events_with_missing_fields: { event_type: [2] },
        events_with_invalid_id_lengths: { user_id: [3] },
      },
    });
  });

  it('refuses events dated in the far future or before 2000 under time, naming their indices', () => {
    const t = 1_700_000_000_000;
    const events = [
      { user_id: 'user-1', event_type: 'x', time: Date.UTC(3000, 0, 1) },
      { user_id: 'user-1', event_type: 'x', time: t + 3_600_000 },
      { user_id: 'user-1', event_type: 'x', time: Date.UTC(1999, 11, 31) },
    ];
    const r = rejected(processEvents({ api_key: 'key-7', events }, 'httpapi', ctx(project(), { receiveTime: t })));
    expect(r.reply.body).toMatchObject({ code: 400, events_with_invalid_fields: { time: [0, 2] } });
    const g = rejected(processGroupIdentify({ api_key: 'key-7', identification: JSON.stringify({ group_type: 'org', group_value: 'acme', time: Date.UTC(3000, 0, 1) }) }, ctx()));
    expect(g.reply.body).toMatchObject({ code: 400, events_with_invalid_fields: { time: [0] } });
  });

  it('repairs lone surrogates in identifications', () => {
    const a = ok(processIdentify({ api_key: 'key-7', identification: '{"user_id":"user-\\ud800","user_properties":{"\\udc00":"v\\ud800"}}' }, ctx()));
    const [rec] = decodeIngest(a);
    expect(rec!.rec.user_id).toBe('user-\ufffd');
    expect(JSON.parse(rec!.rec.user_properties)).toEqual({ '\ufffd': 'v\ufffd' });
  });

  it('rejects an event whose record would exceed the record size limit', () => {
    const props = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, 'v'.repeat(1000)]));
    const r = rejected(processEvents({ api_key: 'key-7', events: [{ user_id: 'user-1', event_type: 'x' }, { user_id: 'user-1', event_type: 'x', event_properties: props }] }, 'batch', ctx(project(), {
      limits: { maxEvents: 2000, maxIdentifications: 1024, maxRecordBytes: 100_000 },
    })));
    expect(r.reply.body.events_with_invalid_fields).toEqual({ event: [1] });
  });

  it('accepts an empty events array', () => {
    const a = ok(processEvents({ api_key: 'key-7', events: [] }, 'httpapi', ctx()));
    expect(a.messages).toHaveLength(0);
    expect(a.count).toBe(0);
  });
});

describe('processEvents: records', () => {
  it('maps events to IngestRecords keyed by user, with server-side uuid and receive time', () => {
    const a = ok(processEvents({
      api_key: 'key-7',
      client_upload_time: '2026-01-01',
      options: { min_id_length: 3 },
      events: [
        { user_id: 'bob', device_id: 'dev-1', event_type: 'Invoice Sent', time: 1_699_999_999_000, insert_id: 'ins-1', session_id: 5,
          event_properties: { amount: 12.5 }, groups: { org: 'acme' }, platform: 'Web', ip: '$remote', library: 'x/1', revenue: 3 },
        { device_id: 'dev-2', event_type: 'Viewed' },
      ],
    }, 'httpapi', ctx()));
    const recs = decodeIngest(a);
    expect(recs).toHaveLength(2);
    expect(recs[0]!.key).toBe(userKey(7, 'bob', 'dev-1'));
    expect(recs[1]!.key).toBe(userKey(7, null, 'dev-2'));
    expect(recs[0]!.rec).toEqual({
      kind: 'event', project_id: 7, uuid: 'uuid-1', receive_time: 1_700_000_000_000, event_time: 1_699_999_999_000,
      event_type: 'Invoice Sent', user_id: 'bob', device_id: 'dev-1', insert_id: 'ins-1', session_id: 5, event_id: null,
      event_properties: '{"amount":12.5}', user_properties: '{}', groups: { org: ['acme'] },
      context: { platform: 'Web', ip: '198.51.100.4' }, revenue: 3, price: null, quantity: null, location_lat: null, location_lng: null,
      extra: '{"library":"x/1"}', receive_pos: 1_700_000_000_000_000, producer_id: 'gw-test',
    });
    expect(recs[1]!.rec.event_time).toBe(1_700_000_000_000);
    expect(recs[1]!.rec.receive_pos).toBe(1_700_000_000_000_001);
    expect(a.kinds).toEqual({ event: 2, identify: 0, group_identify: 0 });
  });

  it('computes revenue from price and quantity when an event has no revenue, as Amplitude does', () => {
    const a = ok(processEvents({
      api_key: 'key-7',
      events: [
        { user_id: 'buyer-1', event_type: 'Purchased', price: 9.5, quantity: 2 },
        { user_id: 'buyer-1', event_type: 'Purchased', price: 4 },
        { user_id: 'buyer-1', event_type: 'Purchased', price: 4, quantity: 2, revenue: 5 },
      ],
    }, 'httpapi', ctx()));
    expect(decodeIngest(a).map((r) => [r.rec.revenue, r.rec.price, r.rec.quantity])).toEqual([[19, 9.5, 2], [4, 4, null], [5, 4, 2]]);
  });

  it('sends $identify as kind identify and $groupidentify as one GroupIdentifyRecord per group', () => {
    const a = ok(processEvents({
      api_key: 'key-7',
      events: [
        { user_id: 'user-1', event_type: '$identify', user_properties: { $set: { org: '15' } }, groups: { org: '15' } },
        { user_id: 'user-1', event_type: '$groupidentify', groups: { org: ['15', '16'], team: 'a' }, group_properties: { $set: { plan: 'ent' } } },
      ],
    }, 'httpapi', ctx()));
    const ingest = decodeIngest(a);
    expect(ingest).toHaveLength(1);
    expect(ingest[0]!.rec).toMatchObject({ kind: 'identify', event_type: '$identify', groups: { org: ['15'] }, user_properties: '{"$set":{"org":"15"}}' });
    const groups = decodeGroups(a);
    expect(groups.map((g) => [g.key, g.rec.group_type, g.rec.group_value, g.rec.group_properties])).toEqual([
      [groupKey(7, 'org', '15'), 'org', '15', '{"$set":{"plan":"ent"}}'],
      [groupKey(7, 'org', '16'), 'org', '16', '{"$set":{"plan":"ent"}}'],
      [groupKey(7, 'team', 'a'), 'team', 'a', '{"$set":{"plan":"ent"}}'],
    ]);
    expect(groups[0]!.rec).toMatchObject({ source: 'api', user_id: 'user-1', project_id: 7 });
    expect(a.kinds).toEqual({ event: 0, identify: 1, group_identify: 3 });
    expect(a.count).toBe(2);
  });

  it('gives every record a receive position, strictly increasing in request order, continuing across requests', () => {
    const c = ctx();
    const first = ok(processEvents({
      api_key: 'key-7',
      events: [
        { user_id: 'user-1', event_type: '$groupidentify', groups: { org: ['15', '16'] }, group_properties: { $set: { plan: 'ent' } } },
        { user_id: 'user-1', event_type: 'A' },
        { user_id: 'user-2', event_type: '$identify', user_properties: { $set: { x: 1 } } },
        { user_id: 'user-3', event_type: 'B' },
      ],
    }, 'httpapi', c));
    const second = ok(processGroupIdentify({ api_key: 'key-7', identification: JSON.stringify({ group_type: 'org', group_value: '15', group_properties: { a: 1 } }) }, c));
    const positions = [first, second].flatMap((a) => a.messages.map((m) => {
      const rec = m.role === 'ingest' ? codecs.ingest.decode(m.value, m.headers) : codecs.groupIdentify.decode(m.value, m.headers);
      expect(rec.producer_id).toBe('gw-test');
      return rec.receive_pos!;
    }));
    // the clock stands still in this test: positions count on from now * 1000, one per record, in request order
    expect(positions).toEqual([0, 1, 2, 3, 4, 5].map((i) => 1_700_000_000_000_000 + i));
  });

  it('rejects a $groupidentify without groups', () => {
    const r = rejected(processEvents({ api_key: 'key-7', events: [{ user_id: 'user-1', event_type: '$groupidentify', group_properties: { a: 1 } }] }, 'httpapi', ctx()));
    expect(r.reply.body.events_with_missing_fields).toEqual({ groups: [0] });
  });

  it('reports truncated group values', () => {
    const a = ok(processEvents({
      api_key: 'key-7',
      events: [{ user_id: 'user-1', event_type: 'x' }, { user_id: 'user-1', event_type: 'x', groups: { org: Array.from({ length: 11 }, (_, i) => `o${i}`) } }],
    }, 'httpapi', ctx()));
    expect(a.notes).toEqual({ events_with_truncated_groups: { org: [1] } });
    expect(decodeIngest(a)[1]!.rec.groups.org).toHaveLength(10);
  });
});

describe('processEvents: throttling', () => {
  const throttled = project({ enabled: true, httpapi_eps: 30, batch_eps: 1000 });
  it('answers 429 in Amplitude shape when one id exceeds the limit in a request', () => {
    const events = [
      ...Array.from({ length: 31 }, () => ({ user_id: 'hot-user', device_id: 'dev-cool', event_type: 'x' })),
      { user_id: 'calm-user', event_type: 'x' },
    ];
    const r = rejected(processEvents({ api_key: 'key-7', events }, 'httpapi', ctx(throttled)));
    expect(r.reply.status).toBe(429);
    expect(r.reply.body).toMatchObject({ code: 429, eps_threshold: 30, throttled_users: { 'hot-user': 31 }, throttled_devices: { 'dev-cool': 31 } });
    expect(r.reply.body.throttled_events).toEqual(Array.from({ length: 31 }, (_, i) => i));
  });
  it('is off unless the project enables it', () => {
    const events = Array.from({ length: 100 }, () => ({ user_id: 'hot-user', event_type: 'x' }));
    expect(processEvents({ api_key: 'key-7', events }, 'httpapi', ctx()).ok).toBe(true);
  });
});

describe('processIdentify / processGroupIdentify', () => {
  const ident = JSON.stringify({ user_id: 'user-1', user_properties: { plan: 'pro' }, groups: { org: 'acme' }, country: 'FR' });
  it('accepts one object, with options "undefined"', () => {
    const a = ok(processIdentify({ api_key: 'key-7', identification: ident, options: 'undefined' }, ctx()));
    const [r] = decodeIngest(a);
    expect(r!.key).toBe(userKey(7, 'user-1', null));
    expect(r!.rec).toMatchObject({ kind: 'identify', event_type: '$identify', user_properties: '{"plan":"pro"}', groups: { org: ['acme'] }, context: { country: 'FR' } });
  });
  it('accepts an array and JSON options', () => {
    const a = ok(processIdentify({ api_key: 'key-7', identification: JSON.stringify([{ user_id: 'ab' }, { device_id: 'device-9' }]), options: '{"min_id_length":2}' }, ctx()));
    expect(decodeIngest(a)).toHaveLength(2);
  });
  it.each([
    ['no identification', { api_key: 'key-7' }, 400, 'missing_event'],
    ['identification not JSON', { api_key: 'key-7', identification: '{nope' }, 400, 'invalid_event: identification is not valid JSON'],
    ['empty array', { api_key: 'key-7', identification: '[]' }, 400, 'missing_event'],
    ['no api_key', { identification: ident }, 400, 'Request missing required field'],
    ['bad api_key', { api_key: 'x', identification: ident }, 400, 'Invalid API key: x'],
    ['1025 identifications', { api_key: 'key-7', identification: JSON.stringify(Array.from({ length: 1025 }, () => ({ user_id: 'user-1' }))) }, 413, 'Payload too large'],
    ['object without id', { api_key: 'key-7', identification: '{"user_properties":{}}' }, 400, 'invalid_event: invalid values on some identifications'],
  ])('rejects %s', (_n, fields, status, error) => {
    const r = rejected(processIdentify(fields, ctx()));
    expect(r.reply.status).toBe(status);
    expect(r.reply.body.code).toBe(status);
    expect(r.reply.body.error).toBe(error);
  });
  it('turns group identifications into GroupIdentifyRecords keyed by group', () => {
    const a = ok(processGroupIdentify({
      api_key: 'key-7',
      identification: JSON.stringify([{ group_type: 'org', group_value: 'acme', group_properties: { $set: { plan: 'ent' } } }, { group_type: 'org', group_value: 42 }]),
    }, ctx()));
    expect(decodeGroups(a).map((g) => [g.key, g.rec.group_value, g.rec.group_properties])).toEqual([
      [groupKey(7, 'org', 'acme'), 'acme', '{"$set":{"plan":"ent"}}'],
      [groupKey(7, 'org', '42'), '42', '{}'],
    ]);
  });
  it('rejects a group identification without a group_type', () => {
    const r = rejected(processGroupIdentify({ api_key: 'key-7', identification: '{"group_value":"a"}' }, ctx()));
    expect(r.reply.body.events_with_missing_fields).toEqual({ group_type: [0] });
  });
});
