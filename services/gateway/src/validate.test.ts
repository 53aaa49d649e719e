import {
  EventErrors, inspect, normalizeEvent, normalizeGroupIdentify, parseGroups, repairStrings, timeWindow, tooLong, minIdLength, wellFormed, MIN_EVENT_TIME,
  type NormalizedEvent,
} from './validate';

const opts = { minIdLength: 5, remoteIp: '203.0.113.9' };
const deep = (levels: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < levels; i++) v = { k: v };
  return v;
};

function run(raw: unknown, o: Partial<typeof opts> & { forceEventType?: string } = {}) {
  const errors = new EventErrors();
  const e = normalizeEvent(raw, 0, { ...opts, ...o }, errors);
  return { e, errors: { invalid: errors.invalid, missing: errors.missing, idLengths: errors.idLengths } };
}

describe('normalizeEvent: rejects', () => {
  const base = { user_id: 'user-1', event_type: 'Clicked' };
  const cases: [string, unknown, Partial<{ invalid: object; missing: object; idLengths: object }>][] = [
    ['not an object', 'hello', { invalid: { event: [0] } }],
    ['an array', [base], { invalid: { event: [0] } }],
    ['null', null, { invalid: { event: [0] } }],
    ['no ids at all', { event_type: 'x' }, { missing: { user_id: [0] } }],
    ['no event_type', { user_id: 'user-1' }, { missing: { event_type: [0] } }],
    ['empty event_type', { ...base, event_type: '' }, { missing: { event_type: [0] } }],
    ['numeric event_type', { ...base, event_type: 5 }, { invalid: { event_type: [0] } }],
    ['short user_id only', { ...base, user_id: 'abc' }, { idLengths: { user_id: [0] } }],
    ['short ids both', { ...base, user_id: 'abc', device_id: 'de' }, { idLengths: { user_id: [0], device_id: [0] } }],
    ['blocklisted user_id', { ...base, user_id: 'Anonymous' }, { invalid: { user_id: [0] } }],
    ['blocklisted device_id with padding', { event_type: 'x', device_id: ' undefined ' }, { invalid: { device_id: [0] } }],
    ['the zero uuid', { event_type: 'x', device_id: '00000000-0000-0000-0000-000000000000' }, { invalid: { device_id: [0] } }],
    ['user_id "-1"', { ...base, user_id: '-1' }, { invalid: { user_id: [0] } }],
    ['numeric user_id', { ...base, user_id: 12345 }, { invalid: { user_id: [0] } }],
    ['object device_id', { event_type: 'x', device_id: { a: 1 } }, { invalid: { device_id: [0] } }],
    ['float time', { ...base, time: 1.5 }, { invalid: { time: [0] } }],
    ['string time', { ...base, time: '1700000000000' }, { invalid: { time: [0] } }],
    ['negative time', { ...base, time: -5 }, { invalid: { time: [0] } }],
    ['unsafe integer time', { ...base, time: 2 ** 60 }, { invalid: { time: [0] } }],
    ['event_properties not an object', { ...base, event_properties: [1, 2] }, { invalid: { event_properties: [0] } }],
    ['user_properties a string', { ...base, user_properties: 'x' }, { invalid: { user_properties: [0] } }],
    ['properties nested 41 deep', { ...base, event_properties: deep(41) }, { invalid: { event_properties: [0] } }],
    ['unknown key nested 41 deep', { ...base, library: deep(41) }, { invalid: { library: [0] } }],
    ['event_type of 1025 chars', { ...base, event_type: 'e'.repeat(1025) }, { invalid: { event_type: [0] } }],
    ['property value of 1025 chars', { ...base, event_properties: { a: 'v'.repeat(1025) } }, { invalid: { event_properties: [0] } }],
    ['property key of 1025 chars', { ...base, event_properties: { ['k'.repeat(1025)]: 1 } }, { invalid: { event_properties: [0] } }],
    ['user_id of 1025 emoji', { ...base, user_id: '😀'.repeat(1025) }, { invalid: { user_id: [0] } }],
    ['context field an object', { ...base, platform: { os: 'x' } }, { invalid: { platform: [0] } }],
    ['context field too long', { ...base, city: 'c'.repeat(2000) }, { invalid: { city: [0] } }],
    ['revenue not numeric', { ...base, revenue: 'lots' }, { invalid: { revenue: [0] } }],
    ['quantity not an integer', { ...base, quantity: 1.5 }, { invalid: { quantity: [0] } }],
    ['session_id a string', { ...base, session_id: 'abc' }, { invalid: { session_id: [0] } }],
    ['insert_id an object', { ...base, insert_id: {} }, { invalid: { insert_id: [0] } }],
    ['groups an array', { ...base, groups: ['org'] }, { invalid: { groups: [0] } }],
    ['group value an object', { ...base, groups: { org: { id: 1 } } }, { invalid: { groups: [0] } }],
    ['group value too long', { ...base, groups: { org: 'g'.repeat(1025) } }, { invalid: { groups: [0] } }],
    ['plan a number', { ...base, plan: 5 }, { invalid: { plan: [0] } }],
    ['several failures at once', { user_id: 'ab', time: 'x' }, { invalid: { time: [0] }, missing: { event_type: [0] }, idLengths: { user_id: [0] } }],
  ];
  it.each(cases)('%s', (_name, raw, want) => {
    const { e, errors } = run(raw);
    expect(e).toBeNull();
    expect(errors).toEqual({ invalid: {}, missing: {}, idLengths: {}, ...want });
  });
});

