// The chart API over a ClickHouse server with hand-built rows (as the writer stores them). Expected numbers are
// worked out by hand from the fixture below.
//
// Project 1 (UTC). Companies: acme (plan free -> enterprise at 2025-11-02 12:00, region EU), globex (pro, US),
// initech (free, EU). Users: alice admin @acme, bob member @acme, carol admin @globex, dave member @globex,
// erin viewer (no company).
//   e1  11-01 10:00 alice Signed Up          acme(free)
//   e2  11-01 11:00 bob   Page Viewed        acme(free)
//   e3  11-01 12:00 carol Signed Up          globex
//   e3b 11-01 13:00 carol Dashboard Viewed   globex
//   e4  11-02 09:00 bob   Invoice Sent 100   acme(free)
//   e5  11-02 13:00 alice Page Viewed        acme(enterprise)
//   e6  11-02 14:00 dave  Invoice Sent 250   globex
//   e7  11-02 15:00 erin  Page Viewed        team red + blue (event-level, two values of one type)
//   (nothing on 11-03)
//   e8  11-04 10:00 bob   Payment Received   acme(enterprise)
//   e9  11-04 11:00 carol Page Viewed        globex + initech (two companies)
// Project 2 (America/New_York): zed Page Viewed at 11-02 03:00 UTC (11-01 23:00 local), company acme.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryRows, sql, trusted } from '@groupscope/clickhouse';
import { silentLogger } from '@groupscope/logger';
import { ProjectRegistry, type NewKeys } from '@groupscope/projects';
import { insertEvents, insertGroupChanges, testClickHouse, type Props, type TestClickHouse, type TestEvent, type TestGroupChange } from '@groupscope/testing';
import { loadQueryConfig, startQuery } from '../src/index';
import type { SegmentationResult } from '../src/charts/segmentation';
import type { FunnelSeries } from '../src/charts/funnels';
import type { RetentionCell, RetentionResult } from '../src/charts/retention';

interface Reply<T> {
  status: number;
  body: { data: T; error?: { code: string; message: string; details: { param?: string }[] } };
}
type SegData = SegmentationResult['data'];
type RetData = RetentionResult['data'];

let ch: TestClickHouse;
let service: { url: string; stop(): Promise<void> };
let p1: NewKeys;
let p2: NewKeys;

const J = JSON.stringify;
const HOSTILE_KEY = "x'); DROP TABLE events; --";
const HOSTILE_VALUE = 'back\\slash\'"ünï 🎉';

const acmeFree = { plan: 'free', region: 'EU', seats: 12 };
const acmeEnt = { plan: 'enterprise', region: 'EU', seats: 40 };
const globex = { plan: 'pro', region: 'US', seats: 8 };
const initech = { plan: 'free', region: 'EU', seats: 3 };
const role = (r: string): Props => ({ role: r });

