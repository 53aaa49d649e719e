import {
  chartIssues, defaultState, dynamicPropertyProblem, fromSearch, microscopeParams, toApiRequest, toSearch, withChart, type ChartState,
} from './state';

const today = Date.UTC(2026, 10, 15, 13, 30); // 2026-11-15
const base = defaultState(today);

const funnel: ChartState = {
  ...defaultState(today, 'funnels'),
  events: [
    { event: 'Trial Started', filters: [{ type: 'group', groupType: 'company', key: 'plan', op: 'is', values: ['free', 'pro'] }] },
    { event: 'Invoice Sent', filters: [{ type: 'event', key: 'amount', op: 'greater', values: ['100'] }] },
    { event: 'Payment Received', filters: [{ type: 'user', key: 'gp:role', op: 'is not', values: ['viewer'] }] },
  ],
  groupBy: [{ type: 'group', groupType: 'company', key: 'region' }],
  countGroup: 'company',
  start: '20261001',
  end: '20261031',
  mode: 'unordered',
  cs: 86_400,
  gpMode: 'current',
  segments: [
    { prop: 'cohort', op: 'is', values: ['c-123'] },
    { prop: 'group:company:plan', op: 'is', values: ['pro'] },
  ],
};

describe('chart state <-> URL', () => {
  const cases: [string, ChartState][] = [
    ['the default chart', base],
    ['a funnel with filters of every kind, a group-by, segments and a cohort', funnel],
    ['segmentation: two events, weekly totals', { ...base, events: [{ event: 'Page Viewed', filters: [] }, { event: '_all', filters: [] }], metric: 'totals', interval: '7' }],
    ['segmentation: sums of a numeric property, by account', { ...base, metric: 'sums', valueProp: 'amount', groupBy: [{ type: 'group', groupType: 'company' }] }],
    ['segmentation: hourly, as bars', { ...base, interval: '-3600000', display: 'bar' }],
    ['retention: new users, rolling, monthly', { ...defaultState(today, 'retention'), interval: '30', rolling: true }],
    [
      'retention: a start event with filters, a return event',
      { ...defaultState(today, 'retention'), events: [{ event: 'Dashboard Viewed', filters: [{ type: 'event', key: 'widgets', op: 'less', values: ['3'] }] }, { event: 'Report Exported', filters: [] }] },
    ],
    ['values with awkward characters', { ...base, segments: [{ prop: 'gp:name', op: 'is', values: ['a&b=c', '"quoted"', 'ünïcode ✓', '%20'] }] }],
  ];
  it.each(cases)('round-trips %s', (_name, state) => {
    const { state: back, problems } = fromSearch(toSearch(state), today);
    expect(problems).toEqual([]);
    expect(back).toEqual(state);
  });

  it('also reads the URL with a leading "?"', () => {
    expect(fromSearch(`?${toSearch(funnel)}`, today).state).toEqual(funnel);
  });

  it('fills what the URL leaves out with the defaults (last 30 days, daily uniques, users)', () => {
    expect(fromSearch('', today)).toEqual({ state: base, problems: [] });
    const { state } = fromSearch('chart=funnels', today);
    expect(state.events).toEqual([{ event: '', filters: [] }, { event: '', filters: [] }]);
    expect(state.start).toBe('20261017');
    expect(state.end).toBe('20261115');
    expect(state.countGroup).toBe('User');
    expect(fromSearch('chart=retention', today).state.events.map((e) => e.event)).toEqual(['_new', '_active']);
  });

  it('keeps only non-default values besides the chart, events and dates, so links stay short', () => {
    expect(toSearch(base)).toBe(`chart=segmentation&e=${encodeURIComponent('{"event_type":"_active"}')}&start=20261017&end=20261115`);
  });

  it('reads an event given as a bare JSON string and the retention specials', () => {
    const { state, problems } = fromSearch(`chart=retention&e=_active&e=${encodeURIComponent('"Page Viewed"')}`, today);
    expect(problems).toEqual([]);
    expect(state.events.map((e) => e.event)).toEqual(['_active', 'Page Viewed']);
  });

  it.each([
    ['chart=pie', 'chart type "pie"'],
    ['e=%7Bnot%20json', 'event 1 is not valid JSON'],
    [`e=${encodeURIComponent('{"filters":[]}')}`, 'event 1 has no event_type'],
    [`e=${encodeURIComponent('{"event_type":"A","filters":[{"subprop_type":"planet","subprop_op":"is"}]}')}`, 'event 1 has a filter that cannot be read'],
    [`e=${encodeURIComponent('{"event_type":"A","group_by":[{"type":"group"}]}')}`, 'event 1 has a group-by that cannot be read'],
    ['start=20261341', 'start "20261341" is not a date'],
    ['end=yesterday', 'end "yesterday" is not a date'],
    ['i=2', 'interval "2"'],
    ['m=median', 'metric "median"'],
    ['mode=random', 'funnel mode "random"'],
    ['gpMode=later', 'gpMode "later"'],
    ['cs=-5', 'conversion window "-5"'],
    ['cs=99999999999', 'conversion window "99999999999"'],
    ['s=%5B%7B%22prop%22%3A1%7D%5D', 'the segments (s) cannot be read'],
    ['s=oops', 'the segments (s) cannot be read'],
    ['rm=sometimes', 'rm "sometimes"'],
    ['display=pie', 'display "pie"'],
  ])('a bad URL (%s) opens the default for that part and says so', (search, problem) => {
    const { state, problems } = fromSearch(search, today);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
    expect(state.chart).toBe('segmentation');
    expect(chartIssues(state)).toEqual([]);
  });

  it('drops unreadable events but keeps the readable ones', () => {
    const good = encodeURIComponent('{"event_type":"Invoice Sent"}');
    const { state, problems } = fromSearch(`chart=funnels&e=${good}&e=%7B&e=${good}`, today);
    expect(problems).toEqual(['event 2 is not valid JSON']);
    expect(state.events.map((e) => e.event)).toEqual(['Invoice Sent', 'Invoice Sent']);
  });

  it('swaps reversed dates and trims extra events', () => {
    const e = encodeURIComponent('"X"');
    const { state, problems } = fromSearch(`start=20261110&end=20261101&e=${e}&e=${e}&e=${e}`, today);
    expect([state.start, state.end]).toEqual(['20261101', '20261110']);
    expect(state.events).toHaveLength(2);
    expect(problems).toHaveLength(2);
  });

  it('refuses an hourly interval for retention', () => {
    expect(fromSearch('chart=retention&i=-3600000', today).problems[0]).toContain('interval');
  });
});

