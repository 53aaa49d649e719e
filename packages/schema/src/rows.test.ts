import type { EnrichedEvent, GroupChange } from '@groupscope/events';
import { changeRows, eventRows, groupLine, monthOf, propertyBag, typedBag, typedProperties, type Row } from './rows';
import { COLUMNS, EVENT_INPUT } from './tables';

const T = Date.UTC(2026, 10, 3, 10, 0, 0, 123);

function event(over: Partial<EnrichedEvent> = {}): EnrichedEvent {
  return {
    project_id: 7,
    uuid: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
    receive_time: T + 5,
    event_time: T,
    event_type: 'Invoice Sent',
    user_id: 'alice',
    device_id: null,
    insert_id: 'ins-1',
    session_id: 1700000000000,
    event_id: null,
    event_properties: '{"amount":120,"paid":true,"tags":["a","b"],"meta":{"x":1},"note":"hi","gone":null}',
    user_properties: '{"role":"admin"}',
    groups: { company: ['acme', 'acme', 'globex'], org: [] },
    group_properties: [
      { group_type: 'company', group_value: 'acme', properties: '{"plan":"enterprise","seats":40}' },
      { group_type: 'company', group_value: 'globex', properties: '{}' },
    ],
    context: { platform: 'Web', country: 'FR' },
    revenue: 9.5,
    price: null,
    quantity: 3,
    location_lat: null,
    location_lng: Number.NaN,
    extra: '{"library":"x"}',
    ...over,
  };
}

/** A JSONCompactEachRow line back into {column: value}. */
function parse(table: keyof typeof COLUMNS | 'event line', line: string): Record<string, unknown> {
  expect(line.endsWith('\n')).toBe(true);
  expect(line.indexOf('\n')).toBe(line.length - 1);
  const values = JSON.parse(line) as unknown[];
  const columns = table === 'event line' ? EVENT_INPUT.map(([c]) => c) : COLUMNS[table];
  expect(values).toHaveLength(columns.length);
  return Object.fromEntries(columns.map((c, i) => [c, values[i]]));
}

function ok<T>(out: { kind: 'ok'; value: T } | { kind: 'invalid'; error: string }): T {
  if (out.kind !== 'ok') throw new Error(out.error);
  return out.value;
}

describe('propertyBag', () => {
  it.each([
    ['{"s":"x","n":1.5,"b":false,"a":[1,"2"],"o":{"k":"v"},"z":null}', { s: 'x', n: '1.5', b: 'false', a: '[1,"2"]', o: '{"k":"v"}' }],
    ['{}', {}],
    ['{"":"empty key","ü":"ünï"}', { '': 'empty key', ü: 'ünï' }],
  ])('maps %s', (json, bag) => {
    expect(propertyBag(json, 'p')).toEqual(bag);
  });

  it.each(['[1,2]', 'null', '"text"', '12', '{not json'])('rejects %s', (json) => {
    expect(() => propertyBag(json, 'p')).toThrow(/p is not/);
  });
});

describe('typedBag', () => {
  it('names the keys whose value the bag holds as JSON text, so a string that looks like JSON stays a string', () => {
    const parsed = JSON.parse('{"s":"x","looks":"[1,2]","n":1.5,"b":false,"a":[1,"2"],"o":{"k":"v"},"z":null}') as unknown;
    expect(typedBag(parsed, 'p')).toEqual({
      bag: { s: 'x', looks: '[1,2]', n: '1.5', b: 'false', a: '[1,"2"]', o: '{"k":"v"}' },
      jsonKeys: ['n', 'b', 'a', 'o'],
    });
  });

  it('reads back as the object it came from (typedProperties), __proto__ as an ordinary key', () => {
    const props = JSON.parse('{"s":"x","looks":"[1,2]","n":1.5,"b":false,"a":[1,"2"],"o":{"k":"v"},"__proto__":[3]}') as Record<string, unknown>;
    const { bag, jsonKeys } = typedBag(props, 'p');
    const back = typedProperties(bag, jsonKeys);
    expect(back).toEqual(props);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toContain('__proto__');
    expect(typedProperties({ n: 'not json' }, ['n'])).toEqual({ n: 'not json' });
  });
});

describe('monthOf', () => {
  it.each([
    [Date.UTC(2026, 0, 1), 202601],
    [Date.UTC(2026, 0, 31, 23, 59, 59, 999), 202601],
    [Date.UTC(2026, 1, 1), 202602],
    [0, 197001],
  ])('%p -> %p', (ms, m) => expect(monthOf(ms)).toBe(m));
});

