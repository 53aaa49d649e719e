// What the chart pickers suggest: event types (GET /api/2/events/list), property names (/api/2/properties) and
// values (/api/2/properties/values), in the shapes services/web expects, from the last 30 days, per project.
import { DAY, insertEvents, insertGroupChanges, testClickHouse, type TestClickHouse, type TestEvent } from '@groupscope/testing';
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
  svc = await startTestService(ch);
  [A, B] = svc.projects as [NewKeys, NewKeys];
  const a = A.project_id;
  const alice = { role: 'admin', plan: 'pro' };
  const member = { role: 'member' };
  const ev = (user: string, type: string, days: number, extra: Partial<TestEvent>): TestEvent => ({ project: a, user, type, time: ago(days), ...extra });
  await insertEvents(ch, [
    ev('alice', 'Page Viewed', 1, { props: { path: '/home' }, userProps: alice }),
    ev('alice', 'Invoice Sent', 1, { props: { amount: 100, tags: ['a', 'b'] }, userProps: alice, revenue: 9 }),
    ev('bob', 'Page Viewed', 2, { props: { path: '/docs' }, userProps: member }),
    ev('bob', 'Invoice Sent', 2, { props: { amount: 50 }, userProps: member }),
    ev('carol', 'Page Viewed', 3, { props: { path: '/home' }, userProps: member, context: { country: 'FR', not_built_in: 'x' } }),
    // older than the window
    ev('dave', 'Signed Up', 40, { props: { source: 'ads' }, userProps: { role: 'owner' } }),
    { project: B.project_id, user: 'zed', type: 'Secret Event', time: ago(1), props: { secret: 'x' } },
  ]);
  await insertGroupChanges(ch, [
    { project: a, type: 'company', value: 'acme', time: ago(5), props: { plan: 'pro', tags: ['x', 'y'] } },
    { project: a, type: 'company', value: 'globex', time: ago(5), props: { plan: 'free' } },
  ]);
});

afterAll(async () => {
  await svc?.stop();
  await ch?.cleanup();
});

const get = (keys: NewKeys, path: string, params: Record<string, string> = {}) => svc.call(keys, 'GET', `${path}?${new URLSearchParams(params)}`);
async function ok(keys: NewKeys, path: string, params: Record<string, string> = {}) {
  const res = await get(keys, path, params);
  expect(res.status).toBe(200);
  return res.body;
}

it('lists event types of the last 30 days, most frequent first, per project', async () => {
  expect(await ok(A, '/api/2/events/list')).toEqual({ data: [{ name: 'Page Viewed', totals: 3 }, { name: 'Invoice Sent', totals: 2 }] });
  expect(await ok(B, '/api/2/events/list')).toEqual({ data: [{ name: 'Secret Event', totals: 1 }] });
});

describe('property names', () => {
  it.each<[string, Record<string, string>, [string, number][]]>([
    ['event properties, $revenue among them', { type: 'event' }, [['path', 3], ['amount', 2], ['$revenue', 1], ['tags', 1]]],
    ['event properties of one event type', { type: 'event', event_type: 'Invoice Sent' }, [['amount', 2], ['$revenue', 1], ['tags', 1]]],
    ['event properties of any event', { type: 'event', event_type: '_active' }, [['path', 3], ['amount', 2], ['$revenue', 1], ['tags', 1]]],
    ['user properties: custom ones as gp:, built-in ones bare', { type: 'user' }, [['gp:role', 5], ['user_id', 5], ['gp:plan', 2], ['country', 1]]],
    ['a group type\'s current properties', { type: 'group', group_type: 'company' }, [['plan', 2], ['tags', 1]]],
  ])('%s', async (_name, params, expected) => {
    const body = await ok(A, '/api/2/properties', params);
    expect(body.properties.map((p: { name: string; count: number }) => [p.name, p.count])).toEqual(expected);
  });

  it('keeps projects apart', async () => {
    expect((await ok(B, '/api/2/properties', { type: 'event' })).properties).toEqual([{ name: 'secret', count: 1 }]);
  });
});

describe('property values', () => {
  it.each<[string, Record<string, string>, [string, number][]]>([
    ['an event property', { type: 'event', name: 'path' }, [['/home', 2], ['/docs', 1]]],
    ['with a prefix, ignoring case', { type: 'event', name: 'path', q: '/H' }, [['/home', 2]]],
    ['a list, element by element', { type: 'event', name: 'tags' }, [['a', 1], ['b', 1]]],
    ['$revenue', { type: 'event', name: '$revenue' }, [['9', 1]]],
    ['of one event type', { type: 'event', name: 'amount', event_type: 'Invoice Sent' }, [['100', 1], ['50', 1]]],
    ['a custom user property', { type: 'user', name: 'gp:role' }, [['member', 3], ['admin', 2]]],
    ['a custom user property without its prefix', { type: 'user', name: 'plan' }, [['pro', 2]]],
    ['a built-in user property', { type: 'user', name: 'country' }, [['FR', 1]]],
    ['a group property (current)', { type: 'group', group_type: 'company', name: 'plan' }, [['free', 1], ['pro', 1]]],
    ['a group property that is a list', { type: 'group', group_type: 'company', name: 'tags' }, [['x', 1], ['y', 1]]],
    ['at most limit', { type: 'user', name: 'gp:role', limit: '1' }, [['member', 3]]],
    ['an unknown property: none', { type: 'event', name: 'nope' }, []],
  ])('%s', async (_name, params, expected) => {
    const body = await ok(A, '/api/2/properties/values', params);
    expect(body.values.map((v: { value: string; count: number }) => [v.value, v.count])).toEqual(expected);
  });

  it('keeps projects apart', async () => {
    expect((await ok(A, '/api/2/properties/values', { type: 'event', name: 'secret' })).values).toEqual([]);
  });
});

it.each<[string, Record<string, string>, string, string]>([
  ['no type', { name: 'x' }, 'type', 'missing_parameter'],
  ['an unknown type', { type: 'cohort', name: 'x' }, 'type', 'invalid_parameter'],
  ['a group property without group_type', { type: 'group', name: 'plan' }, 'group_type', 'missing_parameter'],
  ['an unknown group type', { type: 'group', group_type: 'planet', name: 'plan' }, 'group_type', 'unknown_group_type'],
  ['no name', { type: 'event' }, 'name', 'missing_parameter'],
  ['a limit out of range', { type: 'event', name: 'path', limit: '5000' }, 'limit', 'invalid_parameter'],
])('property values: %s is a 400 naming the parameter', async (_name, params, param, code) => {
  const res = await get(A, '/api/2/properties/values', params);
  expect(res.status).toBe(400);
  expect(res.body.error).toMatchObject({ code, details: [expect.objectContaining({ param })] });
});