describe('chart state -> API request', () => {
  it('a funnel: one e per step, the group-by on the first step, every option', () => {
    const { path, params } = toApiRequest(funnel);
    expect(path).toBe('/api/2/funnels');
    const es = params.filter(([k]) => k === 'e').map(([, v]) => JSON.parse(v));
    expect(es).toEqual([
      {
        event_type: 'Trial Started',
        filters: [{ subprop_type: 'group', group_type: 'company', subprop_key: 'plan', subprop_op: 'is', subprop_value: ['free', 'pro'] }],
        group_by: [{ type: 'group', group_type: 'company', value: 'region' }],
      },
      { event_type: 'Invoice Sent', filters: [{ subprop_type: 'event', subprop_key: 'amount', subprop_op: 'greater', subprop_value: ['100'] }] },
      { event_type: 'Payment Received', filters: [{ subprop_type: 'user', subprop_key: 'gp:role', subprop_op: 'is not', subprop_value: ['viewer'] }] },
    ]);
    const rest = Object.fromEntries(params.filter(([k]) => k !== 'e'));
    expect(rest).toEqual({ mode: 'unordered', cs: '86400', start: '20261001', end: '20261031', countGroup: 'company', gpMode: 'current', s: JSON.stringify(funnel.segments) });
  });

  it('segmentation: e and e2, the value property first in group_by', () => {
    const s: ChartState = { ...base, events: [{ event: 'Invoice Sent', filters: [] }, { event: 'Payment Received', filters: [] }], metric: 'value_avg', valueProp: 'amount', groupBy: [{ type: 'user', key: 'gp:role' }] };
    const { path, params } = toApiRequest(s);
    expect(path).toBe('/api/2/events/segmentation');
    const p = Object.fromEntries(params);
    expect(JSON.parse(p.e!)).toEqual({ event_type: 'Invoice Sent', group_by: [{ type: 'event', value: 'amount' }, { type: 'user', value: 'gp:role' }] });
    expect(JSON.parse(p.e2!).event_type).toBe('Payment Received');
    expect(p).toMatchObject({ m: 'value_avg', i: '1', start: '20261017', end: '20261115' });
    expect(p.countGroup).toBeUndefined();
  });

  it('retention: specials as bare values, a group-by of new users as g, rolling', () => {
    const s: ChartState = { ...defaultState(today, 'retention'), groupBy: [{ type: 'group', groupType: 'company', key: 'plan' }], rolling: true, interval: '7' };
    const { path, params } = toApiRequest(s);
    expect(path).toBe('/api/2/retention');
    expect(Object.fromEntries(params)).toEqual({ se: '_new', re: '_active', g: 'group:company:plan', i: '7', rm: 'rolling', start: '20261017', end: '20261115' });
    const withEvent: ChartState = { ...s, events: [{ event: 'Dashboard Viewed', filters: [] }, { event: '_all', filters: [] }] };
    const p = Object.fromEntries(toApiRequest(withEvent).params);
    expect(JSON.parse(p.se!)).toEqual({ event_type: 'Dashboard Viewed', group_by: [{ type: 'group', group_type: 'company', value: 'plan' }] });
    expect(p.re).toBe('_all');
    expect(p.g).toBeUndefined();
  });

  it('microscope: the chart parameters plus the point', () => {
    const p = microscopeParams(funnel, { chart: 'funnels', step: 3, dropoff: true, segment: 1 });
    expect(p.slice(0, toApiRequest(funnel).params.length)).toEqual(toApiRequest(funnel).params);
    expect(p.slice(-4)).toEqual([['chart', 'funnels'], ['step', '3'], ['dropoff', 'true'], ['segment', '1']]);
    expect(microscopeParams(base, { chart: 'segmentation', x: '2026-11-02', segment: 0 }).slice(-3)).toEqual([['chart', 'segmentation'], ['x', '2026-11-02'], ['segment', '0']]);
    const r = microscopeParams(defaultState(today, 'retention'), { chart: 'retention', x: '2026-11-02', n: 2, segment: 0 });
    expect(r.slice(-4)).toEqual([['chart', 'retention'], ['x', '2026-11-02'], ['n', '2'], ['segment', '0']]);
  });
});

