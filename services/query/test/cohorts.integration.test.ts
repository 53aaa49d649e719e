// Cohorts on a ClickHouse server: behavioral cohorts of users and groups (computed, refreshed), static uploads
// (JSON and text with blank lines and unknown ids), members as JSON and CSV, delete, and project isolation.
import { sql, param, trusted, queryRows } from '@groupscope/clickhouse';
import { testClickHouse, DAY, insertEvents, insertGroupChanges, waitFor, type TestClickHouse } from '@groupscope/testing';
import type { NewKeys } from '@groupscope/projects';
import { startTestService, type TestService } from './service';

let ch: TestClickHouse;
let svc: TestService;
let A: NewKeys;
let B: NewKeys;
const now = Date.now();
const ago = (days: number) => now - days * DAY;

beforeAll(async () => {
  ch = await testClickHouse();
  const started = await startTestService(ch);
  svc = started;
  [A, B] = started.projects as [NewKeys, NewKeys];
  const a = A.project_id;
  const ev = (days: number, type: string, user: string, company?: string) => ({
    project: a,
    time: ago(days),
    type,
    user,
    ...(company ? { groups: { company: { [company]: {} } } } : {}),
  });
  await insertEvents(ch, [
    // alice (acme): 3 invoices this week
    { ...ev(1, 'Invoice Sent', 'alice', 'acme'), props: { amount: 250 } },
    { ...ev(2, 'Invoice Sent', 'alice', 'acme'), props: { amount: 40 } },
    ev(3, 'Invoice Sent', 'alice', 'acme'),
    // bob (globex): 1 invoice this week, 2 three weeks ago
    ev(4, 'Invoice Sent', 'bob', 'globex'),
    ev(20, 'Invoice Sent', 'bob', 'globex'),
    ev(21, 'Invoice Sent', 'bob', 'globex'),
    // carol (initech): only logins; dave: one login 100 days ago, no company
    ev(2, 'Login', 'carol', 'initech'),
    ev(100, 'Login', 'dave'),
    { project: B.project_id, time: ago(1), type: 'Invoice Sent', user: 'zed', groups: { company: { acme: {} } } },
  ]);
  // umbrella has properties but no events: a known group all the same
  await insertGroupChanges(ch, [{ project: a, type: 'company', value: 'umbrella', time: ago(3), props: { plan: 'trial' } }]);
});

afterAll(async () => {
  await svc?.stop();
  await ch?.cleanup();
});

const members = async (keys: NewKeys, id: string) => {
  const res = await svc.call(keys, 'GET', `/api/3/cohorts/${id}/members`);
  expect(res.status).toBe(200);
  return (res.body.members as { id: string }[]).map((m) => m.id);
};

