// Account lookup on a ClickHouse server: group types, search over property history, the 6-month activity rule,
// one account's page and activity stream, and project isolation. Rows are inserted as the writer would.
import { testClickHouse, DAY, insertEvents, insertGroupChanges, type TestClickHouse } from '@groupscope/testing';
import type { NewKeys } from '@groupscope/projects';
import { startTestService, type TestService } from './service';

let ch: TestClickHouse;
let svc: TestService;
let A: NewKeys;
let B: NewKeys;
const now = Date.now();
const ago = (days: number) => now - days * DAY;
const iso = (ms: number) => new Date(ms).toISOString();

beforeAll(async () => {
  ch = await testClickHouse();
  const started = await startTestService(ch);
  svc = started;
  [A, B] = started.projects as [NewKeys, NewKeys];
  const a = A.project_id;
  const b = B.project_id;
  const acmeTrial = { plan: 'trial', name: 'Acme Corp', region: 'EU' };
  const acmeEnt = { plan: 'enterprise', name: 'Acme Corp', region: 'EU' };
  await insertGroupChanges(ch, [
    { project: a, type: 'company', value: 'acme', time: ago(40), props: acmeTrial, source: 'api' },
    { project: a, type: 'company', value: 'acme', time: ago(10), props: acmeEnt, changed: ['plan'], source: 'salesforce' },
    { project: a, type: 'company', value: 'globex', time: ago(20), props: { plan: 'enterprise', name: 'Globex' } },
    { project: a, type: 'company', value: 'initech', time: ago(250), props: { plan: 'trial' } },
    { project: a, type: 'company', value: 'newco', time: ago(3), props: { plan: 'trial', seats: 5 } },
    // identified yesterday, but its last event is 7 months old
    { project: a, type: 'company', value: 'oldco', time: ago(1), props: { plan: 'trial' } },
    { project: b, type: 'company', value: 'acme', time: ago(5), props: { plan: 'trial', name: 'Other Acme' } },
  ]);
  await insertEvents(ch, [
    { project: a, time: ago(30), type: 'Signed Up', user: 'alice', groups: { company: { acme: acmeTrial } } },
    { project: a, time: ago(5), type: 'Login', user: 'bob', groups: { company: { acme: acmeEnt } } },
    {
      project: a,
      time: ago(2),
      type: 'Invoice Sent',
      user: 'alice',
      props: { amount: 120, items: ['a', 'b'], paid: true, code: '007' },
      userProps: { role: 'admin', logins: 3, tags: ['docs'], beta: false, prefs: { theme: 'dark' }, note: '["looks like a list"]' },
      groups: { company: { acme: acmeEnt }, team: { t1: {} } },
    },
    {
      project: a,
      time: ago(1),
      type: 'Shared Doc',
      user: 'carol',
      groups: { company: { acme: acmeEnt, globex: { plan: 'enterprise', name: 'Globex' } } },
    },
    { project: a, time: ago(240), type: 'Login', user: 'dave', groups: { company: { initech: { plan: 'trial' } } } },
    { project: a, time: ago(215), type: 'Login', user: 'olga', groups: { company: { oldco: { plan: 'trial' } } } },
    { project: b, time: ago(1), type: 'Login', user: 'zed', groups: { company: { acme: { plan: 'trial', name: 'Other Acme' } } } },
  ]);
});

afterAll(async () => {
  await svc?.stop();
  await ch?.cleanup();
});

const search = async (keys: NewKeys, qs: Record<string, string>) => {
  const res = await svc.call(keys, 'GET', `/api/2/groups/search?${new URLSearchParams(qs)}`);
  return res;
};
const values = (res: { body: { matches: { group_value: string }[] } }) => res.body.matches.map((m) => m.group_value);

