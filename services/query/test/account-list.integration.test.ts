// The account list and one account's usage against the hand-worked data set (account-health-data.ts): usage
// metrics and % changes, sorting by a metric and by a numeric property, property and metric filters, cohorts of
// companies and of users, paging, CSV, the daily series, project isolation and bad requests.
import type { NewKeys } from '@groupscope/projects';
import { insertGroupChanges, testClickHouse, type TestClickHouse } from '@groupscope/testing';
import { AS_OF, EXPECTED, NOW, iso, loadAccountHealthData } from './account-health-data';
import { startTestService, type TestService } from './service';

let ch: TestClickHouse;
let svc: TestService;
let A: NewKeys;
let B: NewKeys;

beforeAll(async () => {
  ch = await testClickHouse();
  svc = await startTestService(ch, { now: () => NOW });
  [A, B] = svc.projects as [NewKeys, NewKeys];
  await loadAccountHealthData(ch, A.project_id, B.project_id);
});

afterAll(async () => {
  await svc?.stop();
  await ch?.cleanup();
});

const J = JSON.stringify;
const list = (qs: Record<string, string | string[]> = {}, keys: NewKeys = A, type = 'company') => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(qs)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return svc.call(keys, 'GET', `/api/2/groups/${type}/list?${p}`);
};
const values = (res: { body: { groups: { group_value: string }[] } }) => res.body.groups.map((g) => g.group_value);
const filter = (...f: object[]) => J(f);

