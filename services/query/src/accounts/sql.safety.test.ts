// Every issue-7 query builder fed hostile names and values: request data reaches ClickHouse only as bound
// parameters, and every read of a groupscope table is filtered by the project. The ClickHouse handle here only
// records the statements (no network); the integration tests run the same statements for real.
import type { ClickHouse, Sql } from '@groupscope/clickhouse';
import { sql } from '@groupscope/clickhouse';
import { accountActivity, getAccount, knownGroupTypes, listGroupTypes, propertyExists, searchGroups } from './store';
import { behavioralMembers } from '../cohorts/compute';
import { parseCohortDefinition } from '../cohorts/definition';
import { cohortConditionHandler } from '../cohorts/segment';
import { cohortMembers, deleteCohort, getCohort, listCohorts, replaceMembership, stageIds, stagedSet, unknownSample, type Cohort } from '../cohorts/store';
import { universe } from '../cohorts/universe';
import { computeValues } from '../dynamic/runner';
import { getDynamic, listDynamic, saveDynamic, type DynamicProperty } from '../dynamic/store';
import { newContext } from '../sql/source';
import { silentLogger } from '@groupscope/logger';
import { chartEventMatcher } from './event-match';

const PROJECT = 7;
const HOSTILE = ["x'); DROP TABLE events; --", "back\\slash\\' quote", 'double"quote` backtick', 'ünïcødé 🎉', '{p0:String} placeholder', "' OR 1=1 --"];

interface Statement {
  query: string;
  params: Record<string, unknown>;
}

/** A ClickHouse handle that records statements and answers every query with `rows`. */
function recorder(rows: unknown[] = []): { ch: ClickHouse; log: Statement[] } {
  const log: Statement[] = [];
  const client = {
    query: async ({ query, query_params }: { query: string; query_params?: Record<string, unknown> }) => {
      log.push({ query, params: query_params ?? {} });
      return { json: async () => rows };
    },
    command: async ({ query, query_params }: { query: string; query_params?: Record<string, unknown> }) => {
      log.push({ query, params: query_params ?? {} });
    },
    insert: async ({ table, values }: { table: string; values: unknown[] }) => {
      log.push({ query: `INSERT INTO ${table} FORMAT JSONEachRow`, params: { values } });
    },
  };
  const ch = { client, kind: 'embedded', database: 'db', table: (n: string) => `\`db\`.\`${n}\`` } as unknown as ClickHouse;
  return { ch, log };
}

/** Every FROM of a table is followed by the project filter, bound to the project's id. */
function expectScoped(s: Statement): void {
  const froms = [...s.query.matchAll(/FROM `db`\.`(\w+)`(?: FINAL)?\s+(WHERE project_id = \{(p\d+):UInt32\})?/g)];
  for (const m of froms) {
    expect({ table: m[1], filtered: m[2] !== undefined }).toEqual({ table: m[1], filtered: true });
    expect(s.params[m[3]!]).toBe(PROJECT);
  }
}

function expectBound(s: Statement, h: string): void {
  expect(s.query).not.toContain(h);
  // the placeholder-looking hostile text must not have become a placeholder either
  expect(s.query).not.toContain('placeholder');
}

const cohort = (h: string, countGroup: string): Cohort => ({
  project_id: PROJECT,
  id: h,
  name: h,
  count_group: countGroup,
  kind: 'behavioral',
  definition: [],
  size: 0,
  members_version: 1,
  created_at: 0,
  computed_at: 0,
});

const dynamic = (h: string): DynamicProperty => ({
  project_id: PROJECT,
  id: h,
  group_type: h,
  name: h,
  definition: { metric: { e: { event_type: h, filters: [{ subprop_type: 'event', subprop_key: h, subprop_op: 'is', subprop_value: [h] }] }, m: 'uniques' }, window: { type: 'rolling', days: 7 } },
  created_at: 0,
  last_run_at: null,
  last_window_start: 5,
  last_window_end: null,
  last_groups: 0,
});

