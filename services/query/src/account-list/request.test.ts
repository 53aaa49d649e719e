import { propCondition } from '../charts/request';
import { ApiError } from '../http/errors';
import { columnName, DEFAULT_COLUMNS, namedProperties, parseColumn, parseListRequest } from './request';
import { orderAndFilterNeeds } from './store';

const NOW = Date.UTC(2026, 10, 30, 15);
const parse = (q: Record<string, unknown>) => parseListRequest('company', q, NOW, propCondition);

function error(q: Record<string, unknown>): { param?: unknown; code: string; message: string } {
  try {
    parse(q);
  } catch (err) {
    if (err instanceof ApiError) return { param: err.details[0]?.param, code: err.code, message: err.message };
    throw err;
  }
  throw new Error('no error');
}

describe('list columns', () => {
  it.each([
    ['group_value', { kind: 'group_value' }],
    ['last_seen', { kind: 'seen', name: 'last_seen' }],
    ['active_users_7d', { kind: 'number', name: 'active_users_7d' }],
    ['events_30d_change', { kind: 'number', name: 'events_30d_change' }],
    ['events_30d_prev', { kind: 'number', name: 'events_30d_prev' }],
    ['days_since_last_seen', { kind: 'number', name: 'days_since_last_seen' }],
    ['plan', { kind: 'property', key: 'plan' }],
    ['property:events_7d', { kind: 'property', key: 'events_7d' }],
    ['property:property:x', { kind: 'property', key: 'property:x' }],
  ])('%s is %j and names itself back', (raw, col) => {
    expect(parseColumn('columns', raw)).toEqual(col);
    expect(columnName(parseColumn('columns', raw))).toBe(raw === 'property:property:x' ? 'property:x' : raw);
  });

  it('names a property that shadows a metric with its prefix', () => {
    expect(columnName({ kind: 'property', key: 'active_users_1d' })).toBe('property:active_users_1d');
  });
});

