// Retention in windows from each start event (the default) and in calendar intervals (rt=calendar), by user and by
// group, worked out by hand; the microscope lists exactly the units each cell counts.
//
// Project A (UTC), "Start" and "Return" events; each user's events are attributed to its company co_<user>:
//   amp     Start 11-01 17:59, Return 11-02 17:00   Amplitude's example: the start hour is 17:00, so the return is
//                                                   24 h later: day 1 (calendar: day 1)
//   early   Start 11-01 17:59, Return 11-02 16:30   23.5 h after the start hour: day 0 (calendar: day 1)
//   early2  Start 11-01 20:00, Return 11-02 19:59   day 0 (calendar: day 1)
//   twice   Start 11-01 00:10 and 22:30, Return 11-03 01:00: 49 h after the first start hour (day 2) and 27 h after
//           the second (day 1): one return, two days (calendar: day 2)
//   sam     Start 11-02 09:00, Return 11-04 09:00   day 2 (calendar: day 2)
//   t1, t2  company "team" only: t1 Start 11-01 10:00, t2 Return 11-02 10:30: the team is retained on day 1 through
//           two different members; neither user is
// Project B (America/New_York), weekly and monthly:
//   wkA     Start Sat 11-01 12:00, Return Mon 11-03 12:00 (local): 2 days later, week 0 (calendar: the next week, 1)
//   wkB     Start Sat 11-01 12:00, Return Sat 11-08 12:00: 7 days later, week 1 (calendar: week 1)
//   mo      MStart 2025-01-31, MReturn 02-01 and 03-02: 1 and 30 days later, months 0 and 1 (calendar: 1 and 2)
//   mo2     MStart 2025-01-01 and 01-31, MReturn 03-02: 60 and 30 days later, months 2 and 1 (calendar: 2)
import { insertEvents, testClickHouse, type TestClickHouse, type TestEvent } from '@groupscope/testing';
import type { NewKeys } from '@groupscope/projects';
import { startTestService, type TestService } from './service';

let ch: TestClickHouse;
let svc: TestService;
let A: NewKeys;
let B: NewKeys;

beforeAll(async () => {
  ch = await testClickHouse();
  svc = await startTestService(ch);
  A = svc.projects[0]!;
  B = svc.registry.create('new york', { time_zone: 'America/New_York' });
  const a = (user: string, type: string, time: string, company = `co_${user}`): TestEvent => ({ project: A.project_id, user, type, time, groups: { company: { [company]: {} } } });
  // local New York wall-clock times (EDT until 11-02, EST after)
  const b = (user: string, type: string, time: string): TestEvent => ({ project: B.project_id, user, type, time });
  await insertEvents(ch, [
    a('amp', 'Start', '2025-11-01T17:59:00'),
    a('amp', 'Return', '2025-11-02T17:00:00'),
    a('early', 'Start', '2025-11-01T17:59:00'),
    a('early', 'Return', '2025-11-02T16:30:00'),
    a('early2', 'Start', '2025-11-01T20:00:00'),
    a('early2', 'Return', '2025-11-02T19:59:00'),
    a('twice', 'Start', '2025-11-01T00:10:00'),
    a('twice', 'Start', '2025-11-01T22:30:00'),
    a('twice', 'Return', '2025-11-03T01:00:00'),
    a('sam', 'Start', '2025-11-02T09:00:00'),
    a('sam', 'Return', '2025-11-04T09:00:00'),
    a('t1', 'Start', '2025-11-01T10:00:00', 'team'),
    a('t2', 'Return', '2025-11-02T10:30:00', 'team'),
    b('wkA', 'Start', '2025-11-01T12:00:00-04:00'),
    b('wkA', 'Return', '2025-11-03T12:00:00-05:00'),
    b('wkB', 'Start', '2025-11-01T12:00:00-04:00'),
    b('wkB', 'Return', '2025-11-08T12:00:00-05:00'),
    b('mo', 'MStart', '2025-01-31T10:00:00-05:00'),
    b('mo', 'MReturn', '2025-02-01T10:00:00-05:00'),
    b('mo', 'MReturn', '2025-03-02T10:00:00-05:00'),
    b('mo2', 'MStart', '2025-01-01T10:00:00-05:00'),
    b('mo2', 'MStart', '2025-01-31T10:00:00-05:00'),
    b('mo2', 'MReturn', '2025-03-02T10:00:00-05:00'),
  ]);
});

afterAll(async () => {
  await svc?.stop();
  await ch?.cleanup();
});