function fixture(one: number, two: number): { events: TestEvent[]; changes: TestGroupChange[] } {
  const ev = (time: string, user: string, type: string, groups: TestEvent['groups'], extra: Partial<TestEvent> = {}): TestEvent => ({
    project: one,
    time,
    type,
    user,
    userProps: role({ alice: 'admin', bob: 'member', carol: 'admin', dave: 'member', erin: 'viewer' }[user] ?? 'none'),
    groups,
    ...extra,
  });
  return {
    events: [
      ev('2025-11-01T10:00:00', 'alice', 'Signed Up', { company: { acme: acmeFree } }, { props: { source: 'ads' } }),
      ev('2025-11-01T11:00:00', 'bob', 'Page Viewed', { company: { acme: acmeFree } }),
      ev('2025-11-01T12:00:00', 'carol', 'Signed Up', { company: { globex } }),
      ev('2025-11-01T13:00:00', 'carol', 'Dashboard Viewed', { company: { globex } }),
      ev('2025-11-02T09:00:00', 'bob', 'Invoice Sent', { company: { acme: acmeFree } }, { props: { amount: 100 } }),
      ev('2025-11-02T13:00:00', 'alice', 'Page Viewed', { company: { acme: acmeEnt } }),
      ev('2025-11-02T14:00:00', 'dave', 'Invoice Sent', { company: { globex } }, { props: { amount: 250 } }),
      ev('2025-11-02T15:00:00', 'erin', 'Page Viewed', { team: { red: { color: 'red' }, blue: { color: 'blue' } } }),
      ev('2025-11-04T10:00:00', 'bob', 'Payment Received', { company: { acme: acmeEnt } }, { props: { amount: 100 } }),
      ev('2025-11-04T11:00:00', 'carol', 'Page Viewed', { company: { globex, initech } }),
      ev('2025-10-15T08:00:00', 'mallory', 'Hostile Event', {}, { props: { [HOSTILE_KEY]: HOSTILE_VALUE } }),
      { project: two, time: '2025-11-02T03:00:00', type: 'Page Viewed', user: 'zed', props: { secret_prop: 'x' }, groups: { company: { acme: { plan: 'trial' } } } },
    ],
    changes: [
      { project: one, type: 'company', value: 'acme', time: '2025-10-01T00:00:00', props: acmeFree },
      { project: one, type: 'company', value: 'globex', time: '2025-10-01T00:00:00', props: globex },
      { project: one, type: 'company', value: 'initech', time: '2025-10-01T00:00:00', props: initech },
      { project: one, type: 'company', value: 'acme', time: '2025-11-02T12:00:00', props: acmeEnt, changed: ['plan', 'seats'] },
      { project: one, type: 'team', value: 'red', time: '2025-10-01T00:00:00', props: { color: 'red' } },
      { project: one, type: 'team', value: 'blue', time: '2025-10-01T00:00:00', props: { color: 'blue' } },
      { project: two, type: 'company', value: 'acme', time: '2025-10-01T00:00:00', props: { plan: 'trial' } },
    ],
  };
}

beforeAll(async () => {
  ch = await testClickHouse();
  const registry = new ProjectRegistry(join(mkdtempSync(join(tmpdir(), 'gs-query-')), 'projects.json'));
  p1 = registry.create('one');
  p2 = registry.create('two', { time_zone: 'America/New_York' });
  const { events, changes } = fixture(p1.project_id, p2.project_id);
  await insertEvents(ch, events);
  await insertGroupChanges(ch, changes);
  const config = loadQueryConfig({ QUERY_PORT: '0', QUERY_MIGRATE: 'false', LOG_LEVEL: 'silent' } as NodeJS.ProcessEnv);
  service = await startQuery({ config, logger: silentLogger, ch, registry });
});

afterAll(async () => {
  await service?.stop();
  await ch?.cleanup();
});

type Params = Record<string, string | string[] | object | undefined>;
async function call<T = unknown>(path: string, params: Params, keys: NewKeys | { api_key: string; secret_key: string } | null = p1): Promise<Reply<T>> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) qs.append(k, typeof item === 'string' ? item : JSON.stringify(item));
  }
  const headers: Record<string, string> = {};
  if (keys) headers.authorization = `Basic ${Buffer.from(`${keys.api_key}:${keys.secret_key}`).toString('base64')}`;
  const res = await fetch(`${service.url}${path}?${qs}`, { headers });
  return { status: res.status, body: (await res.json()) as Reply<T>['body'] };
}
const seg = (params: Params, keys?: NewKeys) => call<SegData>('/api/2/events/segmentation', { start: '20251101', end: '20251104', ...params }, keys);
const funnel = (params: Params) => call<FunnelSeries[]>('/api/2/funnels', { start: '20251101', end: '20251104', ...params });
const retention = (params: Params) => call<RetData>('/api/2/retention', { start: '20251101', end: '20251104', ...params });
function ok<T>(r: Reply<T>): T {
  expect(r.body).not.toHaveProperty('error');
  expect(r.status).toBe(200);
  return r.body.data;
}
const series = (data: SegData) => data.seriesLabels.map((l, i) => [l, data.series[i], data.seriesCollapsed[i]![0]!.value]);
const counts = (cells: RetentionCell[] | undefined) => (cells ?? []).map((c) => c.count);