describe('account list', () => {
  it('lists every company with its usage metrics as of the last complete day, most active first', async () => {
    const res = await list();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ group_type: 'company', as_of: AS_OF, sort: { column: 'active_users_30d', order: 'desc' }, total: 5, limit: 50, offset: 0 });
    // 30-day active users 5, 2, 1, 1, 0; the tie broken by the group value
    expect(values(res)).toEqual(['acme', 'globex', 'hooli', 'initech', 'umbrella']);
    for (const g of res.body.groups) expect(g.metrics).toEqual(EXPECTED[g.group_value]);
    const acme = res.body.groups[0];
    expect(acme).toMatchObject({
      properties: { name: 'Acme', plan: 'enterprise', seats: 40, region: 'EU' },
      first_seen: iso('2026-10-20'),
      last_seen: iso('2026-11-29'),
    });
    expect(res.body.groups[4]).toMatchObject({ group_value: 'umbrella', first_seen: null, last_seen: null, properties: { plan: 'trial' } });
    // the event after the windows counts for last seen, not for the metrics
    expect(res.body.groups[3]).toMatchObject({ group_value: 'initech', last_seen: iso('2026-11-30', 9) });
  });

  it('sorts by any metric or % change, nulls last in both directions', async () => {
    expect(values(await list({ sort: 'events_7d_change', order: 'asc' }))).toEqual(['globex', 'acme', 'hooli', 'initech', 'umbrella']);
    expect(values(await list({ sort: 'events_7d_change', order: 'desc' }))).toEqual(['acme', 'globex', 'hooli', 'initech', 'umbrella']);
    expect(values(await list({ sort: 'days_since_last_seen', order: 'desc' }))).toEqual(['globex', 'acme', 'hooli', 'initech', 'umbrella']);
    expect(values(await list({ sort: 'last_seen', order: 'asc' }))).toEqual(['globex', 'acme', 'hooli', 'initech', 'umbrella']);
    expect(values(await list({ sort: 'group_value', order: 'asc' }))).toEqual(['acme', 'globex', 'hooli', 'initech', 'umbrella']);
  });

  it.each(['events_7d_change', 'active_users_30d_prev', 'active_users_1d', 'days_since_last_seen', 'seats'])(
    'shows every metric unchanged when sorted by %s (the order hands its aggregates to the page)',
    async (sort) => {
      const res = await list({ sort, filters: filter({ subprop_type: 'metric', subprop_key: 'events_30d_prev', subprop_op: 'greater or equal', subprop_value: [0] }) });
      expect(res.body.groups).toHaveLength(5);
      for (const g of res.body.groups) expect({ [g.group_value]: g.metrics }).toEqual({ [g.group_value]: EXPECTED[g.group_value] });
    },
  );

  it('sorts by a property: numbers as numbers, missing values last', async () => {
    expect(values(await list({ sort: 'seats', order: 'desc' }))).toEqual(['acme', 'globex', 'initech', 'hooli', 'umbrella']);
    expect(values(await list({ sort: 'seats', order: 'asc' }))).toEqual(['initech', 'globex', 'acme', 'hooli', 'umbrella']);
    expect(values(await list({ sort: 'name', order: 'asc' }))).toEqual(['acme', 'globex', 'initech', 'umbrella', 'hooli']);
  });

  it('filters by current properties with the charts operators and shape', async () => {
    const f = (...x: object[]) => list({ filters: filter(...x), sort: 'group_value', order: 'asc' });
    expect(values(await f({ subprop_type: 'group', subprop_key: 'plan', subprop_op: 'is', subprop_value: ['pro'] }))).toEqual(['globex', 'initech']);
    // a missing property matches "is not"
    expect(values(await f({ subprop_type: 'group', group_type: 'company', subprop_key: 'plan', subprop_op: 'is not', subprop_value: ['pro'] }))).toEqual(['acme', 'hooli', 'umbrella']);
    expect(values(await f({ subprop_type: 'group', subprop_key: 'seats', subprop_op: 'greater or equal', subprop_value: ['12'] }))).toEqual(['acme', 'globex']);
    expect(values(await f({ subprop_type: 'group', subprop_key: 'name', subprop_op: 'contains', subprop_value: ['BREL', 'lob'] }))).toEqual(['globex', 'umbrella']);
    // no subprop_key: the group value itself
    expect(values(await f({ subprop_type: 'group', subprop_op: 'is', subprop_value: ['hooli', 'acme'] }))).toEqual(['acme', 'hooli']);
  });

  it('filters by usage metrics; a null change matches no comparison', async () => {
    const f = (...x: object[]) => list({ filters: filter(...x), sort: 'group_value', order: 'asc' });
    expect(values(await f({ subprop_type: 'metric', subprop_key: 'active_users_7d', subprop_op: 'greater', subprop_value: [0] }))).toEqual(['acme', 'globex', 'hooli']);
    expect(values(await f({ subprop_type: 'metric', subprop_key: 'events_7d_change', subprop_op: 'less', subprop_value: ['0'] }))).toEqual(['globex']);
    expect(values(await f({ subprop_type: 'metric', subprop_key: 'events_30d_change', subprop_op: 'is', subprop_value: [0, 700] }))).toEqual(['acme', 'globex']);
    expect(values(await f({ subprop_type: 'metric', subprop_key: 'days_since_last_seen', subprop_op: 'is not', subprop_value: [0] }))).toEqual(['globex', 'umbrella']);
    // conditions are ANDed
    const both = await f(
      { subprop_type: 'group', subprop_key: 'plan', subprop_op: 'is', subprop_value: ['pro', 'enterprise'] },
      { subprop_type: 'metric', subprop_key: 'active_users_30d', subprop_op: 'greater or equal', subprop_value: ['2'] },
    );
    expect(values(both)).toEqual(['acme', 'globex']);
    expect(both.body.total).toBe(2);
  });

  it('pages with limit and offset; the total is the whole filtered list', async () => {
    const page = await list({ limit: '2', offset: '2' });
    expect(values(page)).toEqual(['hooli', 'initech']);
    expect(page.body).toMatchObject({ total: 5, limit: 2, offset: 2 });
    const past = await list({ limit: '2', offset: '10' });
    expect(past.body).toMatchObject({ groups: [], total: 5 });
  });

  it('filters by cohorts of companies and by cohorts of users (their accounts)', async () => {
    const companies = await svc.call(A, 'POST', '/api/3/cohorts/upload', { name: 'Key accounts', countGroup: 'company', ids: ['acme', 'umbrella'] });
    expect(companies.status).toBe(201);
    const users = await svc.call(A, 'POST', '/api/3/cohorts/upload', { name: 'Gary', countGroup: 'User', ids: ['gary', 'judy'] });
    expect(users.status).toBe(201);
    const byName = { sort: 'group_value', order: 'asc' };
    expect(values(await list({ ...byName, cohort: companies.body.id }))).toEqual(['acme', 'umbrella']);
    expect(values(await list({ ...byName, exclude_cohort: companies.body.id }))).toEqual(['globex', 'hooli', 'initech']);
    // accounts with an event by a member: judy's event is acme's and hooli's
    expect(values(await list({ ...byName, cohort: users.body.id }))).toEqual(['acme', 'globex', 'hooli']);
    expect(values(await list({ ...byName, cohort: [users.body.id, companies.body.id] }))).toEqual(['acme', 'globex', 'hooli', 'umbrella']);
    expect(values(await list({ ...byName, cohort: users.body.id, exclude_cohort: companies.body.id }))).toEqual(['globex', 'hooli']);
    // an account's cohorts: those of its group type that hold it
    const ofAcme = await svc.call(A, 'GET', '/api/3/cohorts?countGroup=company&member=acme');
    expect(ofAcme.body.cohorts.map((c: { name: string }) => c.name)).toEqual(['Key accounts']);
    expect((await svc.call(A, 'GET', '/api/3/cohorts?countGroup=company&member=globex')).body.cohorts).toEqual([]);
    expect((await svc.call(A, 'GET', '/api/3/cohorts?countGroup=User&member=gary')).body.cohorts.map((c: { name: string }) => c.name)).toEqual(['Gary']);
    expect((await svc.call(B, 'GET', '/api/3/cohorts?countGroup=company&member=acme')).body.cohorts).toEqual([]);
    const unknown = await list({ cohort: 'nope' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'unknown_cohort', details: [{ param: 'cohort' }] });
  });

  it('filters list-valued properties as the charts do, on the newest properties only', async () => {
    await insertGroupChanges(ch, [
      { project: A.project_id, type: 'squad', value: 'red', time: NOW - 86_400_000, props: { tags: ['old'], lead: 'ann' }, source: 'api' },
      { project: A.project_id, type: 'squad', value: 'red', time: NOW - 3_600_000, props: { tags: ['vip', 'beta'], lead: 'ann' }, source: 'api' },
      { project: A.project_id, type: 'squad', value: 'blue', time: NOW - 3_600_000, props: { tags: ['beta'], lead: 'bob' }, source: 'api' },
      // text that only looks like a list is a string
      { project: A.project_id, type: 'squad', value: 'green', time: NOW - 3_600_000, props: { tags: '[vip]', lead: 'cid' }, source: 'api' },
    ]);
    const f = (cond: object, extra: Record<string, string> = {}) =>
      list({ filters: filter({ subprop_type: 'group', subprop_key: 'tags', ...cond }), sort: 'group_value', order: 'asc', ...extra }, A, 'squad');
    // `is` on a list: any element equals one of the values; the older ['old'] is no longer the group's
    expect(values(await f({ subprop_op: 'is', subprop_value: ['vip'] }))).toEqual(['red']);
    expect(values(await f({ subprop_op: 'is', subprop_value: ['old'] }))).toEqual([]);
    expect(values(await f({ subprop_op: 'is', subprop_value: ['[vip]'] }))).toEqual(['green']);
    // `set is`: the whole set, in any order
    expect(values(await f({ subprop_op: 'set is', subprop_value: ['beta', 'vip'] }))).toEqual(['red']);
    expect(values(await f({ subprop_op: 'set is', subprop_value: ['beta'] }))).toEqual(['blue']);
    // sorted by a property (the order reads only the named keys), then every column of the page
    const sorted = await f({ subprop_op: 'is', subprop_value: ['beta'] }, { sort: 'lead', order: 'desc', columns: J(['tags', 'lead']) });
    expect(sorted.body.groups.map((g: { group_value: string; properties: object }) => [g.group_value, g.properties])).toEqual([
      ['blue', { tags: ['beta'], lead: 'bob' }],
      ['red', { tags: ['vip', 'beta'], lead: 'ann' }],
    ]);
  });

  it('returns the chosen property columns only', async () => {
    const res = await list({ columns: J(['plan', 'active_users_7d']), filters: filter({ subprop_type: 'group', subprop_op: 'is', subprop_value: ['acme'] }) });
    expect(res.body.groups).toEqual([{ group_value: 'acme', properties: { plan: 'enterprise' }, first_seen: iso('2026-10-20'), last_seen: iso('2026-11-29'), metrics: EXPECTED.acme }]);
  });

  it('exports the whole filtered, sorted list as CSV with the chosen columns', async () => {
    const res = await list({ format: 'csv', limit: '1', columns: J(['name', 'seats', 'active_users_7d', 'active_users_7d_change', 'last_seen']), sort: 'active_users_7d' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="accounts-company.csv"');
    expect(res.text).toBe(
      [
        'group_value,name,seats,active_users_7d,active_users_7d_change,last_seen',
        `acme,Acme,40,4,100,${iso('2026-11-29')}`,
        `globex,Globex,12,1,-50,${iso('2026-11-27')}`,
        `hooli,,,1,,${iso('2026-11-29')}`,
        `initech,Initech,5,0,,${iso('2026-11-30', 9)}`,
        'umbrella,Umbrella,,0,,',
        '',
      ].join('\r\n'),
    );
  });

  it('streams the CSV export: a list larger than one JSON read may hold is exported whole', async () => {
    // the same data behind a service that reads at most 1 KiB of JSON per call: the JSON list is refused, the CSV is not
    const small = await startTestService(ch, { now: () => NOW, env: { QUERY_MAX_RESULT_BYTES: '1024' } });
    try {
      const keys = small.projects[0]!;
      expect(keys.project_id).toBe(A.project_id);
      const json = await small.call(keys, 'GET', '/api/2/groups/company/list');
      expect(json.status).toBe(413);
      const csv = await small.call(keys, 'GET', `/api/2/groups/company/list?${new URLSearchParams({ format: 'csv', columns: J(['name']) })}`);
      expect(csv.status).toBe(200);
      expect(csv.text.split('\r\n')).toEqual(['group_value,name', 'acme,Acme', 'globex,Globex', 'hooli,', 'initech,Initech', 'umbrella,Umbrella', '']);
    } finally {
      await small.stop();
    }
  });

  it('keeps projects apart', async () => {
    const res = await list({}, B);
    expect(res.body.groups).toEqual([
      expect.objectContaining({ group_value: 'acme', properties: { name: 'Other Acme', plan: 'pro', seats: 1 }, metrics: expect.objectContaining({ active_users_1d: 1, events_30d: 1 }) }),
    ]);
  });

  it('answers for another day with as_of', async () => {
    // as of 11-21: globex had gary x2 and hank that day, and gary x4 on 10-25 (in the 30 days)
    const res = await list({ as_of: '20261121', filters: filter({ subprop_type: 'group', subprop_op: 'is', subprop_value: ['globex'] }) });
    expect(res.body.as_of).toBe('2026-11-21');
    expect(res.body.groups[0].metrics).toMatchObject({ active_users_1d: 2, events_7d: 3, events_30d: 7, active_users_30d: 2, days_since_last_seen: 0 });
  });

  it.each<[Record<string, string>, string, string, string?]>([
    [{ sort: 'colour' }, 'sort', 'unknown_property'],
    [{ columns: J(['plan', 'colour']) }, 'columns', 'unknown_property'],
    [{ filters: J([{ subprop_type: 'group', subprop_key: 'colour', subprop_op: 'is', subprop_value: ['red'] }]) }, 'filters', 'unknown_property'],
    [{ filters: J([{ subprop_type: 'group', subprop_key: 'plan', subprop_op: 'resembles', subprop_value: ['x'] }]) }, 'filters', 'unknown_operator'],
    [{ filters: J([{ subprop_type: 'group', group_type: 'team', subprop_key: 'plan', subprop_op: 'is', subprop_value: ['x'] }]) }, 'filters', 'invalid_definition'],
    [{ filters: J([{ subprop_type: 'metric', subprop_key: 'happiness', subprop_op: 'greater', subprop_value: ['1'] }]) }, 'filters', 'unknown_metric'],
    [{ filters: J([{ subprop_type: 'metric', subprop_key: 'events_7d', subprop_op: 'greater', subprop_value: ['many'] }]) }, 'filters', 'invalid_value'],
    [{ filters: '[{' }, 'filters', 'invalid_json'],
    [{ columns: J('plan') }, 'columns', 'invalid_parameter'],
    [{ order: 'up' }, 'order', 'invalid_parameter'],
    [{ limit: '0' }, 'limit', 'invalid_parameter'],
    [{ offset: '2000000' }, 'offset', 'invalid_parameter'],
    [{ as_of: '20261201' }, 'as_of', 'invalid_date'],
    [{ format: 'xml' }, 'format', 'invalid_parameter'],
    [{}, 'group_type', 'unknown_group_type', 'planet'],
  ])('rejects %j with a 400 naming %s', async (qs, param, code, type = 'company') => {
    const res = await list(qs, A, type);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.details[0].param).toBe(param);
  });

  it('rejects a cohort of another group type', async () => {
    await insertGroupChanges(ch, [{ project: A.project_id, type: 'team', value: 't1', time: '2026-11-01T00:00:00', props: { name: 'Team 1' } }]);
    const teams = await svc.call(A, 'POST', '/api/3/cohorts/upload', { name: 'Teams', countGroup: 'team', ids: ['t1'] });
    expect(teams.status).toBe(201);
    const res = await list({ cohort: teams.body.id });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'cohort_unit_mismatch', details: [{ param: 'cohort' }] });
    expect(values(await list({}, A, 'team'))).toEqual(['t1']);
  });
});

