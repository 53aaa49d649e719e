import {
  parseCountGroup, parseEventDef, parseG, parseGpMode, parseLimit, parsePropName, parseSegments, propCondition,
} from './request';
import { single } from '../http/params';

const e = (v: unknown) => JSON.stringify(v);
const param400 = (param: string, code?: string) =>
  expect.objectContaining({ status: 400, ...(code ? { code } : {}), details: [expect.objectContaining({ param })] });

describe('parseEventDef', () => {
  it('parses filters of every kind and group-bys', () => {
    const def = parseEventDef(
      'e',
      e({
        event_type: 'Invoice Sent',
        filters: [
          { subprop_type: 'event', subprop_key: 'amount', subprop_op: 'greater', subprop_value: ['100'] },
          { subprop_type: 'user', subprop_key: 'gp:role', subprop_op: 'is', subprop_value: ['admin', 7, true] },
          { subprop_type: 'user', subprop_key: 'country', subprop_op: 'is not', subprop_value: ['(none)'] },
          { subprop_type: 'group', group_type: 'company', subprop_key: 'plan', subprop_op: 'is', subprop_value: ['enterprise'] },
          { subprop_type: 'group', group_type: 'company', subprop_op: 'is', subprop_value: ['42'] },
        ],
        group_by: [{ type: 'group', group_type: 'company', value: 'region' }, { type: 'group', group_type: 'company' }],
      }),
    );
    expect(def.eventType).toBe('Invoice Sent');
    expect(def.filters.map((f) => [f.prop, f.op, f.values, f.number, f.none])).toEqual([
      [{ kind: 'event', key: 'amount' }, 'greater', ['100'], 100, undefined],
      [{ kind: 'user', key: 'role' }, 'is', ['admin', '7', 'true'], undefined, undefined],
      [{ kind: 'context', key: 'country' }, 'is not', [], undefined, true],
      [{ kind: 'group', groupType: 'company', key: 'plan' }, 'is', ['enterprise'], undefined, undefined],
      [{ kind: 'groupValue', groupType: 'company' }, 'is', ['42'], undefined, undefined],
    ]);
    expect(def.groupBy).toEqual([
      { kind: 'group', groupType: 'company', key: 'region' },
      { kind: 'groupValue', groupType: 'company' },
    ]);
  });

  it.each([
    ['malformed JSON', '{"event_type": "x"', 'invalid_json'],
    ['no event_type', e({ filters: [] }), 'invalid_definition'],
    ['unknown operator', e({ event_type: 'x', filters: [{ subprop_type: 'event', subprop_key: 'a', subprop_op: 'like', subprop_value: ['1'] }] }), 'unknown_operator'],
    ['numeric operator without a number', e({ event_type: 'x', filters: [{ subprop_type: 'event', subprop_key: 'a', subprop_op: 'less', subprop_value: ['ten'] }] }), 'invalid_value'],
    ['a number too large for a double', e({ event_type: 'x', filters: [{ subprop_type: 'event', subprop_key: 'a', subprop_op: 'less', subprop_value: ['1e400'] }] }), 'invalid_value'],
    ['a filter without values', e({ event_type: 'x', filters: [{ subprop_type: 'event', subprop_key: 'a', subprop_op: 'is', subprop_value: [] }] }), 'missing_value'],
    ['a group filter without group_type', e({ event_type: 'x', filters: [{ subprop_type: 'group', subprop_key: 'plan', subprop_op: 'is', subprop_value: ['a'] }] }), 'invalid_definition'],
    ['three group-bys', e({ event_type: 'x', group_by: [{ type: 'event', value: 'a' }, { type: 'event', value: 'b' }, { type: 'event', value: 'c' }] }), 'invalid_definition'],
    ['an unknown subprop_type', e({ event_type: 'x', filters: [{ subprop_type: 'cohort', subprop_key: 'a', subprop_op: 'is', subprop_value: ['1'] }] }), 'invalid_definition'],
  ])('rejects %s naming the parameter', (_name, raw, code) => {
    expect(() => parseEventDef('e2', raw)).toThrow(param400('e2', code));
  });

  it('takes "(none)" as "not set" only in is / is not, and $revenue as the revenue column', () => {
    const prop = { kind: 'event', key: 'p' } as const;
    expect(propCondition('e', prop, 'is', ['(none)', 'a'])).toMatchObject({ values: ['a'], none: true });
    expect(propCondition('e', prop, 'contains', ['(none)'])).toMatchObject({ values: ['(none)'] });
    expect(propCondition('e', prop, 'contains', ['(none)']).none).toBeUndefined();
    const def = parseEventDef('e', e({ event_type: 'x', filters: [{ subprop_type: 'event', subprop_key: '$revenue', subprop_op: 'greater', subprop_value: ['1'] }] }));
    expect(def.filters[0]!.prop).toEqual({ kind: 'eventColumn', name: '$revenue', column: 'revenue' });
  });

  it.each(['contains', 'starts with', 'does not start with', 'glob match', 'glob does not match'])('limits %s to 100 values', (op) => {
    const values = Array.from({ length: 101 }, (_, i) => `v${i}`);
    expect(() => propCondition('s', { kind: 'event', key: 'p' }, op, values)).toThrow(param400('s', 'invalid_value'));
    expect(propCondition('s', { kind: 'event', key: 'p' }, op, values.slice(1)).values).toHaveLength(100);
  });

  it('accepts huge but finite numbers', () => {
    const c = propCondition('e', { kind: 'event', key: 'n' }, 'greater or equal', ['123456789012345678901234567890']);
    expect(c.number).toBeCloseTo(1.2345678901234568e29);
  });
});