describe('segmentation', () => {
  it('counts active users per day, zero-fills the empty day, and collapses to distinct users', async () => {
    const data = ok(await seg({ e: { event_type: '_active' } }));
    expect(data.xValues).toEqual(['2025-11-01', '2025-11-02', '2025-11-03', '2025-11-04']);
    expect(series(data)).toEqual([[0, [3, 4, 0, 2], 5]]);
  });

  it('computes totals, averages, sums and value averages', async () => {
    expect(series(ok(await seg({ e: { event_type: '_active' }, m: 'totals' })))).toEqual([[0, [4, 4, 0, 2], 10]]);
    expect(series(ok(await seg({ e: { event_type: '_active' }, m: 'average' })))).toEqual([[0, [4 / 3, 1, 0, 1], 2]]);
    const amount = { event_type: 'Invoice Sent', group_by: [{ type: 'event', value: 'amount' }] };
    expect(series(ok(await seg({ e: amount, m: 'sums' })))).toEqual([[0, [0, 350, 0, 0], 350]]);
    expect(series(ok(await seg({ e: amount, m: 'value_avg' })))).toEqual([[0, [0, 175, 0, 0], 175]]);
  });

  it('counts groups: user-level and event-level attribution, an event with two companies counting for both', async () => {
    expect(series(ok(await seg({ e: { event_type: '_active' }, countGroup: 'company' })))).toEqual([[0, [2, 2, 0, 3], 3]]);
    // erin's page view carries two teams at event level: both count
    expect(series(ok(await seg({ e: { event_type: 'Page Viewed' }, countGroup: 'team' })))).toEqual([[0, [0, 2, 0, 0], 2]]);
  });

  it('groups by a group property as stamped (gpMode=event) or as it is now (gpMode=current)', async () => {
    const e = { event_type: '_active', group_by: [{ type: 'group', group_type: 'company', value: 'plan' }] };
    expect(series(ok(await seg({ e, countGroup: 'company' })))).toEqual([
      [[0, 'free'], [1, 1, 0, 1], 2],
      [[0, 'enterprise'], [0, 1, 0, 1], 1],
      [[0, 'pro'], [1, 1, 0, 1], 1],
    ]);
    expect(series(ok(await seg({ e, countGroup: 'company', gpMode: 'current' })))).toEqual([
      [[0, 'enterprise'], [1, 1, 0, 1], 1],
      [[0, 'free'], [0, 0, 0, 1], 1],
      [[0, 'pro'], [1, 1, 0, 1], 1],
    ]);
  });

  it('filters users by a group property changed mid-range, per gpMode', async () => {
    const e = { event_type: '_active', filters: [{ subprop_type: 'group', group_type: 'company', subprop_key: 'plan', subprop_op: 'is', subprop_value: ['enterprise'] }] };
    expect(series(ok(await seg({ e })))).toEqual([[0, [0, 1, 0, 1], 2]]);
    expect(series(ok(await seg({ e, gpMode: 'current' })))).toEqual([[0, [2, 2, 0, 1], 2]]);
    const numeric = { event_type: '_active', filters: [{ subprop_type: 'group', group_type: 'company', subprop_key: 'seats', subprop_op: 'greater', subprop_value: ['10'] }] };
    expect(series(ok(await seg({ e: numeric, countGroup: 'company' })))).toEqual([[0, [1, 1, 0, 1], 1]]);
    // by user, the stamped number is read from the event's JSON: acme (12, then 40 seats) qualifies, globex (8) and initech (3) do not
    expect(series(ok(await seg({ e: numeric })))).toEqual([[0, [2, 2, 0, 1], 2]]);
    const text = { event_type: '_active', filters: [{ subprop_type: 'group', group_type: 'company', subprop_key: 'seats', subprop_op: 'is', subprop_value: ['40'] }] };
    expect(series(ok(await seg({ e: text })))).toEqual([[0, [0, 1, 0, 1], 2]]);
  });

  it('groups users by account ("by account"), with (none) for events without one', async () => {
    expect(series(ok(await seg({ e: { event_type: '_active' }, g: 'group:company' })))).toEqual([
      [[0, 'acme'], [2, 2, 0, 1], 2],
      [[0, 'globex'], [1, 1, 0, 1], 2],
      [[0, '(none)'], [0, 1, 0, 0], 1],
      [[0, 'initech'], [0, 0, 0, 1], 1],
    ]);
    expect(series(ok(await seg({ e: { event_type: '_active' }, g: 'group:company', limit: '1' })))).toEqual([[[0, 'acme'], [2, 2, 0, 1], 2]]);
  });

  it('applies segments on user and group properties, and two events side by side', async () => {
    expect(series(ok(await seg({ e: { event_type: '_active' }, s: J([{ prop: 'gp:role', op: 'is', values: ['admin'] }]) })))).toEqual([[0, [2, 1, 0, 1], 2]]);
    expect(series(ok(await seg({ e: { event_type: '_active' }, s: J([{ prop: 'group:company:region', op: 'is', values: ['EU'] }]) })))).toEqual([[0, [2, 2, 0, 2], 3]]);
    expect(series(ok(await seg({ e: { event_type: 'Signed Up' }, e2: { event_type: 'Invoice Sent' } })))).toEqual([
      [0, [2, 0, 0, 0], 2],
      [1, [0, 2, 0, 0], 2],
    ]);
  });

  it('buckets weeks (from Sunday) and hours', async () => {
    const weekly = ok(await seg({ e: { event_type: '_active' }, i: '7' }));
    expect(weekly.xValues).toEqual(['2025-10-26', '2025-11-02']);
    expect(series(weekly)).toEqual([[0, [3, 5], 5]]);
    const hourly = ok(await seg({ e: { event_type: 'Page Viewed' }, i: '-3600000', start: '20251102', end: '20251102' }));
    expect(hourly.xValues).toHaveLength(24);
    expect(hourly.series[0]!.map((v, h) => (v ? h : -1)).filter((h) => h >= 0)).toEqual([13, 15]);
  });

  it('keeps two projects apart, each in its own time zone', async () => {
    const two = ok(await seg({ e: { event_type: '_active' }, start: '20251101', end: '20251102' }, p2));
    expect(series(two)).toEqual([[0, [1, 0], 1]]);
    expect(series(ok(await seg({ e: { event_type: '_active' }, countGroup: 'company', gpMode: 'current', g: 'group:company:plan' }, p2)))).toEqual([
      [[0, 'trial'], [1, 0, 0, 0], 1],
    ]);
    // project 2's property does not exist for project 1
    const r = await seg({ e: { event_type: '_active', filters: [{ subprop_type: 'event', subprop_key: 'secret_prop', subprop_op: 'is', subprop_value: ['x'] }] } });
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('unknown_property');
  });

  it('treats hostile names and values as data', async () => {
    const e = { event_type: 'Hostile Event', filters: [{ subprop_type: 'event', subprop_key: HOSTILE_KEY, subprop_op: 'is', subprop_value: [HOSTILE_VALUE] }] };
    expect(series(ok(await seg({ e, start: '20251015', end: '20251015' })))).toEqual([[0, [1], 1]]);
    const g = ok(await seg({ e: { event_type: 'Hostile Event', group_by: [{ type: 'event', value: HOSTILE_KEY }] }, start: '20251015', end: '20251015' }));
    expect(g.seriesLabels).toEqual([[0, HOSTILE_VALUE]]);
    const rows = await queryRows<{ n: number }>(ch, sql`SELECT count() AS n FROM ${trusted(ch.table('events'))}`);
    expect(rows[0]!.n).toBe(12);
  });
});