type Params = Record<string, string>;
const J = JSON.stringify;
const daily: Params = { se: J({ event_type: 'Start' }), re: J({ event_type: 'Return' }), start: '20251101', end: '20251105' };

async function get(keys: NewKeys, path: string, params: Params) {
  const res = await svc.call(keys, 'GET', `${path}?${new URLSearchParams(params)}`);
  if (res.status !== 200) throw new Error(`${path} ${res.status}: ${res.text}`);
  return res.body;
}

interface Cell {
  count: number;
  outof: number;
  incomplete: boolean;
}
type Values = Record<string, Cell[]>;

async function chart(keys: NewKeys, params: Params): Promise<Values> {
  const body = await get(keys, '/api/2/retention', params);
  return body.data.series[0].values as Values;
}
const countsOf = (values: Values) => Object.fromEntries(Object.entries(values).map(([d, cells]) => [d, cells.map((c) => c.count)]));

async function microscope(keys: NewKeys, params: Params, x: string, n: number): Promise<string[]> {
  const body = await get(keys, '/api/2/microscope', { ...params, chart: 'retention', x, n: String(n) });
  return (body.members as { id: string }[]).map((m) => m.id).sort();
}

describe('daily retention', () => {
  it('by user, in 24-hour windows from the start hour: Amplitude example, early returns, one return counting twice', async () => {
    expect(countsOf(await chart(A, daily))).toEqual({
      '2025-11-01': [5, 2, 1, 0, 0],
      '2025-11-02': [1, 0, 1, 0],
      '2025-11-03': [0, 0, 0],
      '2025-11-04': [0, 0],
      '2025-11-05': [0],
    });
    expect(await microscope(A, daily, '2025-11-01', 0)).toEqual(['amp', 'early', 'early2', 't1', 'twice']);
    expect(await microscope(A, daily, '2025-11-01', 1)).toEqual(['amp', 'twice']);
    expect(await microscope(A, daily, '2025-11-01', 2)).toEqual(['twice']);
    expect(countsOf(await chart(A, { ...daily, rm: 'rolling' }))['2025-11-01']).toEqual([5, 2, 1, 0, 0]);
  });

  it('by user, in calendar days with rt=calendar', async () => {
    const calendar = { ...daily, rt: 'calendar' };
    expect(countsOf(await chart(A, calendar))['2025-11-01']).toEqual([5, 3, 1, 0, 0]);
    expect(await microscope(A, calendar, '2025-11-01', 1)).toEqual(['amp', 'early', 'early2']);
    expect(await microscope(A, calendar, '2025-11-01', 2)).toEqual(['twice']);
  });

  it('by group: a group is retained through any member, in windows or calendar days', async () => {
    const byGroup = { ...daily, countGroup: 'company' };
    expect(countsOf(await chart(A, byGroup))['2025-11-01']).toEqual([5, 3, 1, 0, 0]);
    expect(await microscope(A, byGroup, '2025-11-01', 1)).toEqual(['co_amp', 'co_twice', 'team']);
    expect(await microscope(A, byGroup, '2025-11-01', 2)).toEqual(['co_twice']);
    const calendar = { ...byGroup, rt: 'calendar' };
    expect(countsOf(await chart(A, calendar))['2025-11-01']).toEqual([5, 4, 1, 0, 0]);
    expect(await microscope(A, calendar, '2025-11-01', 1)).toEqual(['co_amp', 'co_early', 'co_early2', 'team']);
  });

  it.each([
    ['by user in windows', {}],
    ['by user in calendar days', { rt: 'calendar' }],
    ['by group in windows', { countGroup: 'company' }],
    ['by group in calendar days', { countGroup: 'company', rt: 'calendar' }],
    ['by group, unbounded', { countGroup: 'company', rm: 'rolling' }],
  ])('the microscope lists as many units as every cell counts (%s)', async (_name, extra) => {
    const params = { ...daily, ...extra };
    const values = await chart(A, params);
    for (const [x, cells] of Object.entries(values)) {
      const listed = await Promise.all(cells.map((_, n) => microscope(A, params, x, n)));
      expect({ x, counts: listed.map((m) => m.length) }).toEqual({ x, counts: cells.map((c) => c.count) });
    }
  });

  // A project of its own (UTC). Only a Start with plan=pro starts; tiers are user properties as stamped:
  //   u1 (gold)   Start pro 11-01 10:00, Return 11-02 11:00: 25 h after the start hour, day 1
  //   u2 (gold)   Start free 11-01 10:00, Return 11-02 11:00: no start
  //   u3 (gold)   Start free 11-01 09:00, Start pro 12:00, Return 11-02 09:30: 21.5 h after the pro start, day 0
  //               (24.5 h after the free one, which does not start)
  //   u4 (gold)   Return 11-01 and 11-02 only: no start
  //   u5          Start pro 11-01 10:00 as silver, Return 11-02 10:30 as gold: day 1; with the segment "gold", its
  //               start is not in the chart at all
  it('starts only on start events that pass their filters and the segments', async () => {
    const C = svc.registry.create('filtered retention');
    const ev = (user: string, type: string, time: string, plan: string | null, tier = 'gold'): TestEvent => ({
      project: C.project_id, user, type, time, props: plan ? { plan } : {}, userProps: { tier },
    });
    await insertEvents(ch, [
      ev('u1', 'Start', '2025-11-01T10:00:00', 'pro'),
      ev('u1', 'Return', '2025-11-02T11:00:00', null),
      ev('u2', 'Start', '2025-11-01T10:00:00', 'free'),
      ev('u2', 'Return', '2025-11-02T11:00:00', null),
      ev('u3', 'Start', '2025-11-01T09:00:00', 'free'),
      ev('u3', 'Start', '2025-11-01T12:00:00', 'pro'),
      ev('u3', 'Return', '2025-11-02T09:30:00', null),
      ev('u4', 'Return', '2025-11-01T10:00:00', null),
      ev('u4', 'Return', '2025-11-02T10:00:00', null),
      ev('u5', 'Start', '2025-11-01T10:00:00', 'pro', 'silver'),
      ev('u5', 'Return', '2025-11-02T10:30:00', null),
    ]);
    const params = {
      se: J({ event_type: 'Start', filters: [{ subprop_type: 'event', subprop_key: 'plan', subprop_op: 'is', subprop_value: ['pro'] }] }),
      re: J({ event_type: 'Return' }),
      start: '20251101',
      end: '20251103',
    };
    expect(countsOf(await chart(C, params))).toEqual({ '2025-11-01': [3, 2, 0], '2025-11-02': [0, 0], '2025-11-03': [0] });
    expect(await microscope(C, params, '2025-11-01', 0)).toEqual(['u1', 'u3', 'u5']);
    expect(await microscope(C, params, '2025-11-01', 1)).toEqual(['u1', 'u5']);
    const gold = { ...params, s: J([{ prop: 'gp:tier', op: 'is', values: ['gold'] }]) };
    expect(countsOf(await chart(C, gold))['2025-11-01']).toEqual([2, 1, 0]);
    expect(await microscope(C, gold, '2025-11-01', 1)).toEqual(['u1']);
  });
});

