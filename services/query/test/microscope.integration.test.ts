// Microscope on a ClickHouse server: the users or groups behind a segmentation point, a funnel step (reached or
// dropped off) and a retention cell; JSON and CSV; a drop-off list saved as a cohort and reused as a funnel and
// segmentation segment. Charts and microscope share parameters and SQL (services/query/src/charts).
import { testClickHouse, insertEvents, type TestClickHouse, type TestEvent } from '@groupscope/testing';
import type { NewKeys } from '@groupscope/projects';
import { startTestService, type TestService } from './service';

let ch: TestClickHouse;
let svc: TestService;
let A: NewKeys;
const t = (iso: string) => Date.parse(iso);
const J = JSON.stringify;
const PLAN: Record<string, string> = { acme: 'enterprise', globex: 'trial', initech: 'trial', umbrella: 'enterprise' };

beforeAll(async () => {
  ch = await testClickHouse();
  svc = await startTestService(ch);
  A = svc.projects[0]!;
  const ev = (at: string, type: string, user: string, company: string): TestEvent => ({
    project: A.project_id,
    time: t(at),
    type,
    user,
    groups: { company: { [company]: { plan: PLAN[company] } } },
  });
  await insertEvents(ch, [
    // acme converts through two members: a1 signs up and invites, a2 creates the project
    ev('2025-11-01T10:00:00Z', 'Signed Up', 'a1', 'acme'),
    ev('2025-11-01T12:00:00Z', 'Created Project', 'a2', 'acme'),
    ev('2025-11-02T09:00:00Z', 'Invited Teammate', 'a1', 'acme'),
    // globex and umbrella stop before inviting; initech after signing up
    ev('2025-11-02T08:00:00Z', 'Signed Up', 'g1', 'globex'),
    ev('2025-11-03T08:00:00Z', 'Created Project', 'g1', 'globex'),
    ev('2025-11-03T09:00:00Z', 'Signed Up', 'i1', 'initech'),
    ev('2025-11-04T07:00:00Z', 'Signed Up', 'u1', 'umbrella'),
    ev('2025-11-04T07:30:00Z', 'Created Project', 'u1', 'umbrella'),
    // another project's acme is never seen
    { ...ev('2025-11-01T10:00:00Z', 'Signed Up', 'zed', 'acme'), project: svc.projects[1]!.project_id },
  ]);
});

afterAll(async () => {
  await svc?.stop();
  await ch?.cleanup();
});

const qs = (params: Record<string, string | string[]>) => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) u.append(k, x);
  return u.toString();
};
const range = { start: '20251101', end: '20251107' };
const steps = [J({ event_type: 'Signed Up' }), J({ event_type: 'Created Project' }), J({ event_type: 'Invited Teammate' })];
const funnel = (extra: Record<string, string | string[]> = {}) => ({ ...range, e: steps, countGroup: 'company', ...extra });
const ids = (body: { members: { id: string }[] }) => body.members.map((m) => m.id);
const get = (path: string, params: Record<string, string | string[]>) => svc.call(A, 'GET', `${path}?${qs(params)}`);