describe("one account's usage", () => {
  it('gives every metric and the daily series for sparklines', async () => {
    const res = await svc.call(A, 'GET', '/api/2/groups/company/acme/usage');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ group_type: 'company', group_value: 'acme', as_of: AS_OF, first_seen: iso('2026-10-20'), last_seen: iso('2026-11-29') });
    expect(res.body.metrics).toEqual(EXPECTED.acme);
    const { days, active_users, events } = res.body.daily;
    expect(days).toHaveLength(30);
    expect(days[0]).toBe('2026-10-31');
    expect(days[29]).toBe('2026-11-29');
    const at = (d: string) => days.indexOf(d);
    const nonZero = days.flatMap((d: string, i: number) => (events[i] > 0 ? [[d, active_users[i], events[i]]] : []));
    expect(nonZero).toEqual([
      ['2026-11-19', 2, 2],
      ['2026-11-26', 1, 1],
      ['2026-11-28', 1, 1],
      ['2026-11-29', 3, 4],
    ]);
    expect(events[at('2026-11-29')]).toBe(4);
    const week = await svc.call(A, 'GET', '/api/2/groups/company/globex/usage?days=7&as_of=20261127');
    expect(week.body.daily).toEqual({
      days: ['2026-11-21', '2026-11-22', '2026-11-23', '2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27'],
      active_users: [2, 0, 0, 0, 0, 0, 1],
      events: [3, 0, 0, 0, 0, 0, 1],
    });
  });

  it('answers 404 for an unknown group and 400 for an unknown group type', async () => {
    expect((await svc.call(A, 'GET', '/api/2/groups/company/nobody/usage')).status).toBe(404);
    expect((await svc.call(A, 'GET', '/api/2/groups/planet/acme/usage')).status).toBe(400);
    expect((await svc.call(B, 'GET', '/api/2/groups/company/globex/usage')).status).toBe(404);
  });
});
