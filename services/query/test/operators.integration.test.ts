// Every filter operator on scalar, list and unset values, for event, user and group properties, on the real
// ClickHouse: in chart filters, in segments (`s`) and in behavioral cohorts, which share one implementation
// (sql/conditions.ts). Expected members are worked out by hand from the values below (docs/query-semantics.md).
//
// Project A, one "Tagged" event per user on 2025-11-03, each user in its own company c_<user>. The property `p` has
// the same value as an event property, a user property and a property of the company (stamped on the event and
// current in `groups`):
import { DAY, insertEvents, insertGroupChanges, testClickHouse, type Props, type TestClickHouse } from '@groupscope/testing';
import type { NewKeys } from '@groupscope/projects';
import { startTestService, type TestService } from './service';

const VALUES: Record<string, unknown> = {
  str: 'Apple Pie',
  num: 42,
  neg: -3.5,
  bool: true,
  list: ['vip', 'Beta/Tester', 7],
  one: ['vip'],
  pair: ['Music', 'Movies'],
  // a string that looks like a list stays a string
  fake: '["vip"]',
  empty: [],
  path: '/org/acme/chart/7',
  blank: '',
  obj: { a: 1 },
  missing: undefined,
};
const USERS = Object.keys(VALUES);
const ALL_SET = USERS.filter((u) => u !== 'missing');
const but = (...out: string[]) => ALL_SET.filter((u) => !out.includes(u));

/** [operator, values, the users whose value matches] */
const CASES: [string, string[], string[]][] = [
  ['is', ['vip'], ['list', 'one']],
  ['is', ['Apple Pie', '42'], ['str', 'num']],
  ['is', ['apple pie'], []],
  ['is', ['7'], ['list']],
  ['is', ['["vip"]'], ['fake']],
  ['is', ['true'], ['bool']],
  ['is', ['(none)'], ['blank', 'missing']],
  ['is', ['(none)', 'vip'], ['blank', 'missing', 'list', 'one']],
  ['is not', ['vip'], [...but('list', 'one'), 'missing']],
  ['is not', ['(none)'], but('blank')],
  ['contains', ['APP'], ['str']],
  ['contains', ['tEsT', 'ovi'], ['list', 'pair']],
  ['contains', ['vip'], ['list', 'one', 'fake']],
  ['does not contain', ['vip'], [...but('list', 'one', 'fake'), 'missing']],
  ['starts with', ['app', '/ORG'], ['str', 'path']],
  ['starts with', ['be'], ['list']],
  ['starts with', ['['], ['fake']],
  ['does not start with', ['app'], but('str')],
  ['glob match', ['/org/*/chart/*'], ['path']],
  ['glob match', ['/org/*'], []],
  ['glob match', ['/**/7'], ['path']],
  ['glob match', ['*/tester'], ['list']],
  ['glob match', ['v?p'], ['list', 'one']],
  ['glob match', ['*'], but('path', 'empty')],
  ['glob match', ['**'], but('empty')],
  ['glob match', ['{"a":?}'], ['obj']],
  ['glob does not match', ['/org/*/chart/*'], but('path')],
  ['less', ['0'], ['neg']],
  ['less or equal', ['-3.5'], ['neg']],
  ['greater', ['6.5'], ['num', 'list']],
  ['greater or equal', ['42'], ['num']],
  ['set is', ['vip'], ['one']],
  ['set is', ['Movies', 'Music'], ['pair']],
  ['set is', ['Apple Pie'], ['str']],
  ['set is not', ['Movies', 'Music'], but('pair')],
  ['set contains', ['vip', '7'], ['list']],
  ['set contains', ['vip'], ['list', 'one']],
  ['set does not contain', ['vip', 'Music'], but('list', 'one', 'pair')],
];

let ch: TestClickHouse;
let svc: TestService;
let A: NewKeys;
let B: NewKeys;
const NOW = Date.UTC(2025, 10, 5, 12);
const DAY_OF_EVENTS = '2025-11-03T10:00:00';

const props = (u: string): Props => (VALUES[u] === undefined ? { other: 'x' } : { p: VALUES[u], other: 'x' });

beforeAll(async () => {
  ch = await testClickHouse();
  svc = await startTestService(ch, { now: () => NOW });
  [A, B] = svc.projects as [NewKeys, NewKeys];
  await insertEvents(
    ch,
    USERS.map((u) => ({ project: A.project_id, time: DAY_OF_EVENTS, type: 'Tagged', user: u, props: props(u), userProps: props(u), groups: { company: { [`c_${u}`]: props(u) } } })),
  );
  await insertGroupChanges(ch, USERS.map((u) => ({ project: A.project_id, type: 'company', value: `c_${u}`, time: NOW - 10 * DAY, props: props(u) })));
});

afterAll(async () => {
  await svc?.stop();
  await ch?.cleanup();
});

const J = JSON.stringify;

async function get(keys: NewKeys, path: string, params: Record<string, string>) {
  const res = await svc.call(keys, 'GET', `${path}?${new URLSearchParams(params)}`);
  if (res.status !== 200) throw new Error(`${path} ${res.status}: ${res.text}`);
  return res.body;
}