describe('behavioral cohorts', () => {
  it('computes users who did an event at least N times in the last D days', async () => {
    const week = await svc.call(A, 'POST', '/api/3/cohorts', {
      name: 'Power invoicers',
      countGroup: 'User',
      definition: [{ type: 'event', event_type: 'Invoice Sent', op: '>=', value: 2, time_type: 'rolling', time_value: 7 }],
    });
    expect(week.status).toBe(201);
    expect(week.body).toMatchObject({ name: 'Power invoicers', countGroup: 'User', kind: 'behavioral', size: 1 });
    expect(await members(A, week.body.id)).toEqual(['alice']);
    // over 30 days bob's three invoices count too
    const month = await svc.call(A, 'POST', '/api/3/cohorts', {
      name: 'Invoicers (30d)',
      definition: [{ type: 'event', event_type: 'Invoice Sent', op: '>=', value: 2, time_value: 30 }],
    });
    expect(month.body.size).toBe(2);
    expect(await members(A, month.body.id)).toEqual(['alice', 'bob']);
  });

  it("applies the event filters of a condition, with the charts' operators", async () => {
    const res = await svc.call(A, 'POST', '/api/3/cohorts', {
      name: 'Big invoices',
      definition: [
        {
          type: 'event',
          event_type: 'Invoice Sent',
          filters: [{ subprop_type: 'event', subprop_key: 'amount', subprop_op: 'greater', subprop_value: ['100'] }],
          op: '>=',
          value: 1,
          time_value: 7,
        },
      ],
    });
    expect(res.status).toBe(201);
    expect(await members(A, res.body.id)).toEqual(['alice']);
    const unknown = await svc.call(A, 'POST', '/api/3/cohorts', {
      name: 'x',
      definition: [{ type: 'event', event_type: 'Invoice Sent', filters: [{ subprop_type: 'event', subprop_key: 'colour', subprop_op: 'is', subprop_value: ['red'] }] }],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'unknown_property', details: [expect.objectContaining({ param: 'definition[0]' })] });
    const badOp = await svc.call(A, 'POST', '/api/3/cohorts', {
      name: 'x',
      definition: [{ type: 'event', event_type: 'Invoice Sent', filters: [{ subprop_type: 'event', subprop_key: 'amount', subprop_op: 'bigger', subprop_value: ['1'] }] }],
    });
    expect(badOp.status).toBe(400);
    expect(badOp.body.error.code).toBe('unknown_operator');
  });

  it('includes everyone known who did nothing when zero events satisfy the condition', async () => {
    const res = await svc.call(A, 'POST', '/api/3/cohorts', {
      name: 'No invoices this week',
      countGroup: 'User',
      definition: [{ type: 'event', event_type: 'Invoice Sent', op: '<=', value: 0, time_value: 7 }],
    });
    expect(res.body.size).toBe(2);
    expect(await members(A, res.body.id)).toEqual(['carol', 'dave']);
  });

  it('computes cohorts of groups, and refreshes them atomically', async () => {
    const res = await svc.call(A, 'POST', '/api/3/cohorts', {
      name: 'Invoicing companies',
      countGroup: 'company',
      definition: [{ type: 'event', event_type: 'Invoice Sent', op: '>=', value: 1, time_value: 7 }],
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ countGroup: 'company', size: 2 });
    const id = res.body.id as string;
    expect(await members(A, id)).toEqual(['acme', 'globex']);
    // initech starts invoicing: a refresh picks it up
    await insertEvents(ch, [{ project: A.project_id, time: ago(0.5), type: 'Invoice Sent', user: 'carol', groups: { company: { initech: {} } } }]);
    expect(await members(A, id)).toEqual(['acme', 'globex']);
    const refreshed = await svc.call(A, 'POST', `/api/3/cohorts/${id}/refresh`);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.size).toBe(3);
    expect(await members(A, id)).toEqual(['acme', 'globex', 'initech']);
    // only the current membership version is kept (the older one is deleted in the background)
    await waitFor(
      async () => {
        const versions = await queryRows<{ n: number }>(
          ch,
          sql`SELECT uniqExact(version) AS n FROM ${trusted(ch.table('cohort_members'))} WHERE cohort_id = ${param(id, 'String')}`,
        );
        expect(Number(versions[0]!.n)).toBe(1);
        return true;
      },
      { timeoutMs: 60_000, message: 'the older membership version pruned' },
    );
    // never-active groups count as "did nothing"
    const quiet = await svc.call(A, 'POST', '/api/3/cohorts', {
      name: 'Quiet companies',
      countGroup: 'company',
      definition: [{ type: 'event', event_type: 'Login', op: '=', value: 0, time_value: 7 }],
    });
    expect(await members(A, quiet.body.id)).toEqual(['acme', 'globex', 'umbrella']);
  });

  it.each([
    [{ name: 'x', countGroup: 'planet', definition: [{ type: 'event', event_type: 'Login' }] }, 'countGroup', 'unknown_group_type'],
    [{ name: 'x', definition: [] }, 'definition', 'invalid_definition'],
    [{ name: 'x', definition: [{ type: 'event', event_type: 'Login', op: '~' }] }, 'definition[0].op', 'invalid_definition'],
    [{ definition: [{ type: 'event', event_type: 'Login' }] }, 'name', 'invalid_parameter'],
  ])('rejects %j', async (body, param, code) => {
    const res = await svc.call(A, 'POST', '/api/3/cohorts', body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code, details: [{ param }] });
  });

  it('answers a malformed JSON body with a 400 in the API error shape', async () => {
    const res = await svc.call(A, 'POST', '/api/3/cohorts', '{"name": ', { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_body', details: [{ param: 'body' }] });
  });
});