describe('segments and property names', () => {
  it('parses property conditions and leaves cohorts to their handler', () => {
    const s = parseSegments('s', e([
      { prop: 'gp:role', op: 'is', values: ['admin'] },
      { prop: 'group:company:plan', op: 'is not', values: ['free'] },
      { prop: 'group:company', op: 'is', values: ['acme'] },
      { prop: 'version', op: 'contains', values: ['2.'] },
      { prop: 'cohort', op: 'is', values: ['abc'] },
    ]));
    expect(s.map((c) => (c.kind === 'prop' ? c.prop : c.name))).toEqual([
      { kind: 'user', key: 'role' },
      { kind: 'group', groupType: 'company', key: 'plan' },
      { kind: 'groupValue', groupType: 'company' },
      { kind: 'context', key: 'app_version' },
      'cohort',
    ]);
    expect(parseSegments('s', undefined)).toEqual([]);
  });

  it.each([
    ['not JSON', '[{', 'invalid_json'],
    ['not an array', e({ prop: 'x' }), 'invalid_definition'],
    ['unknown operator', e([{ prop: 'gp:x', op: 'between', values: ['1'] }]), 'unknown_operator'],
  ])('rejects %s', (_n, raw, code) => {
    expect(() => parseSegments('s', raw)).toThrow(param400('s', code));
  });

  it('parses g and property names with colons in them', () => {
    expect(parseG('group:company:billing:plan')).toEqual({ kind: 'group', groupType: 'company', key: 'billing:plan' });
    expect(parseG('user_id')).toEqual({ kind: 'column', column: 'user_id' });
    expect(parseG(undefined)).toBeUndefined();
    expect(() => parsePropName('g', 'group:')).toThrow(param400('g'));
    expect(() => parsePropName('g', 'gp:')).toThrow(param400('g'));
  });
});

describe('other parameters', () => {
  it('reads countGroup, gpMode and limit', () => {
    expect(parseCountGroup(undefined)).toBeNull();
    expect(parseCountGroup('User')).toBeNull();
    expect(parseCountGroup('company')).toBe('company');
    expect(parseGpMode(undefined)).toBe('event');
    expect(parseGpMode('current')).toBe('current');
    expect(() => parseGpMode('now')).toThrow(param400('gpMode'));
    expect(parseLimit(undefined)).toBe(100);
    expect(parseLimit('5')).toBe(5);
    expect(() => parseLimit('0')).toThrow(param400('limit'));
    expect(() => parseLimit('1001')).toThrow(param400('limit'));
    expect(() => parseLimit('1e3')).toThrow(param400('limit'));
    expect(() => single('m', ['a', 'b'])).toThrow(param400('m'));
  });
});
