import { apiColumns, columnLabel, DEFAULT_LIST, formatChange, listFromSearch, listRequest, listToSearch, propertyColumns, sortedBy, type ListState } from './list-state';

const custom: ListState = {
  columns: ['name', 'active_users_7d', 'plan', 'last_seen'],
  sort: 'events_7d_change',
  order: 'asc',
  filters: [
    { subprop_type: 'group', subprop_key: 'plan', subprop_op: 'is', subprop_value: ['pro', 'enterprise'] },
    { subprop_type: 'metric', subprop_key: 'active_users_30d', subprop_op: 'greater', subprop_value: ['2'] },
  ],
  cohort: 'c-1',
  page: 3,
};

describe('account list state <-> URL', () => {
  it.each([
    ['the default list', DEFAULT_LIST],
    ['a list with everything set', custom],
  ])('round-trips %s', (_name, state) => {
    expect(listFromSearch(new URLSearchParams(listToSearch(state)))).toEqual(state);
  });

  it('writes nothing for the default list, and the API parameter names otherwise', () => {
    expect(listToSearch(DEFAULT_LIST)).toEqual([]);
    expect(Object.fromEntries(listToSearch(custom))).toEqual({
      columns: JSON.stringify(custom.columns),
      sort: 'events_7d_change',
      order: 'asc',
      filters: JSON.stringify(custom.filters),
      cohort: 'c-1',
      page: '3',
    });
  });

  it('falls back to the default for what a damaged link holds', () => {
    const s = listFromSearch(new URLSearchParams({ columns: '[1', order: 'sideways', filters: JSON.stringify([{ subprop_type: 'event' }, custom.filters[0]]), page: '-4' }));
    expect(s).toEqual({ ...DEFAULT_LIST, filters: [custom.filters[0]] });
  });
});

describe('account list request', () => {
  it('asks for each metric with its change, the page, filters and cohort', () => {
    expect(apiColumns(custom)).toEqual(['name', 'active_users_7d', 'active_users_7d_change', 'plan', 'last_seen']);
    expect(propertyColumns(custom)).toEqual(['name', 'plan']);
    expect(Object.fromEntries(listRequest(custom) as [string, string][])).toEqual({
      columns: JSON.stringify(apiColumns(custom)),
      sort: 'events_7d_change',
      order: 'asc',
      filters: JSON.stringify(custom.filters),
      cohort: 'c-1',
      limit: '50',
      offset: '100',
    });
  });

  it('asks for the whole list as CSV, without a page', () => {
    const p = Object.fromEntries(listRequest(custom, 'csv') as [string, string][]);
    expect(p.format).toBe('csv');
    expect(p.limit).toBeUndefined();
    expect(p.offset).toBeUndefined();
  });

  it('sorts by a column descending first, then flips; a new sort starts on page 1', () => {
    const a = sortedBy(custom, 'events_30d');
    expect(a).toMatchObject({ sort: 'events_30d', order: 'desc', page: 1 });
    expect(sortedBy(a, 'events_30d').order).toBe('asc');
    expect(sortedBy(sortedBy(a, 'events_30d'), 'events_30d').order).toBe('desc');
  });
});

describe('list formatting', () => {
  it.each<[number | null, number, string]>([
    [100, 4, '+100%'],
    [-66.7, 1, '−66.7%'],
    [0, 4, '0%'],
    [null, 3, 'new'],
    [null, 0, '–'],
  ])('change %p with current %p reads %s', (change, current, text) => expect(formatChange(change, current)).toBe(text));

  it.each([
    ['active_users_7d', 'Active users (7 days)'],
    ['events_30d_change', 'Events (30 days) % change'],
    ['events_7d_prev', 'Events (7 days), previous period'],
    ['last_seen', 'Last seen'],
    ['plan', 'plan'],
    ['property:events_7d', 'events_7d'],
  ])('labels %s as %s', (c, label) => expect(columnLabel(c)).toBe(label));
});
