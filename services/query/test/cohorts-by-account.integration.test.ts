// Cohorts by account properties against a data set worked out by hand: cohorts of users defined by their companies'
// current or stamped properties, cohorts of companies defined by their properties, combined with an event
// condition, and used as segments in a chart and as a filter of the account list.
//
// Seen from 2026-11-30 15:00 UTC (30 days back: 10-31 15:00). Current plans: acme enterprise (trial until 11-20),
// globex pro, initech trial. Events, with the plan stamped on them at ingest:
//   alice  acme 11-10 (trial)          bob    acme 11-25 (enterprise), Invoice Sent
//   carol  globex 11-20 (pro)          dave   initech 11-22 (trial)
//   erin   acme 10-01 (trial, more than 30 days ago)
//   frank  one event of acme (enterprise) and globex (pro), 11-28
import type { NewKeys } from '@groupscope/projects';
import { insertEvents, insertGroupChanges, testClickHouse, type TestClickHouse } from '@groupscope/testing';
import { startTestService, type TestService } from './service';

const NOW = Date.UTC(2026, 10, 30, 15);
let ch: TestClickHouse;
let svc: TestService;
let A: NewKeys;

beforeAll(async () => {
  ch = await testClickHouse();
  svc = await startTestService(ch, { now: () => NOW });
  A = svc.projects[0]!;
  const p = A.project_id;
  await insertGroupChanges(ch, [
    { project: p, type: 'company', value: 'acme', time: '2026-09-01T00:00:00', props: { plan: 'trial' } },
    { project: p, type: 'company', value: 'acme', time: '2026-11-20T00:00:00', props: { plan: 'enterprise' } },
    { project: p, type: 'company', value: 'globex', time: '2026-09-01T00:00:00', props: { plan: 'pro' } },
    { project: p, type: 'company', value: 'initech', time: '2026-09-01T00:00:00', props: { plan: 'trial' } },
    { project: p, type: 'team', value: 't1', time: '2026-09-01T00:00:00', props: { plan: 'trial' } },
  ]);
  const e = (user: string, day: string, companies: Record<string, string>, type = 'Used Feature') => ({
    project: p,
    time: `${day}T12:00:00`,
    type,
    user,
    groups: { company: Object.fromEntries(Object.entries(companies).map(([c, plan]) => [c, { plan }])) },
  });
  await insertEvents(ch, [
    e('alice', '2026-11-10', { acme: 'trial' }),
    e('bob', '2026-11-25', { acme: 'enterprise' }, 'Invoice Sent'),
    e('carol', '2026-11-20', { globex: 'pro' }),
    e('dave', '2026-11-22', { initech: 'trial' }),
    e('erin', '2026-10-01', { acme: 'trial' }),
    e('frank', '2026-11-28', { acme: 'enterprise', globex: 'pro' }),
  ]);
});

afterAll(async () => {
  await svc?.stop();
  await ch?.cleanup();
});

const plan = (op: string, values: string[], extra: Record<string, unknown> = {}) => ({
  type: 'group_property', group_type: 'company', subprop_key: 'plan', subprop_op: op, subprop_value: values, ...extra,
});
async function cohort(countGroup: string, definition: unknown[]): Promise<{ id: string; members: string[] }> {
  const created = await svc.call(A, 'POST', '/api/3/cohorts', { name: `c-${Math.random()}`, countGroup, definition });
  expect(created.status).toBe(201);
  const members = await svc.call(A, 'GET', `/api/3/cohorts/${created.body.id}/members`);
  return { id: created.body.id, members: members.body.members.map((m: { id: string }) => m.id).sort() };
}