describe('weekly and monthly retention (America/New_York)', () => {
  const weekly = { se: J({ event_type: 'Start' }), re: J({ event_type: 'Return' }), start: '20251026', end: '20251115', i: '7' };
  const monthly = { se: J({ event_type: 'MStart' }), re: J({ event_type: 'MReturn' }), start: '20250101', end: '20250331', i: '30' };

  it('counts 7-day windows from the start day, or calendar weeks', async () => {
    expect(countsOf(await chart(B, weekly))['2025-10-26']).toEqual([2, 1, 0]);
    expect(await microscope(B, weekly, '2025-10-26', 1)).toEqual(['wkB']);
    expect(countsOf(await chart(B, { ...weekly, rt: 'calendar' }))['2025-10-26']).toEqual([2, 2, 0]);
  });

  it('counts 30-day windows from the start day (one return counting for two months), or calendar months', async () => {
    expect(countsOf(await chart(B, monthly))['2025-01-01']).toEqual([2, 2, 1]);
    expect(await microscope(B, monthly, '2025-01-01', 1)).toEqual(['mo', 'mo2']);
    expect(await microscope(B, monthly, '2025-01-01', 2)).toEqual(['mo2']);
    expect(countsOf(await chart(B, { ...monthly, rt: 'calendar' }))['2025-01-01']).toEqual([2, 1, 2]);
  });
});

it('rejects an unknown rt', async () => {
  const res = await svc.call(A, 'GET', `/api/2/retention?${new URLSearchParams({ ...daily, rt: 'hourly' })}`);
  expect(res.status).toBe(400);
  expect(res.body.error).toMatchObject({ code: 'unsupported', details: [{ param: 'rt' }] });
});