describe('static cohorts', () => {
  it('uploads a text file of group values: blank lines ignored, unknown ids reported', async () => {
    const text = 'acme\n\n  globex \nnope\r\nacme\n\n\nzzz\n';
    const res = await svc.call(A, 'POST', '/api/3/cohorts/upload?name=Key%20accounts&countGroup=company', text, { 'content-type': 'text/plain' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Key accounts', countGroup: 'company', kind: 'static', size: 2, matched: 2, total: 4, unknown: 2, unknown_sample: ['nope', 'zzz'] });
    expect(await members(A, res.body.id)).toEqual(['acme', 'globex']);
    const refresh = await svc.call(A, 'POST', `/api/3/cohorts/${res.body.id}/refresh`);
    expect(refresh.status).toBe(400);
    expect(refresh.body.error.code).toBe('not_refreshable');
  });

  it('uploads JSON ids of users; another project has none of them', async () => {
    const res = await svc.call(A, 'POST', '/api/3/cohorts/upload', { name: 'Pilot users', countGroup: 'User', ids: ['alice', 'ghost', 'dave', 42, ''] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ size: 2, matched: 2, total: 4, unknown_sample: ['42', 'ghost'] });
    const inB = await svc.call(B, 'POST', '/api/3/cohorts/upload', { name: 'Pilot users', ids: ['alice', 'zed'] });
    expect(inB.body).toMatchObject({ matched: 1, unknown_sample: ['alice'] });
  });

  it('rejects uploads without a name, with a bad countGroup or bad ids', async () => {
    expect((await svc.call(A, 'POST', '/api/3/cohorts/upload?countGroup=company', 'acme', { 'content-type': 'text/plain' })).body.error.details).toEqual([{ param: 'name' }]);
    expect((await svc.call(A, 'POST', '/api/3/cohorts/upload', { name: 'x', countGroup: 'planet', ids: ['a'] })).body.error.code).toBe('unknown_group_type');
    expect((await svc.call(A, 'POST', '/api/3/cohorts/upload', { name: 'x', ids: 'a' })).body.error.details).toEqual([{ param: 'ids' }]);
    expect((await svc.call(A, 'POST', '/api/3/cohorts/upload', { name: 'x', ids: [{}] })).body.error.details).toEqual([{ param: 'ids[0]' }]);
  });
});

describe('listing, members, delete', () => {
  it('lists, pages and downloads members, deletes, and keeps projects apart', async () => {
    const created = await svc.call(A, 'POST', '/api/3/cohorts/upload', { name: 'Quoted, "names"', countGroup: 'User', ids: ['alice', 'bob', 'carol'] });
    const id = created.body.id as string;
    const list = await svc.call(A, 'GET', '/api/3/cohorts');
    expect(list.body.cohorts).toEqual(expect.arrayContaining([expect.objectContaining({ id, name: 'Quoted, "names"', countGroup: 'User', size: 3, computed_at: expect.any(String) })]));
    expect((await svc.call(B, 'GET', '/api/3/cohorts')).body.cohorts.map((c: { id: string }) => c.id)).not.toContain(id);
    expect((await svc.call(B, 'GET', `/api/3/cohorts/${id}/members`)).status).toBe(404);

    const page = await svc.call(A, 'GET', `/api/3/cohorts/${id}/members?limit=2&offset=1`);
    expect(page.body.members).toEqual([{ id: 'bob' }, { id: 'carol' }]);
    const csv = await svc.call(A, 'GET', `/api/3/cohorts/${id}/members?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="cohort-${id}.csv"`);
    expect(csv.text).toBe('id\r\nalice\r\nbob\r\ncarol\r\n');

    expect((await svc.call(B, 'DELETE', `/api/3/cohorts/${id}`)).status).toBe(404);
    const del = await svc.call(A, 'DELETE', `/api/3/cohorts/${id}`);
    expect(del.body).toEqual({ id, deleted: true });
    expect((await svc.call(A, 'GET', `/api/3/cohorts/${id}/members`)).status).toBe(404);
    expect((await svc.call(A, 'GET', '/api/3/cohorts')).body.cohorts.map((c: { id: string }) => c.id)).not.toContain(id);
  });
});