describe('microscope', () => {
  it('lists the groups that reached a funnel step or dropped off before it', async () => {
    const chart = await get('/api/2/funnels', funnel());
    expect(chart.body.data[0].cumulativeRaw).toEqual([4, 3, 1]);
    const reached = await get('/api/2/microscope', funnel({ chart: 'funnels', step: '2' }));
    expect(reached.status).toBe(200);
    expect(reached.body).toMatchObject({ countGroup: 'company', chart: 'funnels', total: 3 });
    expect(ids(reached.body)).toEqual(['acme', 'globex', 'umbrella']);
    expect(reached.body.members[0]).toEqual({ id: 'acme', first_time: '2025-11-01T10:00:00.000Z' });
    expect(ids((await get('/api/2/microscope', funnel({ chart: 'funnels', step: '3', dropoff: 'true' }))).body)).toEqual(['globex', 'umbrella']);
    expect(ids((await get('/api/2/microscope', funnel({ chart: 'funnels', step: '2', dropoff: 'true' }))).body)).toEqual(['initech']);
    expect(ids((await get('/api/2/microscope', funnel({ chart: 'funnels', step: '3' }))).body)).toEqual(['acme']);
    // by users: a1 signed up and invited, but the project was created by a2, so no user converted
    expect(ids((await get('/api/2/microscope', { ...range, e: steps, chart: 'funnels', step: '2', dropoff: 'true' })).body)).toEqual(['a1', 'i1']);
  });

  it('downloads the list as CSV', async () => {
    const res = await get('/api/2/microscope', funnel({ chart: 'funnels', step: '3', dropoff: 'true', format: 'csv' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.text).toBe('id,first_time\r\nglobex,2025-11-02T08:00:00.000Z\r\numbrella,2025-11-04T07:00:00.000Z\r\n');
  });

  it('lists the units of a segmentation point, series in the chart order', async () => {
    const e = J({ event_type: 'Signed Up', group_by: [{ type: 'group', group_type: 'company', value: 'plan' }] });
    const chart = await get('/api/2/events/segmentation', { ...range, e, countGroup: 'company' });
    expect(chart.body.data.seriesLabels).toEqual([
      [0, 'enterprise'],
      [0, 'trial'],
    ]);
    const point = (x: string, segment: string) => get('/api/2/microscope', { ...range, e, countGroup: 'company', chart: 'segmentation', x, segment });
    expect(ids((await point('2025-11-03', '1')).body)).toEqual(['initech']);
    expect(ids((await point('2025-11-02', '1')).body)).toEqual(['globex']);
    expect(ids((await point('2025-11-04', '0')).body)).toEqual(['umbrella']);
    expect(ids((await point('2025-11-04', '1')).body)).toEqual([]);
    // users, no group-by: the series index is the event's
    const users = await get('/api/2/microscope', { ...range, e: J({ event_type: '_active' }), chart: 'segmentation', x: '2025-11-01' });
    expect(users.body).toMatchObject({ countGroup: 'User', total: 2 });
    expect(ids(users.body)).toEqual(['a1', 'a2']);
  });

  it('lists the units of a retention cell', async () => {
    const params = { ...range, se: J({ event_type: 'Signed Up' }), re: J({ event_type: 'Created Project' }), chart: 'retention' };
    expect(ids((await get('/api/2/microscope', { ...params, x: '2025-11-02', n: '1' })).body)).toEqual(['g1']);
    expect(ids((await get('/api/2/microscope', { ...params, x: '2025-11-04', n: '0' })).body)).toEqual(['u1']);
    expect(ids((await get('/api/2/microscope', { ...params, x: '2025-11-04', n: '1' })).body)).toEqual([]);
    const groups = await get('/api/2/microscope', { ...params, countGroup: 'company', x: '2025-11-01', n: '0' });
    expect(groups.body).toMatchObject({ countGroup: 'company', members: [{ id: 'acme', first_time: '2025-11-01T10:00:00.000Z' }] });
  });

  it.each([
    ['no chart', { ...funnel() }, 'chart', 'missing_parameter'],
    ['an unknown chart', { ...funnel(), chart: 'pie' }, 'chart', 'invalid_parameter'],
    ['a funnel without step', { ...funnel(), chart: 'funnels' }, 'step', 'missing_parameter'],
    ['a step past the last', { ...funnel(), chart: 'funnels', step: '4' }, 'step', 'invalid_parameter'],
    ['a drop-off before step 1', { ...funnel(), chart: 'funnels', step: '1', dropoff: 'true' }, 'step', 'invalid_parameter'],
    ['a segment the chart does not have', { ...funnel(), chart: 'funnels', step: '2', segment: '1' }, 'segment', 'invalid_parameter'],
    ['an x outside the chart', { ...range, e: J({ event_type: '_active' }), chart: 'segmentation', x: '2025-12-01' }, 'x', 'invalid_parameter'],
    ['an unknown group type', { ...range, e: J({ event_type: '_active' }), chart: 'segmentation', x: '2025-11-01', countGroup: 'planet' }, 'countGroup', 'unknown_group_type'],
    ['a retention cell without x', { ...range, se: J({ event_type: 'Signed Up' }), re: '_active', chart: 'retention' }, 'x', 'missing_parameter'],
  ])('rejects %s with a 400 naming the parameter', async (_label, params, param, code) => {
    const res = await get('/api/2/microscope', params as Record<string, string>);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code, details: [expect.objectContaining({ param })] });
  });
});