describe('cohorts by account properties', () => {
  it("takes the users of companies by their current properties, active with them in the window", async () => {
    expect((await cohort('User', [plan('is', ['enterprise'])])).members).toEqual(['alice', 'bob', 'frank']);
    // erin's acme event is older than 30 days; 90 days reach it
    expect((await cohort('User', [plan('is', ['enterprise'], { time_value: 90 })])).members).toEqual(['alice', 'bob', 'erin', 'frank']);
    // frank is also a user of globex
    expect((await cohort('User', [plan('is not', ['enterprise'])])).members).toEqual(['carol', 'dave', 'frank']);
    // no property: the company itself
    expect((await cohort('User', [{ type: 'group_property', group_type: 'company', subprop_op: 'is', subprop_value: ['globex'] }])).members).toEqual(['carol', 'frank']);
  });

  it('takes the users whose events were stamped with the property (gpMode event)', async () => {
    // alice used acme while it was on trial; dave uses initech, on trial
    expect((await cohort('User', [plan('is', ['trial'], { gpMode: 'event' })])).members).toEqual(['alice', 'dave']);
  });

  it('takes companies by their own properties, now or as stamped', async () => {
    expect((await cohort('company', [plan('is', ['pro', 'trial'])])).members).toEqual(['globex', 'initech']);
    // acme had an event stamped trial (alice's) in the last 30 days
    expect((await cohort('company', [plan('is', ['trial'], { gpMode: 'event' })])).members).toEqual(['acme', 'initech']);
  });

  it('combines with event conditions (ANDed)', async () => {
    const c = await cohort('User', [{ type: 'event', event_type: 'Invoice Sent', op: '>=', value: 1, time_value: 30 }, plan('is', ['enterprise'])]);
    expect(c.members).toEqual(['bob']);
    const companies = await cohort('company', [{ type: 'event', event_type: '_active', op: '>=', value: 1, time_value: 30 }, plan('is not', ['pro'])]);
    expect(companies.members).toEqual(['acme', 'initech']);
  });

  it('works as a segment in charts and as a filter of the account list', async () => {
    const users = await cohort('User', [plan('is', ['enterprise'])]);
    const chart = await svc.call(
      A,
      'GET',
      `/api/2/events/segmentation?${new URLSearchParams({ e: '{"event_type":"_active"}', start: '20261101', end: '20261130', s: JSON.stringify([{ prop: 'cohort', op: 'is', values: [users.id] }]) })}`,
    );
    expect(chart.body.data.seriesCollapsed[0][0].value).toBe(3);
    const companies = await cohort('company', [plan('is', ['pro', 'trial'])]);
    const list = await svc.call(A, 'GET', `/api/2/groups/company/list?sort=group_value&order=asc&cohort=${companies.id}`);
    expect(list.body.groups.map((g: { group_value: string }) => g.group_value)).toEqual(['globex', 'initech']);
    // the account list by a cohort of users: the companies of its members
    const ofUsers = await svc.call(A, 'GET', `/api/2/groups/company/list?sort=group_value&order=asc&cohort=${users.id}`);
    expect(ofUsers.body.groups.map((g: { group_value: string }) => g.group_value)).toEqual(['acme', 'globex']);
  });

  it.each<[string, string, unknown[], string]>([
    ['a property of another group type in a cohort of companies', 'company', [{ ...plan('is', ['trial']), group_type: 'team' }], 'invalid_definition'],
    ['an unknown property', 'company', [{ ...plan('is', ['x']), subprop_key: 'colour' }], 'unknown_property'],
    ['an unknown operator', 'User', [plan('resembles', ['x'])], 'unknown_operator'],
    ['no value', 'User', [plan('is', [])], 'missing_value'],
    ['a value that is an object', 'company', [plan('is', [{ a: 1 }] as never)], 'invalid_value'],
    ['an unknown group type', 'User', [{ ...plan('is', ['x']), group_type: 'planet' }], 'unknown_group_type'],
    ['a stamped property that never was', 'User', [{ ...plan('is', ['x'], { gpMode: 'event' }), subprop_key: 'colour' }], 'unknown_property'],
  ])('rejects %s', async (_name, countGroup, definition, code) => {
    const param = 'definition[0]';
    const res = await svc.call(A, 'POST', '/api/3/cohorts', { name: 'bad', countGroup, definition });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.details[0].param).toBe(param);
  });
});