describe('parseListRequest', () => {
  it('defaults: every metric and its change, sorted by 30-day active users, as of yesterday (UTC), first page of 50', () => {
    const r = parse({});
    expect(r).toMatchObject({ order: 'desc', asOf: '2026-11-29', limit: 50, offset: 0, format: 'json', filters: [], cohorts: [], excludeCohorts: [], namedProperties: false });
    expect(r.sort).toEqual({ kind: 'number', name: 'active_users_30d' });
    expect(r.columns.map(columnName)).toEqual([...DEFAULT_COLUMNS]);
    expect(DEFAULT_COLUMNS).toContain('active_users_1d_change');
  });

  it('reads columns (group_value and repeats dropped), sort, filters, cohorts and paging', () => {
    const r = parse({
      columns: JSON.stringify(['plan', 'group_value', 'events_7d', 'plan']),
      sort: 'plan',
      order: 'asc',
      filters: JSON.stringify([
        { subprop_type: 'group', subprop_key: 'plan', subprop_op: 'is', subprop_value: ['pro', 'enterprise'] },
        { subprop_type: 'metric', subprop_key: 'events_7d_change', subprop_op: 'less', subprop_value: [-20] },
      ]),
      cohort: ['c1', 'c2'],
      exclude_cohort: 'c3',
      as_of: '20261115',
      limit: '10',
      offset: '20',
      format: 'csv',
    });
    expect(r.columns).toEqual([{ kind: 'property', key: 'plan' }, { kind: 'number', name: 'events_7d' }]);
    expect(r).toMatchObject({ order: 'asc', asOf: '2026-11-15', cohorts: ['c1', 'c2'], excludeCohorts: ['c3'], limit: 10, offset: 20, format: 'csv', namedProperties: true });
    expect(r.filters).toEqual([
      { kind: 'property', cond: expect.objectContaining({ prop: { kind: 'group', groupType: 'company', key: 'plan' }, op: 'is', values: ['pro', 'enterprise'] }) },
      { kind: 'number', name: 'events_7d_change', op: 'less', values: [-20], param: 'filters[1]' },
    ]);
    expect(namedProperties(r)).toEqual([
      { prop: { kind: 'group', groupType: 'company', key: 'plan' }, param: 'columns' },
      { prop: { kind: 'group', groupType: 'company', key: 'plan' }, param: 'sort' },
      { prop: { kind: 'group', groupType: 'company', key: 'plan' }, param: 'filters' },
    ]);
  });

  it('takes a group filter without a key as a test of the group value', () => {
    const r = parse({ filters: JSON.stringify([{ subprop_type: 'group', subprop_op: 'contains', subprop_value: ['ac'] }]) });
    expect(r.filters[0]).toMatchObject({ kind: 'property', cond: { prop: { kind: 'groupValue', groupType: 'company' }, op: 'contains' } });
  });

  it.each<[Record<string, unknown>, string, string, RegExp]>([
    [{ columns: '["x"' }, 'columns', 'invalid_json', /not valid JSON/],
    [{ columns: '[]' }, 'columns', 'invalid_parameter', /1 to 50/],
    [{ columns: JSON.stringify(['property:']) }, 'columns', 'invalid_parameter', /names no property/],
    [{ sort: ['a', 'b'] }, 'sort', 'invalid_parameter', /once/],
    [{ order: 'sideways' }, 'order', 'invalid_parameter', /asc, desc/],
    [{ filters: JSON.stringify({}) }, 'filters', 'invalid_definition', /filters/],
    [{ filters: JSON.stringify([{ subprop_type: 'event', subprop_key: 'x', subprop_op: 'is', subprop_value: ['1'] }]) }, 'filters', 'invalid_definition', /subprop_type/],
    [{ filters: JSON.stringify([{ subprop_type: 'group', subprop_key: 'plan', subprop_op: 'is' }]) }, 'filters', 'missing_value', /^filters\[0\]: .*at least one value/],
    [{ filters: JSON.stringify([{ subprop_type: 'group', subprop_key: 'seats', subprop_op: 'greater', subprop_value: ['lots'] }]) }, 'filters', 'invalid_value', /finite number/],
    [{ filters: JSON.stringify([{ subprop_type: 'metric', subprop_key: 'events_7d', subprop_op: 'contains', subprop_value: ['1'] }]) }, 'filters', 'unknown_operator', /metric condition/],
    [{ filters: JSON.stringify([{ subprop_type: 'metric', subprop_key: 'events_7d', subprop_op: 'less', subprop_value: ['1', '2'] }]) }, 'filters', 'invalid_value', /exactly one/],
    [{ filters: JSON.stringify([{ subprop_type: 'metric', subprop_key: 'plan', subprop_op: 'less', subprop_value: ['1'] }]) }, 'filters', 'unknown_metric', /usage metric/],
    [{ cohort: Array.from({ length: 21 }, (_, i) => `c${i}`) }, 'cohort', 'invalid_parameter', /at most 20/],
    [{ as_of: '20261301' }, 'as_of', 'invalid_date', /not a valid date/],
    [{ as_of: '20261201' }, 'as_of', 'invalid_date', /after today/],
    [{ as_of: '20100101' }, 'as_of', 'invalid_date', /ten years/],
    [{ limit: '1001' }, 'limit', 'invalid_parameter', /1 to 1000/],
  ])('rejects %j (%s, %s)', (q, param, code, message) => {
    const e = error(q);
    expect(e).toMatchObject({ param, code });
    expect(e.message).toMatch(message);
  });

  it('allows today as as_of', () => {
    expect(parse({ as_of: '20261130' }).asOf).toBe('2026-11-30');
  });
});

describe('what the order and the filters read', () => {
  it('is the sort column and the filtered columns only', () => {
    expect(orderAndFilterNeeds(parse({}))).toEqual({ numbers: ['active_users_30d'], properties: [], seen: false });
    expect(orderAndFilterNeeds(parse({ sort: 'last_seen' }))).toEqual({ numbers: [], properties: [], seen: true });
    expect(orderAndFilterNeeds(parse({ sort: 'group_value', cohort: 'c1' }))).toEqual({ numbers: [], properties: [], seen: false });
    const r = parse({
      sort: 'seats',
      filters: JSON.stringify([
        { subprop_type: 'metric', subprop_key: 'events_7d_change', subprop_op: 'less', subprop_value: [0] },
        { subprop_type: 'metric', subprop_key: 'days_since_last_seen', subprop_op: 'greater', subprop_value: [3] },
        { subprop_type: 'group', subprop_key: 'plan', subprop_op: 'is', subprop_value: ['pro'] },
        { subprop_type: 'group', subprop_op: 'is', subprop_value: ['acme'] },
      ]),
    });
    expect(orderAndFilterNeeds(r)).toEqual({ numbers: ['events_7d_change', 'days_since_last_seen'], properties: ['seats', 'plan'], seen: false });
  });
});