describe('a microscope list saved as a cohort', () => {
  it('saves the drop-off of the last step and reuses it as a funnel and a segmentation segment', async () => {
    const saved = await svc.call(A, 'POST', `/api/3/cohorts/from-microscope?${qs(funnel({ chart: 'funnels', step: '3', dropoff: 'true' }))}`, { name: 'Stalled before inviting' });
    expect(saved.status).toBe(201);
    expect(saved.body).toMatchObject({ name: 'Stalled before inviting', countGroup: 'company', kind: 'static', size: 2 });
    const id = saved.body.id as string;
    const members = await svc.call(A, 'GET', `/api/3/cohorts/${id}/members`);
    expect(members.body.members).toEqual([{ id: 'globex' }, { id: 'umbrella' }]);

    // the cohort as a funnel segment: only globex and umbrella enter; neither invites
    const inCohort = await get('/api/2/funnels', funnel({ s: J([{ prop: 'cohort', op: 'is', values: [id] }]) }));
    expect(inCohort.status).toBe(200);
    expect(inCohort.body.data[0].cumulativeRaw).toEqual([2, 2, 0]);
    const outside = await get('/api/2/funnels', funnel({ s: J([{ prop: 'cohort', op: 'is not', values: [id] }]) }));
    expect(outside.body.data[0].cumulativeRaw).toEqual([2, 1, 1]);
    // a cohort of groups keeps the events attributed to its groups, whatever is counted: here users
    const seg = await get('/api/2/events/segmentation', { ...range, e: J({ event_type: '_active' }), s: J([{ prop: 'cohort', op: 'is', values: [id] }]) });
    expect(seg.body.data.seriesCollapsed).toEqual([[{ setId: '', value: 2 }]]);
    // and the microscope of that chart lists those users
    const who = await get('/api/2/microscope', { ...range, e: J({ event_type: '_active' }), s: J([{ prop: 'cohort', op: 'is', values: [id] }]), chart: 'segmentation', x: '2025-11-04' });
    expect(ids(who.body)).toEqual(['u1']);
    // another project does not know the cohort
    const other = await svc.call(svc.projects[1]!, 'GET', `/api/2/funnels?${qs(funnel({ s: J([{ prop: 'cohort', op: 'is', values: [id] }]) }))}`);
    expect(other.status).toBe(400);
    expect(other.body.error).toMatchObject({ code: 'unknown_cohort', details: [{ param: 's', condition: 's[0]' }] });
  });

  it('uses a user cohort in retention', async () => {
    const up = await svc.call(A, 'POST', '/api/3/cohorts/upload', { name: 'g1 and u1', ids: ['g1', 'u1'] });
    expect(up.body.size).toBe(2);
    const res = await get('/api/2/retention', { ...range, se: J({ event_type: 'Signed Up' }), re: J({ event_type: 'Created Project' }), s: J([{ prop: 'cohort', op: 'is', values: [up.body.id] }]) });
    expect(res.status).toBe(200);
    const v = res.body.data.series[0].values;
    expect(v['2025-11-01'][0].count).toBe(0); // a1 is not in the cohort
    expect(v['2025-11-02'].slice(0, 2).map((c: { count: number }) => c.count)).toEqual([1, 1]);
    expect(v['2025-11-04'][0].count).toBe(1);
  });
});