type Case = [string, (ch: ClickHouse, h: string) => Promise<unknown>];
const matcher = (ch: ClickHouse) => chartEventMatcher(ch);
const CASES: Case[] = [
  ['group types', (ch) => listGroupTypes(ch, PROJECT)],
  ['known group types', (ch) => knownGroupTypes(ch, PROJECT)],
  ['property exists', (ch, h) => propertyExists(ch, PROJECT, h, h)],
  ['search by property history', (ch, h) => searchGroups(ch, PROJECT, { groupType: h, filter: { kind: 'property', property: h, value: h }, limit: 10, offset: 0, now: 1 })],
  ['search by prefix', (ch, h) => searchGroups(ch, PROJECT, { filter: { kind: 'prefix', prefix: h }, limit: 10, offset: 0, now: 1 })],
  ['account page', (ch, h) => getAccount(ch, PROJECT, h, h, 10)],
  ['account activity', (ch, h) => accountActivity(ch, PROJECT, h, h, { limit: 10, offset: 0, direction: 'earliest' })],
  ['cohort lookup and list', async (ch, h) => { await getCohort(ch, PROJECT, h); await listCohorts(ch, PROJECT); }],
  ['cohort members', (ch, h) => cohortMembers(ch, cohort(h, h), 10, 0)],
  ['cohort delete', (ch, h) => deleteCohort(ch, silentLogger, cohort(h, h))],
  ['cohort upload staging and matching', async (ch, h) => {
    await stageIds(ch, PROJECT, h, [h]);
    const staged = stagedSet(ch, PROJECT, h, 1);
    await unknownSample(ch, staged, sql`SELECT member FROM (${universe(ch, PROJECT, h, staged)})`, 5);
    await replaceMembership(ch, silentLogger, cohort(h, h), universe(ch, PROJECT, 'User', staged));
  }],
  ['behavioral cohort of users', async (ch, h) => {
    const members = await behavioralMembers({ ch, matchEvents: matcher(ch) }, PROJECT, 'User', parseCohortDefinition([{ type: 'event', event_type: h, filters: [{ subprop_type: 'group', group_type: h, subprop_key: h, subprop_op: 'contains', subprop_value: [h] }], op: '<=', value: 3, time_value: 30 }]), 1e12);
    await replaceMembership(ch, silentLogger, cohort(h, 'User'), members);
  }],
  ['behavioral cohort of groups', async (ch, h) => {
    const members = await behavioralMembers({ ch, matchEvents: matcher(ch) }, PROJECT, h, parseCohortDefinition([{ type: 'event', event_type: h, filters: [{ subprop_type: 'user', subprop_key: `gp:${h}`, subprop_op: 'is not', subprop_value: [h] }], op: '=', value: 0, time_value: 7 }]), 1e12);
    await replaceMembership(ch, silentLogger, cohort(h, h), members);
  }],
  ['cohort segment (users, groups; events and event_groups rows)', async (ch, h) => {
    const { ch: lookup } = recorder([{ id: h, name: h, count_group: h, kind: 'static', definition: '[]', size: 1, members_version: 1, created_at: 0, computed_at: 0 }]);
    const compile = await cohortConditionHandler.resolve({ kind: 'ext', name: 'cohort', op: 'is not', values: [h], param: 's[0]' }, { ch: lookup, projectId: PROJECT, countGroup: null });
    const range = { startDay: '2025-11-01', endDay: '2025-11-01', tz: 'UTC', fromMs: 0, toMs: 1 };
    for (const source of [{ table: 'events' as const }, { table: 'events' as const, expand: h }, { table: 'event_groups' as const, groupType: h }, { table: 'event_groups' as const, groupType: 'other' }]) {
      const cond: Sql = compile(newContext({ projectId: PROJECT, table: ch.table, range, gpMode: 'event', source }));
      await ch.client.query({ query: cond.build().query, query_params: cond.build().params, format: 'JSONEachRow' });
    }
  }],
  ['dynamic property store', async (ch, h) => { await saveDynamic(ch, dynamic(h)); await getDynamic(ch, PROJECT, h); await listDynamic(ch, PROJECT); }],
  ['dynamic property values', (ch, h) => computeValues({ ch, matchEvents: matcher(ch) }, dynamic(h), { start: 0, end: 1 })],
];

describe.each(CASES)('%s', (_name, run) => {
  it.each(HOSTILE)('binds %p and filters by project', async (h) => {
    const { ch, log } = recorder();
    await run(ch, h);
    expect(log.length).toBeGreaterThan(0);
    for (const s of log) {
      expectBound(s, h);
      expectScoped(s);
    }
    // the hostile text did reach ClickHouse, as a value
    if (_name !== 'group types' && _name !== 'known group types') expect(JSON.stringify(log.map((s) => s.params))).toContain(JSON.stringify(h).slice(1, -1));
  });
});