/** The members a segmentation counts, read from its series by user (or by company, as users again). */
async function chartMembers(keys: NewKeys, params: Record<string, string>): Promise<string[]> {
  const byCompany = params.countGroup === 'company';
  const body = await get(keys, '/api/2/events/segmentation', { start: '20251103', end: '20251103', g: byCompany ? 'group:company' : 'user_id', ...params });
  const labels = (body.data.seriesLabels as [number, string][]).map((l) => l[1]);
  return labels.map((l) => (byCompany ? l.replace(/^c_/, '') : l)).sort();
}

async function cohortMembers(keys: NewKeys, countGroup: string, filter: object): Promise<string[]> {
  const created = await svc.call(keys, 'POST', '/api/3/cohorts', {
    name: 'op',
    countGroup,
    definition: [{ type: 'event', event_type: 'Tagged', filters: [filter], op: '>=', value: 1, time_value: 30 }],
  });
  if (created.status !== 201) throw new Error(`cohort ${created.status}: ${created.text}`);
  const res = await svc.call(keys, 'GET', `/api/3/cohorts/${created.body.id}/members`);
  await svc.call(keys, 'DELETE', `/api/3/cohorts/${created.body.id}`);
  return (res.body.members as { id: string }[]).map((m) => m.id.replace(/^c_/, '')).sort();
}

const filter = (kind: 'event' | 'user' | 'group', op: string, values: string[]) => ({
  subprop_type: kind,
  subprop_key: kind === 'user' ? 'gp:p' : 'p',
  ...(kind === 'group' ? { group_type: 'company' } : {}),
  subprop_op: op,
  subprop_value: values,
});
const event = (f: object) => J({ event_type: 'Tagged', filters: [f] });

describe.each(CASES)('%s %j', (op, values, expected) => {
  const want = [...expected].sort();

  it('in chart filters: event, user and group properties (stamped by user, by company, and current)', async () => {
    const got = await Promise.all([
      chartMembers(A, { e: event(filter('event', op, values)) }),
      chartMembers(A, { e: event(filter('user', op, values)) }),
      chartMembers(A, { e: event(filter('group', op, values)) }),
      chartMembers(A, { e: event(filter('group', op, values)), countGroup: 'company' }),
      chartMembers(A, { e: event(filter('group', op, values)), gpMode: 'current' }),
      chartMembers(A, { e: event(filter('group', op, values)), countGroup: 'company', gpMode: 'current' }),
    ]);
    expect(got).toEqual([want, want, want, want, want, want]);
  });

  it('in segments', async () => {
    const s = (prop: string) => J([{ prop, op, values }]);
    const e = J({ event_type: 'Tagged' });
    const got = await Promise.all([
      chartMembers(A, { e, s: s('event:p') }),
      chartMembers(A, { e, s: s('gp:p') }),
      chartMembers(A, { e, s: s('group:company:p') }),
      chartMembers(A, { e, s: s('group:company:p'), countGroup: 'company' }),
    ]);
    expect(got).toEqual([want, want, want, want]);
  });

  it('in behavioral cohorts of users and of groups', async () => {
    const got = await Promise.all([
      cohortMembers(A, 'User', filter('event', op, values)),
      cohortMembers(A, 'User', filter('user', op, values)),
      cohortMembers(A, 'User', filter('group', op, values)),
      cohortMembers(A, 'company', filter('group', op, values)),
      cohortMembers(A, 'company', filter('event', op, values)),
    ]);
    expect(got).toEqual([want, want, want, want, want]);
  });
});

describe('an event attributed to several groups of one type', () => {
  // Project B: `both` is in m1 (p = Apple) and m2 (no p); `none` has no company at all; `two` is in m3 (Apple) and m4 (Pear)
  beforeAll(async () => {
    const b = B.project_id;
    await insertEvents(ch, [
      { project: b, time: DAY_OF_EVENTS, type: 'Tagged', user: 'both', groups: { company: { m1: { p: 'Apple' }, m2: { q: 1 } } } },
      { project: b, time: DAY_OF_EVENTS, type: 'Tagged', user: 'none' },
      { project: b, time: DAY_OF_EVENTS, type: 'Tagged', user: 'two', groups: { company: { m3: { p: 'Apple' }, m4: { p: 'Pear' } } } },
    ]);
  });

  it.each<[string, string[], string[]]>([
    // positive operators: any of the event's groups matches
    ['is', ['Apple'], ['both', 'two']],
    ['is', ['Pear'], ['two']],
    ['glob match', ['p*'], ['two']],
    // "is not" and "does not contain": none matches, also when the event has no such group
    ['is not', ['Apple'], ['none']],
    ['does not contain', ['pea'], ['both', 'none']],
    // other negations: one group has the property and none matches
    ['does not start with', ['pe'], ['both']],
    ['glob does not match', ['x*'], ['both', 'two']],
    ['set is not', ['Apple'], []],
    // "(none)": a group without the property, or no group
    ['is', ['(none)'], ['both', 'none']],
    ['is not', ['(none)'], ['two']],
  ])('%s %j', async (op, values, expected) => {
    const e = event(filter('group', op, values));
    expect(await chartMembers(B, { e })).toEqual([...expected].sort());
  });
});
