import { admitsZero, CohortDefinitionError, parseCohortDefinition } from './definition';

describe('parseCohortDefinition', () => {
  it('fills defaults and copies filters', () => {
    const filters = [{ subprop_type: 'event', subprop_key: 'amount', subprop_op: 'greater', subprop_value: ['100'] }];
    const [c] = parseCohortDefinition([{ type: 'event', event_type: 'Invoice Sent', filters }]);
    expect(c).toEqual({ type: 'event', event_type: 'Invoice Sent', filters, op: '>=', value: 1, time_type: 'rolling', time_value: 30 });
    filters[0]!.subprop_key = 'changed';
    expect(c?.type === 'event' && (c.filters[0] as { subprop_key: string }).subprop_key).toBe('amount');
  });

  it('takes group property conditions, on current properties by default', () => {
    const values = ['enterprise'];
    const [c, d] = parseCohortDefinition([
      { type: 'group_property', group_type: 'company', subprop_key: 'plan', subprop_op: 'is', subprop_value: values },
      { type: 'group_property', group_type: 'company', subprop_op: 'is', subprop_value: ['acme'], gpMode: 'event', time_value: 7 },
    ]);
    expect(c).toEqual({ type: 'group_property', group_type: 'company', subprop_key: 'plan', subprop_op: 'is', subprop_value: ['enterprise'], gpMode: 'current', time_value: 30 });
    expect(d).toEqual({ type: 'group_property', group_type: 'company', subprop_op: 'is', subprop_value: ['acme'], gpMode: 'event', time_value: 7 });
    values[0] = 'changed';
    expect(c?.type === 'group_property' && c.subprop_value).toEqual(['enterprise']);
  });

  it.each([
    [null, 'definition'],
    [[], 'definition'],
    [[{ type: 'property' }], 'definition[0].type'],
    [[{ type: 'group_property', subprop_op: 'is', subprop_value: ['x'] }], 'definition[0].group_type'],
    [[{ type: 'group_property', group_type: 'company', subprop_key: '', subprop_op: 'is', subprop_value: ['x'] }], 'definition[0].subprop_key'],
    [[{ type: 'group_property', group_type: 'company', subprop_value: ['x'] }], 'definition[0].subprop_op'],
    [[{ type: 'group_property', group_type: 'company', subprop_op: 'is', subprop_value: 'x' }], 'definition[0].subprop_value'],
    [[{ type: 'group_property', group_type: 'company', subprop_op: 'is', subprop_value: ['x'], gpMode: 'later' }], 'definition[0].gpMode'],
    [[{ type: 'group_property', group_type: 'company', subprop_op: 'is', subprop_value: ['x'], time_value: 0 }], 'definition[0].time_value'],
    [[{ type: 'event' }], 'definition[0].event_type'],
    [[{ type: 'event', event_type: 'x', op: '=>' }], 'definition[0].op'],
    [[{ type: 'event', event_type: 'x', value: -1 }], 'definition[0].value'],
    [[{ type: 'event', event_type: 'x', value: '3' }], 'definition[0].value'],
    [[{ type: 'event', event_type: 'x', time_type: 'absolute' }], 'definition[0].time_type'],
    [[{ type: 'event', event_type: 'x', time_value: 0 }], 'definition[0].time_value'],
    [[{ type: 'event', event_type: 'x', filters: {} }], 'definition[0].filters'],
    [[{ type: 'event', event_type: 'x' }, 'nope'], 'definition[1]'],
  ])('rejects %j naming %s', (raw, param) => {
    expect(() => parseCohortDefinition(raw)).toThrow(CohortDefinitionError);
    try {
      parseCohortDefinition(raw);
    } catch (err) {
      expect((err as CohortDefinitionError).param).toBe(param);
    }
  });

  it.each([
    ['>=', 1, false],
    ['>=', 0, true],
    ['>', 0, false],
    ['<=', 0, true],
    ['<=', 5, true],
    ['<', 1, true],
    ['<', 0, false],
    ['=', 0, true],
    ['=', 2, false],
    ['!=', 0, false],
    ['!=', 2, true],
  ] as const)('%s %d admits zero: %p', (op, value, expected) => {
    expect(admitsZero({ op, value })).toBe(expected);
  });
});