describe('funnels', () => {
  const steps = [{ event_type: 'Signed Up' }, { event_type: 'Invoice Sent' }, { event_type: 'Payment Received' }];

  it('converts an account through steps done by different members; users alone do not convert', async () => {
    const [acct] = ok(await funnel({ e: steps, countGroup: 'company' }));
    expect(acct).toEqual({
      meta: { segmentIndex: 0 },
      events: ['Signed Up', 'Invoice Sent', 'Payment Received'],
      cumulativeRaw: [2, 2, 1],
      cumulative: [1, 1, 0.5],
      stepByStep: [1, 1, 0.5],
      // acme 23 h and globex 26 h to step 2 (median and mean 24.5 h); acme 49 h to step 3
      medianTransTimes: [0, 88_200_000, 176_400_000],
      avgTransTimes: [0, 88_200_000, 176_400_000],
    });
    const [users] = ok(await funnel({ e: steps }));
    expect(users!.cumulativeRaw).toEqual([2, 0, 0]);
  });

  it('applies the conversion window from the first step', async () => {
    const [acct] = ok(await funnel({ e: steps, countGroup: 'company', cs: '86400' }));
    expect(acct!.cumulativeRaw).toEqual([2, 1, 0]);
  });

  it('groups by the group property on the first step, stamped or current', async () => {
    const byPlan = ok(await funnel({ e: steps, countGroup: 'company', g: 'group:company:plan' }));
    expect(byPlan.map((s) => [s.groupValue, s.cumulativeRaw])).toEqual([['free', [1, 1, 1]], ['pro', [1, 1, 0]]]);
    const current = ok(await funnel({ e: steps, countGroup: 'company', g: 'group:company:plan', gpMode: 'current' }));
    expect(current.map((s) => [s.groupValue, s.cumulativeRaw])).toEqual([['enterprise', [1, 1, 1]], ['pro', [1, 1, 0]]]);
  });

  it('distinguishes ordered, sequential and unordered modes', async () => {
    const two = [{ event_type: 'Signed Up' }, { event_type: 'Page Viewed' }];
    expect(ok(await funnel({ e: two }))[0]!.cumulativeRaw).toEqual([2, 2]);
    // carol viewed a dashboard between signing up and viewing a page
    expect(ok(await funnel({ e: two, mode: 'sequential' }))[0]!.cumulativeRaw).toEqual([2, 1]);
    const reversed = [{ event_type: 'Invoice Sent' }, { event_type: 'Signed Up' }];
    expect(ok(await funnel({ e: reversed, countGroup: 'company' }))[0]!.cumulativeRaw).toEqual([2, 0]);
    const unordered = ok(await funnel({ e: reversed, countGroup: 'company', mode: 'unordered' }))[0]!;
    expect(unordered.cumulativeRaw).toEqual([2, 2]);
    expect(unordered.medianTransTimes).toEqual([0, 0]);
  });
});

