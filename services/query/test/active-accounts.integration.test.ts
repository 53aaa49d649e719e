// Active units and stickiness against a data set worked out by hand: rolling daily/weekly active users and
// accounts (m=active, rollingWindow) including windows that reach back before the chart's first day, the units
// behind a rolling point (microscope), and stickiness by week and by month, of users and of companies.
//
// 2026-11-01 is a Sunday (weeks: 11-01..07, 11-08..14). Events (all UTC):
//   acme     alice 11-02, 11-03, 11-04, 11-12   bob 11-09, 11-12
//   globex   carol 11-02, 11-10, 11-11, 11-12, 11-13, 11-14
//   initech  dave 11-05
import type { NewKeys } from '@groupscope/projects';
import { insertEvents, testClickHouse, type TestClickHouse } from '@groupscope/testing';
import { startTestService, type TestService } from './service';

let ch: TestClickHouse;
let svc: TestService;
let A: NewKeys;

const ACTIVITY: [string, string, string[]][] = [
  ['alice', 'acme', ['02', '03', '04', '12']],
  ['bob', 'acme', ['09', '12']],
  ['carol', 'globex', ['02', '10', '11', '12', '13', '14']],
  ['dave', 'initech', ['05']],
];

beforeAll(async () => {
  ch = await testClickHouse();
  svc = await startTestService(ch);
  A = svc.projects[0]!;
  await insertEvents(
    ch,
    ACTIVITY.flatMap(([user, company, days]) =>
      days.map((d) => ({ project: A.project_id, time: `2026-11-${d}T10:00:00`, type: 'Used Feature', user, groups: { company: { [company]: {} } } })),
    ),
  );
  // another project's activity counts nowhere here
  await insertEvents(ch, [{ project: svc.projects[1]!.project_id, time: '2026-11-10T10:00:00', type: 'Used Feature', user: 'zed', groups: { company: { acme: {} } } }]);
});

afterAll(async () => {
  await svc?.stop();
  await ch?.cleanup();
});

const get = async (path: string, qs: Record<string, string>) => svc.call(A, 'GET', `${path}?${new URLSearchParams(qs)}`);
const RANGE = { start: '20261103', end: '20261114' };

describe('active units (m=active, rollingWindow)', () => {
  it('counts daily active companies (m=active defaults to any event, one day per point)', async () => {
    const res = await get('/api/2/events/segmentation', { ...RANGE, m: 'active', countGroup: 'company' });
    expect(res.status).toBe(200);
    expect(res.body.data.series).toEqual([[1, 1, 1, 0, 0, 0, 1, 1, 1, 2, 1, 1]]);
    expect(res.body.data.seriesCollapsed).toEqual([[{ setId: '', value: 3 }]]);
  });

  it('counts weekly active companies and users by day, windows reaching back before the first day', async () => {
    const companies = await get('/api/2/events/segmentation', { ...RANGE, m: 'active', rollingWindow: '7', countGroup: 'company' });
    expect(companies.body.data.xValues[0]).toBe('2026-11-03');
    // 11-03: acme and globex (11-02, before the chart); 11-09: acme and initech (globex's 11-02 has left the window)
    expect(companies.body.data.series).toEqual([[2, 2, 3, 3, 3, 3, 2, 3, 3, 2, 2, 2]]);
    expect(companies.body.data.seriesCollapsed[0][0].value).toBe(3);
    const users = await get('/api/2/events/segmentation', { ...RANGE, e: JSON.stringify({ event_type: '_active' }), m: 'active', rollingWindow: '7' });
    // 11-09: alice, bob (one company) and dave; 11-10: carol too
    expect(users.body.data.series).toEqual([[2, 2, 3, 3, 3, 3, 3, 4, 3, 3, 3, 3]]);
    expect(users.body.data.seriesCollapsed[0][0].value).toBe(4);
    // the same with m=uniques and Amplitude's rollingWindow
    const uniques = await get('/api/2/events/segmentation', { ...RANGE, e: JSON.stringify({ event_type: '_active' }), m: 'uniques', rollingWindow: '7', countGroup: 'company' });
    expect(uniques.body.data.series).toEqual(companies.body.data.series);
  });

  it('rolls weeks too, and events (totals)', async () => {
    // the week of 11-08 with the week before: every company
    const weeks = await get('/api/2/events/segmentation', { start: '20261108', end: '20261114', i: '7', m: 'active', rollingWindow: '2', countGroup: 'company' });
    expect(weeks.body.data).toMatchObject({ xValues: ['2026-11-08'], series: [[3]] });
    // acme's events in the 3 days ending each day: 11-10 and 11-11 hold bob's 11-09; 11-12 holds alice's and bob's of that day
    const totals = await get('/api/2/events/segmentation', {
      start: '20261110', end: '20261112', m: 'totals', rollingWindow: '3',
      e: JSON.stringify({ event_type: 'Used Feature', filters: [{ subprop_type: 'group', group_type: 'company', subprop_op: 'is', subprop_value: ['acme'] }] }),
    });
    expect(totals.body.data.series).toEqual([[1, 1, 2]]);
    expect(totals.body.data.seriesCollapsed[0][0].value).toBe(2);
  });

  it('splits by a group-by like any segmentation', async () => {
    const res = await get('/api/2/events/segmentation', { start: '20261108', end: '20261110', m: 'active', rollingWindow: '7', g: 'group:company' });
    // users by company: 11-08 (11-02..08) acme: alice; globex: carol; initech: dave
    expect(res.body.data.seriesLabels).toEqual([[0, 'acme'], [0, 'globex'], [0, 'initech']]);
    expect(res.body.data.series).toEqual([
      [1, 2, 2],
      [1, 0, 1],
      [1, 1, 1],
    ]);
  });

  it('lists the units behind a rolling point in the microscope', async () => {
    const res = await get('/api/2/microscope', { ...RANGE, m: 'active', rollingWindow: '7', chart: 'segmentation', x: '2026-11-10', segment: '0' });
    expect(res.status).toBe(200);
    expect(res.body.members.map((m: { id: string }) => m.id).sort()).toEqual(['alice', 'bob', 'carol', 'dave']);
  });

  it.each<[Record<string, string>, string]>([
    [{ m: 'active', rollingWindow: '0' }, 'rollingWindow'],
    [{ m: 'active', rollingWindow: '366' }, 'rollingWindow'],
    [{ m: 'average', rollingWindow: '7', e: '"_active"' }, 'rollingWindow'],
    [{ m: 'active', rollingWindow: '2', i: '-3600000', start: '20261110', end: '20261110' }, 'rollingWindow'],
    [{ m: 'often', e: '"_active"' }, 'm'],
  ])('rejects %j naming %s', async (qs, param) => {
    const res = await get('/api/2/events/segmentation', { ...RANGE, ...qs });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].param).toBe(param);
  });
});