describe('normalizeEvent: accepts', () => {
  const cases: [string, unknown, Partial<NormalizedEvent>][] = [
    ['a minimal event', { user_id: 'user-1', event_type: 'x' }, { user_id: 'user-1', device_id: null, event_type: 'x', time: null }],
    ['device_id only', { device_id: 'device-1', event_type: 'x' }, { user_id: null, device_id: 'device-1' }],
    ['short user_id removed when device_id is good', { user_id: 'ab', device_id: 'device-1', event_type: 'x' }, { user_id: null, device_id: 'device-1' }],
    ['blocklisted user_id removed when device_id is good', { user_id: 'null', device_id: 'device-1', event_type: 'x' }, { user_id: null }],
    ['null ids are absent', { user_id: null, device_id: 'device-1', event_type: 'x' }, { user_id: null }],
    ['unicode ids and type', { user_id: 'josé-😀', event_type: 'Überweisung 送金' }, { user_id: 'josé-😀', event_type: 'Überweisung 送金' }],
    ['1024 emoji user_id (2048 UTF-16 units)', { user_id: '😀'.repeat(1024), event_type: 'x' }, { user_id: '😀'.repeat(1024) }],
    ['integer time', { user_id: 'user-1', event_type: 'x', time: 1700000000123 }, { time: 1700000000123 }],
    ['properties nested 40 deep', { user_id: 'user-1', event_type: 'x', event_properties: deep(40) }, {}],
    ['numbers', { user_id: 'user-1', event_type: 'x', price: 9.5, quantity: 2, revenue: '19.0', session_id: -1, event_id: 7, location_lat: 48.85, location_lng: 2.35 },
      { price: 9.5, quantity: 2, revenue: 19, session_id: -1, event_id: 7, location_lat: 48.85, location_lng: 2.35 }],
    ['context fields, coerced to strings', { user_id: 'user-1', event_type: 'x', platform: 'Web', dma: 501, app_version: 2, ip: '1.2.3.4', version_name: 'v1' },
      { context: { platform: 'Web', dma: '501', app_version: '2', ip: '1.2.3.4', version_name: 'v1' } }],
    ['ip $remote = source address', { user_id: 'user-1', event_type: 'x', ip: '$remote' }, { context: { ip: '203.0.113.9' } }],
    ['plan as JSON text', { user_id: 'user-1', event_type: 'x', plan: { branch: 'main', version: '1' } }, { context: { plan: '{"branch":"main","version":"1"}' } }],
    ['unknown keys kept in extra', { user_id: 'user-1', event_type: 'x', library: 'amplitude-node/1.0', partner_id: 'p', ingestion_metadata: { source_name: 's' }, nothing: null, city: null },
      { extra: '{"library":"amplitude-node/1.0","partner_id":"p","ingestion_metadata":{"source_name":"s"},"nothing":null}', context: {} }],
    ['group_properties on a plain event kept in extra', { user_id: 'user-1', event_type: 'x', group_properties: { a: 1 } }, { extra: '{"group_properties":{"a":1}}' }],
    ['groups: string, number, boolean, arrays', { user_id: 'user-1', event_type: 'x', groups: { org: 15, team: ['a', 'b', 'a'], flag: true, gone: null, empty: [] } },
      { groups: { org: ['15'], team: ['a', 'b'], flag: ['true'] }, truncated_groups: [] }],
    ['more than 10 group values: first 10 kept', { user_id: 'user-1', event_type: 'x', groups: { org: Array.from({ length: 12 }, (_, i) => `o${i}`) } },
      { groups: { org: Array.from({ length: 10 }, (_, i) => `o${i}`) }, truncated_groups: ['org'] }],
    ['properties as JSON text', { user_id: 'user-1', event_type: 'x', event_properties: { a: 1, b: [1, 'x'] }, user_properties: { $set: { plan: 'pro' } } },
      { event_properties: '{"a":1,"b":[1,"x"]}', user_properties: '{"$set":{"plan":"pro"}}' }],
    ['numeric insert_id coerced', { user_id: 'user-1', event_type: 'x', insert_id: 42 }, { insert_id: '42' }],
    ['__proto__ keys stay data', JSON.parse('{"user_id":"user-1","event_type":"x","__proto__":{"polluted":1},"groups":{"__proto__":"g"}}'),
      { extra: '{"__proto__":{"polluted":1}}', groups: JSON.parse('{"__proto__":["g"]}') }],
  ];
  it.each(cases)('%s', (_name, raw, want) => {
    const { e, errors } = run(raw);
    expect(errors).toEqual({ invalid: {}, missing: {}, idLengths: {} });
    expect(e).toMatchObject(want as object);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('lowers the id length rule with min_id_length', () => {
    expect(run({ user_id: 'ab', event_type: 'x' }, { minIdLength: 2 }).e?.user_id).toBe('ab');
    expect(minIdLength({ min_id_length: 2 })).toBe(2);
    expect(minIdLength({ min_id_length: 'x' })).toBe(5);
    expect(minIdLength(undefined)).toBe(5);
  });

  it('forces $identify for /identify objects and ignores their event_type', () => {
    const { e } = run({ user_id: 'user-1', event_type: 'whatever', user_properties: { a: 1 } }, { forceEventType: '$identify' });
    expect(e).toMatchObject({ event_type: '$identify', extra: '{}' });
  });
});

describe('helpers', () => {
  it('counts characters, not UTF-16 units', () => {
    expect(tooLong('a'.repeat(1024))).toBe(false);
    expect(tooLong('a'.repeat(1025))).toBe(true);
    expect(tooLong('😀'.repeat(1024))).toBe(false);
    expect(tooLong('😀'.repeat(1025))).toBe(true);
  });

  it('inspects nesting without recursion (100k levels)', () => {
    let v: unknown = 1;
    for (let i = 0; i < 100_000; i++) v = [v];
    expect(inspect(v)).toBe('too_deep');
    expect(inspect(deep(40))).toBe('ok');
    expect(inspect(deep(41))).toBe('too_deep');
  });

  it('parses groups and rejects bad shapes', () => {
    expect(parseGroups(undefined)).toEqual({ groups: {}, truncated: [] });
    expect(parseGroups('org')).toBeUndefined();
    expect(parseGroups({ '': 'x' })).toBeUndefined();
    expect(parseGroups({ org: [['nested']] })).toBeUndefined();
  });
});

describe('normalizeGroupIdentify', () => {
  const cases: [string, unknown, object | null, object][] = [
    ['plain', { group_type: 'org', group_value: 'acme', group_properties: { plan: 'ent' } }, { group_type: 'org', group_value: 'acme', group_properties: '{"plan":"ent"}' }, {}],
    ['numeric value coerced', { group_type: 'org', group_value: 15 }, { group_value: '15', group_properties: '{}' }, {}],
    ['missing type', { group_value: 'acme' }, null, { missing: { group_type: [0] } }],
    ['missing value', { group_type: 'org' }, null, { missing: { group_value: [0] } }],
    ['array value', { group_type: 'org', group_value: ['a'] }, null, { invalid: { group_value: [0] } }],
    ['bad properties', { group_type: 'org', group_value: 'a', group_properties: 'x' }, null, { invalid: { group_properties: [0] } }],
    ['not an object', 7, null, { invalid: { identification: [0] } }],
  ];
  it.each(cases)('%s', (_n, raw, want, wantErrors) => {
    const errors = new EventErrors();
    const g = normalizeGroupIdentify(raw, 0, errors);
    if (want) expect(g).toMatchObject(want);
    else expect(g).toBeNull();
    expect({ invalid: errors.invalid, missing: errors.missing }).toEqual({ invalid: {}, missing: {}, ...wantErrors });
  });
});

describe('event time window', () => {
  const received = Date.UTC(2026, 5, 1, 12);
  const times = timeWindow(received, 86_400_000);
  const at = (time: unknown) => run({ user_id: 'user-1', event_type: 'x', time }, { times } as never);
  it.each([
    ['the year 3000', Date.UTC(3000, 0, 1)],
    ['a day and a second ahead', received + 86_401_000],
    ['before 2000', MIN_EVENT_TIME - 1],
    ['zero', 0],
    ['microseconds instead of milliseconds', received * 1000],
  ])('refuses %s under time', (_n, time) => {
    expect(at(time)).toEqual({ e: null, errors: { invalid: { time: [0] }, missing: {}, idLengths: {} } });
  });
  it.each([
    ['2000-01-01', MIN_EVENT_TIME],
    ['a day ahead exactly', received + 86_400_000],
    ['ten years ago', Date.UTC(2016, 0, 1)],
  ])('accepts %s', (_n, time) => {
    expect(at(time).e?.time).toBe(time);
  });
  it('refuses what storage cannot hold even without a receive time', () => {
    expect(run({ user_id: 'user-1', event_type: 'x', time: Date.UTC(3000, 0, 1) }).errors.invalid).toEqual({ time: [0] });
  });
  it('applies to group identifications', () => {
    const errors = new EventErrors();
    expect(normalizeGroupIdentify({ group_type: 'org', group_value: 'acme', time: Date.UTC(3000, 0, 1) }, 0, errors, times)).toBeNull();
    expect(errors.invalid).toEqual({ time: [0] });
  });
});

describe('repairing text', () => {
  it.each([
    ['a lone high surrogate', 'a\ud800b', 'a\ufffdb'],
    ['a lone low surrogate', '\udc00', '\ufffd'],
    ['reversed pair', '\udc00\ud800', '\ufffd\ufffd'],
    ['a high surrogate at the end', 'x\udbff', 'x\ufffd'],
    ['a valid pair stays', '😀', '😀'],
    ['plain text stays', 'plain ünï', 'plain ünï'],
  ])('wellFormed: %s', (_n, input, want) => {
    expect(wellFormed(input)).toBe(want);
    expect(Buffer.from(wellFormed(input), 'utf8').toString('utf8')).toBe(want);
  });

  it('repairs strings and keys anywhere in a parsed value, keeping __proto__ a plain key', () => {
    const v = JSON.parse('{"a":"\\ud800","\\udc00k":[1,{"b":["x\\udbff"]}],"__proto__":{"c":"\\ud801"},"ok":"😀"}');
    repairStrings(v);
    expect(JSON.stringify(v)).toBe(JSON.stringify(JSON.parse('{"a":"\\ufffd","__proto__":{"c":"\\ufffd"},"ok":"😀","\\ufffdk":[1,{"b":["x\\ufffd"]}]}')));
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(repairStrings('\ud800')).toBe('\ufffd');
  });

  it('walks absurd nesting without recursion', () => {
    let v: unknown = '\ud800';
    for (let i = 0; i < 100_000; i++) v = [v];
    expect(() => repairStrings(v)).not.toThrow();
  });
});