describe('retention', () => {
  const signedUp = { event_type: 'Signed Up' };

  it('counts n-day and rolling retention of users in calendar days', async () => {
    const nday = ok(await retention({ se: signedUp, re: '_all', rt: 'calendar' }));
    const first = nday.series[0]!;
    expect(first.dates).toEqual(['2025-11-01', '2025-11-02', '2025-11-03', '2025-11-04']);
    expect(first.values['2025-11-01']!.map((c) => [c.count, c.outof, c.incomplete])).toEqual([
      [2, 2, false], [1, 2, false], [0, 2, false], [1, 2, false],
    ]);
    expect(first.values['2025-11-04']).toEqual([{ count: 0, outof: 0, incomplete: false }]);
    expect(first.combined.map((c) => [c.count, c.outof])).toEqual([[2, 2], [1, 2], [0, 2], [1, 2]]);
    expect(nday.seriesMeta).toEqual([{ segmentIndex: 0 }]);
    const rolling = ok(await retention({ se: signedUp, re: '_all', rm: 'rolling', rt: 'calendar' }));
    expect(counts(rolling.series[0]!.values['2025-11-01'])).toEqual([2, 2, 1, 1]);
  });

  it('retains accounts through any member, and finds new accounts by their first event', async () => {
    const acct = ok(await retention({ se: signedUp, re: '_all', countGroup: 'company', rt: 'calendar' }));
    expect(counts(acct.series[0]!.values['2025-11-01'])).toEqual([2, 2, 0, 2]);
    const fresh = ok(await retention({ se: '_new', re: '_active', countGroup: 'company', rt: 'calendar' }));
    expect(counts(fresh.series[0]!.values['2025-11-01'])).toEqual([2, 2, 0, 2]);
    expect(counts(fresh.series[0]!.values['2025-11-04'])).toEqual([1]);
  });

  it('groups cohorts by a property of their start event', async () => {
    const byRole = ok(await retention({ se: signedUp, re: '_all', g: 'gp:role', rt: 'calendar' }));
    expect(byRole.seriesMeta).toEqual([{ segmentIndex: 0, groupValue: 'admin' }]);
    expect(counts(byRole.series[0]!.values['2025-11-01'])).toEqual([2, 1, 0, 1]);
  });

  it('counts in 24-hour windows from each start by default: carol returns 71 hours after signing up, on day 2', async () => {
    const nday = ok(await retention({ se: signedUp, re: '_all' }));
    expect(counts(nday.series[0]!.values['2025-11-01'])).toEqual([2, 1, 1, 0]);
    const rolling = ok(await retention({ se: signedUp, re: '_all', rm: 'rolling' }));
    expect(counts(rolling.series[0]!.values['2025-11-01'])).toEqual([2, 2, 1, 0]);
  });
});