describe('stickiness', () => {
  const e = JSON.stringify({ event_type: '_active' });
  const TWO_WEEKS = { start: '20261101', end: '20261114', e };

  it('counts companies by days active per week', async () => {
    const res = await get('/api/2/stickiness', { ...TWO_WEEKS, countGroup: 'company' });
    expect(res.status).toBe(200);
    // week 1: acme 3 days, globex 1, initech 1; week 2: acme 2 (11-09, 11-12), globex 5
    expect(res.body.data).toEqual({
      xValues: ['1', '2', '3', '4', '5', '6', '7'],
      series: [[2, 1, 1, 0, 1, 0, 0]],
      seriesLabels: [0],
      seriesCollapsed: [[{ setId: '', value: 3 }]],
      periods: 5,
      interval: 'week',
      cumulative: false,
    });
    const atLeast = await get('/api/2/stickiness', { ...TWO_WEEKS, countGroup: 'company', cumulative: 'true' });
    expect(atLeast.body.data.series).toEqual([[5, 3, 2, 1, 1, 0, 0]]);
  });

  it('counts users by days active per week, and per month', async () => {
    // week 1: alice 3, carol 1, dave 1; week 2: alice 1, bob 2, carol 5
    expect((await get('/api/2/stickiness', TWO_WEEKS)).body.data).toMatchObject({ series: [[3, 1, 1, 0, 1, 0, 0]], periods: 6, seriesCollapsed: [[{ setId: '', value: 4 }]] });
    // November (to the 14th): acme 5 days, globex 6, initech 1
    const month = await get('/api/2/stickiness', { ...TWO_WEEKS, i: '30', countGroup: 'company' });
    expect(month.body.data.xValues).toHaveLength(31);
    expect(month.body.data.series[0].slice(0, 7)).toEqual([1, 0, 0, 0, 1, 1, 0]);
    expect(month.body.data.interval).toBe('month');
  });

  it('takes filters and segments like segmentation', async () => {
    const acmeOnly = await get('/api/2/stickiness', { ...TWO_WEEKS, s: JSON.stringify([{ prop: 'group:company', op: 'is', values: ['acme'] }]) });
    // alice: 3 days in week 1, 1 in week 2; bob: 2 in week 2
    expect(acmeOnly.body.data.series).toEqual([[1, 1, 1, 0, 0, 0, 0]]);
  });

  it.each<[Record<string, string>, string]>([
    [{ i: '1' }, 'i'],
    [{ e2: e }, 'e2'],
    [{ m: 'totals' }, 'm'],
    [{ e: JSON.stringify({ event_type: '_active', group_by: [{ type: 'user', value: 'country' }] }) }, 'e'],
    [{ e: '' }, 'e'],
  ])('rejects %j naming %s', async (qs, param) => {
    const res = await get('/api/2/stickiness', { ...TWO_WEEKS, ...qs });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].param).toBe(param);
  });
});
