// countGroup totals: an event attributed to two groups counts once in an overall total and once in each group's own
// series, for every metric; the same for users when a group-by expands events by group. Worked out by hand:
//
//   e1  11-03 alice  Paid  amount 100, revenue 10   acme (pro) and globex (pro)
//   e2  11-03 bob    Paid  amount 50,  revenue 5    acme (pro)
//   e3  11-04 carol  Paid  amount 30                initech (free)
//   e4  11-04 carol  Paid  amount 20                no company
import { insertEvents, testClickHouse, type TestClickHouse } from '@groupscope/testing';
import type { NewKeys } from '@groupscope/projects';
import { startTestService, type TestService } from './service';

let ch: TestClickHouse;
let svc: TestService;
let A: NewKeys;

beforeAll(async () => {
  ch = await testClickHouse();
  svc = await startTestService(ch);
  A = svc.projects[0]!;
  const p = A.project_id;
  const pro = { plan: 'pro' };
  await insertEvents(ch, [
    { project: p, time: '2025-11-03T10:00:00', type: 'Paid', user: 'alice', props: { amount: 100 }, revenue: 10, groups: { company: { acme: pro, globex: pro } } },
    { project: p, time: '2025-11-03T11:00:00', type: 'Paid', user: 'bob', props: { amount: 50 }, revenue: 5, groups: { company: { acme: pro } } },
    { project: p, time: '2025-11-04T10:00:00', type: 'Paid', user: 'carol', props: { amount: 30 }, groups: { company: { initech: { plan: 'free' } } } },
    { project: p, time: '2025-11-04T11:00:00', type: 'Paid', user: 'carol', props: { amount: 20 } },
  ]);
});

afterAll(async () => {
  await svc?.stop();
  await ch?.cleanup();
});

const J = JSON.stringify;
const paid = { event_type: 'Paid' };
const amount = { event_type: 'Paid', group_by: [{ type: 'event', value: 'amount' }] };
const revenue = { event_type: 'Paid', group_by: [{ type: 'event', value: '$revenue' }] };

/** [label, series, collapsed] per series of a segmentation over 11-03 and 11-04. */
async function seg(params: Record<string, unknown>): Promise<unknown[]> {
  const qs = new URLSearchParams({ start: '20251103', end: '20251104' });
  for (const [k, v] of Object.entries(params)) qs.set(k, typeof v === 'string' ? v : J(v));
  const res = await svc.call(A, 'GET', `/api/2/events/segmentation?${qs}`);
  if (res.status !== 200) throw new Error(`${res.status}: ${res.text}`);
  const d = res.body.data;
  return (d.seriesLabels as unknown[]).map((l, i) => [l, d.series[i], d.seriesCollapsed[i][0].value]);
}

describe('countGroup: one event, two groups', () => {
  it.each<[string, Record<string, unknown>, unknown[]]>([
    ['totals count the event once overall', { e: paid, m: 'totals' }, [[0, [2, 1], 3]]],
    ['uniques count both groups', { e: paid, m: 'uniques' }, [[0, [2, 1], 3]]],
    ['average is events per group', { e: paid, m: 'average' }, [[0, [1, 1], 1]]],
    ['sums add the event once', { e: amount, m: 'sums' }, [[0, [150, 30], 180]]],
    ['value averages are per event', { e: amount, m: 'value_avg' }, [[0, [75, 30], 60]]],
    ['sums of $revenue add the event once', { e: revenue, m: 'sums' }, [[0, [15, 0], 15]]],
  ])('%s', async (_name, params, expected) => {
    expect(await seg({ ...params, countGroup: 'company' })).toEqual(expected);
  });

  it('counts the event once in each group\'s own series', async () => {
    expect(await seg({ e: paid, m: 'totals', countGroup: 'company', g: 'group:company' })).toEqual([
      [[0, 'acme'], [2, 0], 2],
      [[0, 'globex'], [1, 0], 1],
      [[0, 'initech'], [0, 1], 1],
    ]);
    expect(await seg({ e: amount, m: 'sums', countGroup: 'company', g: 'group:company' })).toEqual([
      [[0, 'acme'], [150, 0], 150],
      [[0, 'globex'], [100, 0], 100],
      [[0, 'initech'], [0, 30], 30],
    ]);
  });

  it('counts the event once in a series of a group property both groups share', async () => {
    expect(await seg({ e: paid, m: 'totals', countGroup: 'company', g: 'group:company:plan' })).toEqual([
      [[0, 'pro'], [2, 0], 2],
      [[0, 'free'], [0, 1], 1],
    ]);
    expect(await seg({ e: amount, m: 'sums', countGroup: 'company', g: 'group:company:plan' })).toEqual([
      [[0, 'pro'], [150, 0], 150],
      [[0, 'free'], [0, 30], 30],
    ]);
    // equal values over the range: ordered by label
    expect(await seg({ e: paid, m: 'average', countGroup: 'company', g: 'group:company:plan' })).toEqual([
      [[0, 'free'], [0, 1], 1],
      [[0, 'pro'], [1, 0], 1],
    ]);
  });
});

describe('users, with events expanded by group for a group-by', () => {
  it('count an event once per group property value and once per group', async () => {
    expect(await seg({ e: paid, m: 'totals' })).toEqual([[0, [2, 2], 4]]);
    expect(await seg({ e: paid, m: 'totals', g: 'group:company:plan' })).toEqual([
      [[0, 'pro'], [2, 0], 2],
      [[0, '(none)'], [0, 1], 1],
      [[0, 'free'], [0, 1], 1],
    ]);
    expect(await seg({ e: amount, m: 'sums', g: 'group:company:plan' })).toEqual([
      [[0, 'pro'], [150, 0], 150],
      [[0, 'free'], [0, 30], 30],
      [[0, '(none)'], [0, 20], 20],
    ]);
    expect(await seg({ e: paid, m: 'totals', g: 'group:company' })).toEqual([
      [[0, 'acme'], [2, 0], 2],
      [[0, '(none)'], [0, 1], 1],
      [[0, 'globex'], [1, 0], 1],
      [[0, 'initech'], [0, 1], 1],
    ]);
  });
});