describe('errors', () => {
  const e = { event_type: '_active' };
  it.each([
    ['malformed JSON in e', { e: '{"event_type": ' }, 'e', 'invalid_json'],
    ['a bad date', { e, start: '20251341' }, 'start', 'invalid_date'],
    ['end before start', { e, start: '20251104', end: '20251101' }, 'end', 'invalid_date'],
    ['an unknown group type', { e, countGroup: 'planet' }, 'countGroup', 'unknown_group_type'],
    ['an unknown group type in a group-by', { e: { event_type: '_active', group_by: [{ type: 'group', group_type: 'planet' }] } }, 'e', 'unknown_group_type'],
    ['an unknown event property', { e: { event_type: '_active', filters: [{ subprop_type: 'event', subprop_key: 'nope', subprop_op: 'is', subprop_value: ['1'] }] } }, 'e', 'unknown_property'],
    ['an unknown group property', { e, s: J([{ prop: 'group:company:nope', op: 'is', values: ['1'] }]) }, 's', 'unknown_property'],
    ['an unknown operator', { e: { event_type: '_active', filters: [{ subprop_type: 'event', subprop_key: 'amount', subprop_op: 'approximately', subprop_value: ['1'] }] } }, 'e', 'unknown_operator'],
    ['an unknown cohort', { e, s: J([{ prop: 'cohort', op: 'is', values: ['c1'] }]) }, 's', 'unknown_cohort'],
    ['an unknown metric', { e, m: 'pct_dau' }, 'm', 'unsupported'],
  ])('segmentation: %s is a 400 naming the parameter', async (_name, params, param, code) => {
    const r = await seg(params);
    expect(r.status).toBe(400);
    expect(r.body.error).toEqual({ code, message: expect.any(String), details: expect.arrayContaining([expect.objectContaining({ param })]) });
  });

  it('names the unknown cohort (cohort segments: services/query/src/cohorts/segment.ts)', async () => {
    const r = await seg({ e, s: J([{ prop: 'cohort', op: 'is', values: ['c1'] }]) });
    expect(r.body.error?.message).toBe('s[0]: unknown cohort "c1"');
  });

  it('rejects too many funnel steps and unknown modes', async () => {
    const steps = Array.from({ length: 11 }, () => ({ event_type: 'Page Viewed' }));
    const r = await funnel({ e: steps });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'too_many_steps', details: [{ param: 'e' }] });
    expect((await funnel({ e: steps.slice(0, 1) })).body.error?.code).toBe('invalid_steps');
    expect((await funnel({ e: steps.slice(0, 2), mode: 'sideways' })).body.error?.details[0]?.param).toBe('mode');
    expect((await retention({ se: '{bad', re: '_all' })).body.error).toMatchObject({ code: 'invalid_json', details: [{ param: 'se' }] });
  });

  it('answers 401 without auth, with a wrong secret, or with another project\'s secret', async () => {
    for (const keys of [null, { api_key: p1.api_key, secret_key: 'wrong' }, { api_key: p1.api_key, secret_key: p2.secret_key }, { api_key: 'nope', secret_key: p1.secret_key }]) {
      const r = await call('/api/2/events/segmentation', { e, start: '20251101', end: '20251104' }, keys);
      expect(r.status).toBe(401);
      expect(r.body.error?.code).toBe('unauthorized');
    }
    const unknown = await call('/api/2/nothing', {});
    expect(unknown.status).toBe(404);
  });
});