describe('eventRows', () => {
  it('maps an enriched event to one line: the events row and its group rows', () => {
    const row = ok(eventRows(event(), 3, 42));
    expect(row).toMatchObject({ offset: 42, month: 202611, groupRows: 2 });
    expect(parse('event line', row.line)).toEqual({
      project_id: 7,
      event_time: T,
      event_type: 'Invoice Sent',
      uuid: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
      user_id: 'alice',
      device_id: '',
      insert_id: 'ins-1',
      session_id: 1700000000000,
      event_id: -1,
      event_properties: { amount: '120', paid: 'true', tags: '["a","b"]', meta: '{"x":1}', note: 'hi' },
      // the keys whose value is JSON text: every one but the string
      event_properties_json_keys: ['amount', 'paid', 'tags', 'meta'],
      user_properties: { role: 'admin' },
      user_properties_json_keys: [],
      groups: { company: ['acme', 'globex'] },
      group_properties: JSON.stringify({ company: { acme: { plan: 'enterprise', seats: 40 }, globex: {} } }),
      context: { platform: 'Web', country: 'FR' },
      revenue: 9.5,
      price: null,
      quantity: 3,
      location_lat: null,
      location_lng: null,
      extra: '{"library":"x"}',
      receive_time: T + 5,
      kafka_partition: 3,
      kafka_offset: 42,
      // one event_groups row per distinct group value, with that group's snapshot as a bag
      group_rows: [
        ['company', 'acme', { plan: 'enterprise', seats: '40' }, ['seats']],
        ['company', 'globex', {}, []],
      ],
      want: 3,
    });
    expect(row.line.endsWith('3]\n')).toBe(true);
  });

  it('gives a group without a snapshot an empty bag, and an event without groups no group rows', () => {
    const a = ok(eventRows(event({ groups: { team: ['t1'] }, group_properties: [] }), 0, 1));
    expect(parse('event line', a.line).group_rows).toEqual([['team', 't1', {}, []]]);
    const b = ok(eventRows(event({ groups: {}, group_properties: [] }), 0, 1));
    expect(b.groupRows).toBe(0);
    expect(parse('event line', b.line)).toMatchObject({ groups: {}, group_properties: '{}', group_rows: [] });
  });

  it('keeps hostile text as data, on one line', () => {
    const hostile = "x'); DROP TABLE events; --\\ \"q\" \n\t ünïcødé \u2028";
    const row = ok(eventRows(event({ event_type: hostile, user_id: hostile, event_properties: JSON.stringify({ [hostile]: hostile }), groups: { [hostile]: [hostile] }, group_properties: [] }), 0, 1));
    expect(parse('event line', row.line)).toMatchObject({
      event_type: hostile,
      user_id: hostile,
      event_properties: { [hostile]: hostile },
      group_rows: [[hostile, hostile, {}, []]],
    });
  });

  it.each<[string, Partial<EnrichedEvent>, RegExp]>([
    ['bad uuid', { uuid: 'not-a-uuid' }, /uuid/],
    ['negative time', { event_time: -1 }, /event_time/],
    ['time beyond 2200', { event_time: Date.UTC(2200, 0, 1) }, /event_time/],
    ['fractional time', { event_time: 1.5 }, /event_time/],
    ['bad receive time', { receive_time: Number.MAX_SAFE_INTEGER }, /receive_time/],
    ['negative project', { project_id: -3 }, /project_id/],
    ['event_properties not JSON', { event_properties: '{' }, /event_properties is not JSON/],
    ['user_properties a list', { user_properties: '[1]' }, /user_properties is not a JSON object/],
    ['snapshot not JSON', { group_properties: [{ group_type: 'c', group_value: 'v', properties: 'x' }] }, /snapshot/],
    ['snapshot a list', { group_properties: [{ group_type: 'c', group_value: 'v', properties: '[1]' }] }, /snapshot/],
  ])('rejects %s', (_name, over, error) => {
    const out = eventRows(event(over), 0, 1);
    expect(out.kind).toBe('invalid');
    if (out.kind === 'invalid') expect(out.error).toMatch(error);
  });
});

describe('changeRows', () => {
  const change = (over: Partial<GroupChange> = {}): GroupChange => ({
    project_id: 7,
    group_type: 'company',
    group_value: 'acme',
    event_time: T,
    receive_time: T + 9,
    properties: '{"plan":"enterprise","seats":40,"tags":["x"]}',
    changed: ['plan', 'seats', 'tags'],
    removed: ['region'],
    source_uuid: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
    source: 'salesforce',
    ...over,
  });

  it('maps a change to the current row (first_identified filled in later) and one history row per property', () => {
    const out = changeRows(change(), 1, 99);
    if (out.kind !== 'ok') throw new Error(out.error);
    const g = out.value.group;
    expect(g).toMatchObject({ offset: 99, updatedAt: T, key: { project_id: 7, group_type: 'company', group_value: 'acme' } });
    expect(parse('groups', groupLine(g, T - 1000))).toEqual({
      project_id: 7,
      group_type: 'company',
      group_value: 'acme',
      properties: { plan: 'enterprise', seats: '40', tags: '["x"]' },
      properties_json: '{"plan":"enterprise","seats":40,"tags":["x"]}',
      updated_at: T,
      first_identified: T - 1000,
      kafka_partition: 1,
      kafka_offset: 99,
    });
    const history = out.value.history.map((r: Row) => parse('group_property_history', r.line));
    expect(history.map((h) => [h.property, h.value, h.removed])).toEqual([
      ['plan', 'enterprise', 0],
      ['seats', '40', 0],
      ['tags', '["x"]', 0],
      ['region', '', 1],
    ]);
    expect(history[0]).toEqual({
      project_id: 7, group_type: 'company', property: 'plan', value: 'enterprise', group_value: 'acme',
      event_time: T, removed: 0, receive_time: T + 9, source: 'salesforce', kafka_partition: 1, kafka_offset: 99,
    });
    expect(out.value.history.every((r) => r.offset === 99 && r.month === 0 && r.groupRows === 1)).toBe(true);
  });

  it('writes a first identify without properties as a current row and no history', () => {
    const out = changeRows(change({ properties: '{}', changed: [], removed: [] }), 0, 1);
    if (out.kind !== 'ok') throw new Error(out.error);
    expect(out.value.history).toEqual([]);
  });

  it.each<[string, Partial<GroupChange>]>([
    ['properties not JSON', { properties: 'nope' }],
    ['properties a list', { properties: '[]' }],
    ['bad time', { event_time: -5 }],
  ])('rejects %s', (_name, over) => {
    expect(changeRows(change(over), 0, 1).kind).toBe('invalid');
  });
});