describe('chart checks', () => {
  it('names what is missing before a chart is asked for', () => {
    expect(chartIssues(defaultState(today, 'funnels'))).toEqual(['Step 1 has no event', 'Step 2 has no event']);
    expect(chartIssues({ ...base, metric: 'sums' })).toEqual(['The metric "sums" needs a numeric event property']);
    expect(chartIssues({ ...base, segments: [{ prop: 'country', op: 'is', values: [] }] })).toEqual(['Segment 1 has no value']);
    expect(chartIssues({ ...base, events: [{ event: 'A', filters: [{ type: 'event', key: '', op: 'is', values: ['x'] }] }] })).toEqual(['Event 1: filter 1 has no property']);
    expect(chartIssues({ ...base, start: '' })).toEqual(['The date range is incomplete']);
    expect(chartIssues({ ...base, groupBy: [{ type: 'group', groupType: 'company', key: '' }] })).toEqual(['Group by 1 has no property']);
    expect(chartIssues({ ...base, groupBy: [{ type: 'group', groupType: 'company' }] })).toEqual([]);
    expect(chartIssues({ ...base, segments: [{ prop: 'group:company:', op: 'is', values: ['x'] }] })).toEqual(['Segment 1 has no property']);
    expect(chartIssues({ ...base, start: '20261120', end: '20261101' })).toEqual(['The start date is after the end date']);
  });

  it('switching the chart type keeps the events that fit', () => {
    const seg: ChartState = { ...base, events: [{ event: 'Invoice Sent', filters: [] }, { event: 'Payment Received', filters: [] }], countGroup: 'company' };
    const f = withChart(seg, 'funnels');
    expect(f.events.map((e) => e.event)).toEqual(['Invoice Sent', 'Payment Received']);
    expect(f.countGroup).toBe('company');
    expect(withChart(base, 'funnels').events.map((e) => e.event)).toEqual(['', '']);
    expect(withChart(f, 'retention').events.map((e) => e.event)).toEqual(['Invoice Sent', 'Payment Received']);
    expect(withChart({ ...base, interval: '-3600000' }, 'retention').interval).toBe('1');
    expect(withChart(funnel, 'segmentation').events).toHaveLength(2);
  });

  it('a dynamic property needs a single-series user chart of uniques or totals', () => {
    const one: ChartState = { ...base, events: [{ event: 'Page Viewed', filters: [] }] };
    expect(dynamicPropertyProblem(one)).toBeUndefined();
    expect(dynamicPropertyProblem({ ...one, metric: 'totals' })).toBeUndefined();
    expect(dynamicPropertyProblem({ ...one, events: [...one.events, { event: 'X', filters: [] }] })).toMatch(/single series/);
    expect(dynamicPropertyProblem({ ...one, groupBy: [{ type: 'user', key: 'country' }] })).toMatch(/single series/);
    expect(dynamicPropertyProblem({ ...one, metric: 'average' })).toMatch(/uniques or totals/);
    expect(dynamicPropertyProblem({ ...one, countGroup: 'company' })).toMatch(/count users/);
    expect(dynamicPropertyProblem(funnel)).toMatch(/segmentation/);
    expect(dynamicPropertyProblem({ ...one, segments: [{ prop: 'country', op: 'is', values: ['US'] }] })).toMatch(/no segment/);
  });
});