describe('account lookup', () => {
  it('lists group types with their number of groups', async () => {
    const res = await svc.call(A, 'GET', '/api/2/groups/types');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ types: [{ group_type: 'company', groups: 5 }, { group_type: 'team', groups: 1 }] });
    expect((await svc.call(B, 'GET', '/api/2/groups/types')).body).toEqual({ types: [{ group_type: 'company', groups: 1 }] });
  });

  it('finds a group by any value a property ever held, but not an inactive one', async () => {
    // acme was trial, then enterprise: both find it; initech is trial but silent for 8 months; newco was only
    // identified (3 days ago), oldco identified yesterday but silent for 7 months: a group identify is not activity
    const trial = await search(A, { group_type: 'company', q: 'plan = trial' });
    expect(trial.status).toBe(200);
    expect(values(trial)).toEqual(['acme']);
    expect(trial.body.matches[0]).toEqual({
      group_type: 'company',
      group_value: 'acme',
      properties: { plan: 'enterprise', name: 'Acme Corp', region: 'EU' },
      first_seen: iso(ago(30)),
      last_seen: iso(ago(1)),
      last_updated: iso(ago(10)),
      num_users: 3,
    });
    expect(values(await search(A, { group_type: 'company', q: 'plan=enterprise' }))).toEqual(['acme', 'globex']);
    expect(values(await search(A, { group_type: 'company', q: '"name" = "Acme Corp"' }))).toEqual(['acme']);
    expect(values(await search(A, { q: 'plan = trial' }))).toEqual(['acme']);
    expect(values(await search(A, { group_type: 'company', q: 'plan = free' }))).toEqual([]);
    expect(values(await search(A, { group_type: 'company', q: 'new' }))).toEqual([]);
  });

  it('matches plain text as a prefix of the group value, ignoring case', async () => {
    expect(values(await search(A, { group_type: 'company', q: 'AC' }))).toEqual(['acme']);
    expect(values(await search(A, { group_type: 'company', q: 'init' }))).toEqual([]);
    expect(values(await search(A, { group_type: 'company', q: 'old' }))).toEqual([]);
    const all = await search(A, { group_type: 'company' });
    expect(all.body.matches.map((m: { group_value: string; num_users: number }) => [m.group_value, m.num_users])).toEqual([['acme', 3], ['globex', 1]]);
  });

  it('pages', async () => {
    expect(values(await search(A, { group_type: 'company', limit: '1', offset: '1' }))).toEqual(['globex']);
    expect(values(await search(A, { group_type: 'company', limit: '2', offset: '1' }))).toEqual(['globex']);
  });

  it('keeps projects apart', async () => {
    const res = await search(B, { group_type: 'company', q: 'plan = trial' });
    expect(res.body.matches).toEqual([expect.objectContaining({ group_value: 'acme', properties: { plan: 'trial', name: 'Other Acme' } })]);
    expect(values(await search(B, { group_type: 'company', q: 'plan = enterprise' }))).toEqual([]);
    const page = await svc.call(B, 'GET', '/api/2/groups/company/acme');
    expect(page.body.users).toEqual([{ user_id: 'zed', device_id: null, last_seen: iso(ago(1)) }]);
    expect(page.body.group.num_events).toBe(1);
  });

  it.each([
    [{ group_type: 'company', q: 'plan = trial, region = EU' }, 'q', 'invalid_search', /commas and semicolons/],
    [{ group_type: 'company', q: 'plan = trial; region = EU' }, 'q', 'invalid_search', /commas and semicolons/],
    [{ group_type: 'company', q: 'plan = Acme Corp' }, 'q', 'invalid_search', /quotes/],
    [{ group_type: 'company', q: 'colour = red' }, 'q', 'unknown_property', /unknown group property "colour"/],
    [{ group_type: 'planet', q: 'x' }, 'group_type', 'unknown_group_type', /unknown group type "planet"/],
    [{ group_type: 'company', limit: '0' }, 'limit', 'invalid_parameter', /limit/],
    [{ group_type: 'company', offset: 'x' }, 'offset', 'invalid_parameter', /offset/],
  ])('rejects %j with a 400 naming %s', async (qs, param, code, message) => {
    const res = await search(A, qs);
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code, message: expect.stringMatching(message), details: [{ param }] });
  });

  it('shows an account: current properties, first and last seen, counts and users', async () => {
    const res = await svc.call(A, 'GET', '/api/2/groups/company/acme');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      group: {
        group_type: 'company',
        group_value: 'acme',
        properties: { plan: 'enterprise', name: 'Acme Corp', region: 'EU' },
        first_seen: iso(ago(30)),
        last_seen: iso(ago(1)),
        last_updated: iso(ago(10)),
        num_events: 4,
        num_users: 3,
        property_sources: {
          plan: { source: 'salesforce', set_at: iso(ago(10)) },
          name: { source: 'api', set_at: iso(ago(40)) },
          region: { source: 'api', set_at: iso(ago(40)) },
        },
      },
      users: [
        { user_id: 'carol', device_id: null, last_seen: iso(ago(1)) },
        { user_id: 'alice', device_id: null, last_seen: iso(ago(2)) },
        { user_id: 'bob', device_id: null, last_seen: iso(ago(5)) },
      ],
    });
    expect((await svc.call(A, 'GET', '/api/2/groups/company/nobody')).status).toBe(404);
    expect((await svc.call(A, 'GET', '/api/2/groups/planet/acme')).status).toBe(400);
  });

  it("lists an account's property history, newest first, with who set each value", async () => {
    const res = await svc.call(A, 'GET', '/api/2/groups/company/acme/history');
    expect(res.status).toBe(200);
    expect(res.body.history).toEqual([
      { property: 'plan', value: 'enterprise', removed: false, time: iso(ago(10)), source: 'salesforce' },
      { property: 'name', value: 'Acme Corp', removed: false, time: iso(ago(40)), source: 'api' },
      { property: 'plan', value: 'trial', removed: false, time: iso(ago(40)), source: 'api' },
      { property: 'region', value: 'EU', removed: false, time: iso(ago(40)), source: 'api' },
    ]);
    const plan = await svc.call(A, 'GET', '/api/2/groups/company/acme/history?property=plan&limit=1');
    expect(plan.body.history).toEqual([{ property: 'plan', value: 'enterprise', removed: false, time: iso(ago(10)), source: 'salesforce' }]);
    // another project's acme is not this one
    expect((await svc.call(B, 'GET', '/api/2/groups/company/acme/history')).body.history.map((h: { value: string }) => h.value).sort()).toEqual(['Other Acme', 'trial']);
    expect((await svc.call(A, 'GET', '/api/2/groups/planet/acme/history')).status).toBe(400);
  });

  it('streams the activity newest or oldest first, with properties as stamped at ingest', async () => {
    const latest = await svc.call(A, 'GET', '/api/2/groups/company/acme/activity');
    expect(latest.status).toBe(200);
    expect(latest.body.events.map((e: { event_type: string }) => e.event_type)).toEqual(['Shared Doc', 'Invoice Sent', 'Login', 'Signed Up']);
    const [shared, invoice, , signup] = latest.body.events;
    expect(signup).toMatchObject({ user_id: 'alice', time: iso(ago(30)), group_properties: { company: { acme: { plan: 'trial', name: 'Acme Corp', region: 'EU' } } } });
    expect(invoice).toMatchObject({
      // every property with its JSON type; a string that looks like JSON stays a string
      event_properties: { amount: 120, items: ['a', 'b'], paid: true, code: '007' },
      user_properties: { role: 'admin', logins: 3, tags: ['docs'], beta: false, prefs: { theme: 'dark' }, note: '["looks like a list"]' },
      groups: { company: ['acme'], team: ['t1'] },
      group_properties: { company: { acme: { plan: 'enterprise' } }, team: { t1: {} } },
    });
    expect(shared.group_properties.company).toEqual({ acme: expect.objectContaining({ plan: 'enterprise' }), globex: { plan: 'enterprise', name: 'Globex' } });
    const page = await svc.call(A, 'GET', '/api/2/groups/company/acme/activity?direction=earliest&limit=2&offset=1');
    expect(page.body.events.map((e: { event_type: string }) => e.event_type)).toEqual(['Login', 'Invoice Sent']);
    expect((await svc.call(A, 'GET', '/api/2/groups/company/acme/activity?direction=sideways')).status).toBe(400);
    // project B's acme is another account
    const other = await svc.call(B, 'GET', '/api/2/groups/company/acme/activity');
    expect(other.body.events.map((e: { user_id: string }) => e.user_id)).toEqual(['zed']);
  });
});
