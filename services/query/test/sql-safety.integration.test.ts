// One table of every statement builder of the query service (charts, microscope, accounts, the account list and
// usage, health scores, cohorts, dynamic properties, the Salesforce sync, the catalog), each fed the same hostile names and values. For every built statement: request data
// reaches ClickHouse only as bound parameters (or the request is refused with a 400), every read of a table is
// filtered by the project, and the statement runs on the real ClickHouse, after which the tables are still there.
import type { Sql } from '@groupscope/clickhouse';
import { param, sql } from '@groupscope/clickhouse';
import type { Project } from '@groupscope/projects';
import { testClickHouse, type TestClickHouse } from '@groupscope/testing';
import { parseListRequest } from '../src/account-list/request';
import { countQuery, listContext, listQuery, withMembersIn } from '../src/account-list/store';
import { accountQueries, activityQuery, groupTypesQuery, historyQuery, propertyExistsQuery, propertySourcesQuery, searchQuery } from '../src/accounts/store';
import type { Query } from '../src/charts/common';
import { chartEventMatcher } from '../src/charts/event-match';
import { buildRollingQuery } from '../src/charts/active';
import { buildFunnelQuery, parseFunnel } from '../src/charts/funnels';
import { propCondition } from '../src/charts/request';
import { buildRetentionQuery, parseRetention } from '../src/charts/retention';
import { buildSegmentationQuery, buildSegmentationRows, parseSegmentation } from '../src/charts/segmentation';
import { buildStickinessQueries, parseStickiness } from '../src/charts/stickiness';
import { eventTypesQuery, propertyNamesQuery, propertyValuesQuery } from '../src/charts/suggestions';
import { funnelStepUnits, retentionCellUnits, segmentationPointUnits } from '../src/charts/units';
import { behavioralMembers } from '../src/cohorts/compute';
import { parseCohortDefinition } from '../src/cohorts/definition';
import { cohortPredicate } from '../src/cohorts/segment';
import {
  cohortListQuery, cohortQuery, cohortRow, memberOfQuery, memberSet, membersQuery, membershipInsert, membershipSizeQuery, pruneStatement, stagedIds, unknownSampleQuery,
  type Cohort,
} from '../src/cohorts/store';
import { universe } from '../src/cohorts/universe';
import { groupTypeProbes, knownGroupTypesQuery, propertyProbes } from '../src/domain/catalog';
import type { Condition } from '../src/domain/properties';
import { staleGroupsQuery, valuesQuery } from '../src/dynamic-properties/runner';
import { healthScoreQuery, healthScoreRow, healthScoresQuery, type HealthScore } from '../src/health-scores/store';
import { propertiesQuery, propertyQuery, propertyRow, type DynamicProperty } from '../src/dynamic-properties/store';
import { ApiError } from '../src/http/errors';
import {
  dueValuesQuery, existingGroupsQuery, freshState, mappingQuery, mappingRow, mappingsQuery, pickupRows, pickupsQuery, pickupSummaryQuery, prunePickupsStatement,
  rollForwardQuery, stateRow, statesQuery, valuesInStateQuery, type Mapping,
} from '../src/integrations/salesforce/store';
import { unitsPageQuery } from '../src/microscope';
import { createDb, type Db, type Insert, type TableRef } from '../src/sql/executor';
import type { CompiledCondition } from '../src/sql/segments';
import { fromWhere, newContext, type Source } from '../src/sql/source';
import { dailyUsageQuery, groupsWithUsage } from '../src/sql/usage';

const PROJECT = 7;
const project = { id: PROJECT, time_zone: 'UTC' } as Project;
const limits = { maxDays: 400, maxHourlyDays: 31, maxGroupByLimit: 1000 };

/** Names and values no request may smuggle into SQL; the last is longer than any name the API accepts. */
const HOSTILE = [
  "x'); DROP TABLE events; --",
  "back\\slash\\' quote",
  'double"quote` backtick',
  'ünïcødé 🎉 Ω',
  '{p999:String} placeholder',
  "' OR 1=1 --",
  'nul\u0000and\nnewline\ttab',
  '__proto__',
  `${'long'.repeat(2500)}'`,
];
const LONG = HOSTILE[HOSTILE.length - 1]!;
const TABLES = [
  'events', 'event_groups', 'groups', 'group_property_history', 'group_activity', 'cohorts', 'cohort_members', 'dynamic_properties',
  'salesforce_mappings', 'salesforce_sync_state', 'salesforce_pickups', 'group_daily_users', 'health_scores', 'writer_fences',
];

let ch: TestClickHouse;
let db: Db;
let t: TableRef;

beforeAll(async () => {
  ch = await testClickHouse();
  db = createDb(ch, 60_000);
  t = db.table;
});

afterAll(async () => {
  await ch?.cleanup();
});

const J = JSON.stringify;
const props = (conds: Condition[]) => conds.filter((c): c is CompiledCondition & Condition => c.kind === 'prop');
const filtersOf = (h: string) => [
  { subprop_type: 'event', subprop_key: h, subprop_op: 'is', subprop_value: [h] },
  { subprop_type: 'user', subprop_key: `gp:${h}`, subprop_op: 'contains', subprop_value: [h] },
  { subprop_type: 'user', subprop_key: 'country', subprop_op: 'set is not', subprop_value: [h] },
  { subprop_type: 'group', group_type: h, subprop_key: h, subprop_op: 'does not contain', subprop_value: [h] },
  { subprop_type: 'group', group_type: h, subprop_op: 'is', subprop_value: [h] },
  { subprop_type: 'event', subprop_key: h, subprop_op: 'greater', subprop_value: ['123456789012345678901234567890'] },
  { subprop_type: 'event', subprop_key: h, subprop_op: 'glob match', subprop_value: [h, `**${h}?*`] },
  { subprop_type: 'user', subprop_key: `gp:${h}`, subprop_op: 'does not start with', subprop_value: [h] },
  { subprop_type: 'group', group_type: h, subprop_key: h, subprop_op: 'set does not contain', subprop_value: [h, '(none)'] },
  { subprop_type: 'event', subprop_key: '$revenue', subprop_op: 'less', subprop_value: ['5'] },
];
const segmentsOf = (h: string) => J([{ prop: `gp:${h}`, op: 'is', values: [h] }, { prop: `group:${h}:${h}`, op: 'set is', values: [h] }]);
const base = (h: string): Query => ({ start: '20251101', end: '20251130', s: segmentsOf(h) });

const segmentation = (q: Query): Sql[] => {
  const plan = parseSegmentation(q, project, limits);
  return plan.series.map((_, i) => buildSegmentationQuery(plan, i, PROJECT, t, props(plan.segments)));
};
const funnel = (q: Query): Sql[] => {
  const plan = parseFunnel(q, project, limits);
  return [buildFunnelQuery(plan, PROJECT, t, props(plan.segments))];
};
const rolling = (q: Query): Sql[] => {
  const plan = parseSegmentation(q, project, limits);
  return plan.series.map((_, i) => buildRollingQuery(plan, (p) => buildSegmentationRows(p, i, PROJECT, t, props(plan.segments))));
};
const stickiness = (q: Query): Sql[] => {
  const plan = parseStickiness(q, { project, limits });
  const built = buildStickinessQueries(plan, PROJECT, t, props(plan.segmentation.segments));
  return [built.distribution, built.units];
};
const retention = (q: Query): Sql[] => {
  const plan = parseRetention(q, project, limits);
  return [buildRetentionQuery(plan, PROJECT, t, props(plan.segments))];
};

const cohort = (h: string, countGroup: string): Cohort => ({
  project_id: PROJECT,
  id: h,
  name: h,
  count_group: countGroup,
  kind: 'behavioral',
  definition: [{ event_type: h }],
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

const healthScore = (h: string): HealthScore => ({
  project_id: PROJECT,
  id: h,
  group_type: h,
  name: h,
  definition: { components: [{ metric: 'events_7d', weight: 1, poor: 0, healthy: 10 }], thresholds: { healthy: 70, at_risk: 40 } },
  created_at: 0,
  updated_at: 0,
  last_run_at: null,
  last_as_of: '2025-11-01',
  last_groups: 0,
  last_written: 0,
});

/** The account list's filters: a group property, the group value, a usage metric. */
const listFiltersOf = (h: string) => [
  { subprop_type: 'group', subprop_key: h, subprop_op: 'does not contain', subprop_value: [h] },
  { subprop_type: 'group', subprop_op: 'is', subprop_value: [h] },
  { subprop_type: 'metric', subprop_key: 'events_7d_change', subprop_op: 'greater', subprop_value: ['123456789012345678901234567890'] },
  { subprop_type: 'metric', subprop_key: 'days_since_last_seen', subprop_op: 'is not', subprop_value: ['3', '4'] },
];

const sfMapping = (h: string): Mapping => ({
  project_id: PROJECT,
  id: h,
  def: { sobject: h, group_type: h, name_field: h, properties: [{ sf_field: h, group_property: h }], cadence: { type: 'days', days: 7 } },
  revision: 3,
  created_at: 0,
  updated_at: 0,
});
const sfKey = (h: string) => ({ project_id: PROJECT, id: h, revision: 3 });

const matcher = () => chartEventMatcher(t);
const memberDeps = () => ({ table: t, matchEvents: matcher(), propertyCondition: propCondition });
/** Group property conditions of a cohort: on current properties and as stamped, on a property and on the group value. */
const groupPropertyConditions = (h: string) => [
  { type: 'group_property', group_type: h, subprop_key: h, subprop_op: 'does not contain', subprop_value: [h] },
  { type: 'group_property', group_type: h, subprop_op: 'is', subprop_value: [h], gpMode: 'event', time_value: 7 },
  { type: 'group_property', group_type: h, subprop_key: h, subprop_op: 'greater', subprop_value: ['123456789012345678901234567890'], gpMode: 'event' },
];
const sources = (h: string): Source[] => [{ table: 'events' }, { table: 'events', expand: h }, { table: 'event_groups', groupType: h }, { table: 'event_groups', groupType: 'other' }];
const range = { startDay: '2025-11-01', endDay: '2025-11-01', tz: 'UTC', fromMs: 0, toMs: 1 };

type Built = Sql | Insert;
/** [name, builder, whether the hostile input must reach ClickHouse (false: the builder takes none of it)] */
type Case = [string, (h: string) => Built[] | Promise<Built[]>, boolean?];

const CASES: Case[] = [
  // charts
  ['segmentation: users, filters, group-by on a group property', (h) => segmentation({ ...base(h), e: J({ event_type: h, filters: filtersOf(h), group_by: [{ type: 'group', group_type: h, value: h }] }) })],
  ['segmentation: countGroup, gpMode=current, by group value, hourly', (h) => segmentation({ ...base(h), end: '20251102', i: '-3600000', countGroup: h, gpMode: 'current', e: J({ event_type: h, filters: filtersOf(h), group_by: [{ type: 'group', group_type: h }] }) })],
  ['segmentation: sums with e2 and g', (h) => segmentation({ ...base(h), m: 'sums', g: `gp:${h}`, e: J({ event_type: h, group_by: [{ type: 'event', value: h }] }), e2: J({ event_type: '_active', filters: filtersOf(h), group_by: [{ type: 'event', value: h }] }) })],
  ['segmentation: weekly averages by two properties', (h) => segmentation({ ...base(h), m: 'average', i: '7', e: J({ event_type: h, group_by: [{ type: 'event', value: h }, { type: 'user', value: `gp:${h}` }] }) })],
  ['funnel: ordered, users, g on a group property', (h) => funnel({ ...base(h), e: [J({ event_type: h, filters: filtersOf(h) }), J({ event_type: h })], g: `group:${h}:${h}`, cs: '86400' })],
  ['funnel: unordered, countGroup, gpMode=current', (h) => funnel({ ...base(h), mode: 'unordered', countGroup: h, gpMode: 'current', e: [J({ event_type: h, group_by: [{ type: 'group', group_type: h, value: h }] }), J({ event_type: h, filters: filtersOf(h) }), J({ event_type: '_active' })] })],
  ['funnel: sequential, by event property', (h) => funnel({ ...base(h), mode: 'sequential', e: [J({ event_type: h, group_by: [{ type: 'event', value: h }] }), J({ event_type: h })] })],
  ['segmentation: rolling active users by a group property', (h) => rolling({ ...base(h), m: 'active', rollingWindow: '7', g: `group:${h}:${h}`, e: J({ event_type: h, filters: filtersOf(h) }) })],
  ['segmentation: rolling weekly totals of groups, current properties', (h) => rolling({ ...base(h), m: 'totals', i: '7', rollingWindow: '4', countGroup: h, gpMode: 'current', e: J({ event_type: h, filters: filtersOf(h) }) })],
  ['stickiness: weekly, groups; monthly, users', (h) => [
    ...stickiness({ ...base(h), countGroup: h, e: J({ event_type: h, filters: filtersOf(h) }) }),
    ...stickiness({ ...base(h), i: '30', cumulative: 'true', e: J({ event_type: '_active', filters: filtersOf(h) }) }),
  ]],
  ['retention: n-day, users', (h) => retention({ ...base(h), se: J({ event_type: h, filters: filtersOf(h) }), re: J({ event_type: h, filters: filtersOf(h) }), g: `gp:${h}` })],
  ['retention: rolling weekly, countGroup, current', (h) => retention({ ...base(h), rm: 'rolling', i: '7', countGroup: h, gpMode: 'current', se: J({ event_type: h, group_by: [{ type: 'group', group_type: h, value: h }] }), re: '_all' })],
  ['retention: _new monthly', (h) => retention({ ...base(h), i: '30', se: '_new', re: J({ event_type: h, filters: filtersOf(h) }) })],
  ['retention: calendar weeks, users', (h) => retention({ ...base(h), i: '7', rt: 'calendar', se: J({ event_type: h, filters: filtersOf(h) }), re: '_all', g: `group:${h}:${h}` })],
  // the microscope: the units behind a point, and the page of them it replies
  ['microscope: segmentation point, series by group property', (h) => {
    const plan = parseSegmentation({ ...base(h), e: J({ event_type: h, filters: filtersOf(h), group_by: [{ type: 'group', group_type: h, value: h }] }) }, project, limits);
    const units = segmentationPointUnits(plan, 0, [h], h, PROJECT, t, props(plan.segments));
    return [units, unitsPageQuery({ chart: 'segmentation', countGroup: 'User', members: units, point: {} }, 10, 0)];
  }],
  ['microscope: funnel drop-off by group, current properties', (h) => {
    const plan = parseFunnel({ ...base(h), countGroup: h, gpMode: 'current', e: [J({ event_type: h, filters: filtersOf(h), group_by: [{ type: 'group', group_type: h, value: h }] }), J({ event_type: h })] }, project, limits);
    return [funnelStepUnits(plan, 2, true, [h], PROJECT, t, props(plan.segments))];
  }],
  ['microscope: retention cell', (h) => {
    const plan = parseRetention({ ...base(h), g: `gp:${h}`, se: J({ event_type: h, filters: filtersOf(h) }), re: '_all' }, project, limits);
    return [retentionCellUnits(plan, h, 1, [h], PROJECT, t, props(plan.segments))];
  }],
  // what the chart pickers suggest
  ['suggestions: event types', () => [eventTypesQuery(t, PROJECT, 1e12)], false],
  ['suggestions: property names', (h) => [
    propertyNamesQuery(t, PROJECT, { type: 'event', now: 1e12, eventType: h }),
    propertyNamesQuery(t, PROJECT, { type: 'user', now: 1e12, eventType: h }),
    propertyNamesQuery(t, PROJECT, { type: 'group', now: 1e12, groupType: h }),
  ]],
  ['suggestions: property values', (h) => [
    propertyValuesQuery(t, PROJECT, { prop: { kind: 'event', key: h }, now: 1e12, eventType: h, prefix: h, limit: 5 }),
    propertyValuesQuery(t, PROJECT, { prop: { kind: 'user', key: h }, now: 1e12, limit: 5 }),
    propertyValuesQuery(t, PROJECT, { prop: { kind: 'context', key: h }, now: 1e12, prefix: h, limit: 5 }),
    propertyValuesQuery(t, PROJECT, { prop: { kind: 'group', groupType: h, key: h }, now: 1e12, prefix: h, limit: 5 }),
  ]],
  // the catalog: what exists in a project
  ['catalog: known group types', () => [knownGroupTypesQuery(t, PROJECT)], false],
  ['catalog: group type and properties', (h) => [
    ...groupTypeProbes(t, PROJECT, h),
    ...propertyProbes(t, PROJECT, { kind: 'event', key: h }),
    ...propertyProbes(t, PROJECT, { kind: 'user', key: h }),
    ...propertyProbes(t, PROJECT, { kind: 'group', groupType: h, key: h }),
  ]],
  // accounts
  ['accounts: group types', () => [groupTypesQuery(t, PROJECT)], false],
  ['accounts: property exists, search by property history', (h) => [
    propertyExistsQuery(t, PROJECT, h, h),
    searchQuery(t, PROJECT, { groupType: h, filter: { kind: 'property', property: h, value: h }, limit: 10, offset: 0, now: 1 }),
  ]],
  ['accounts: search by prefix', (h) => [searchQuery(t, PROJECT, { filter: { kind: 'prefix', prefix: h }, limit: 10, offset: 0, now: 1 })]],
  ['accounts: account page and activity', (h) => {
    const q = accountQueries(t, PROJECT, h, h, 10);
    return [q.group, q.counts, q.users, activityQuery(t, PROJECT, h, h, { limit: 10, offset: 0, direction: 'earliest' })];
  }],
  ['accounts: property sources and history', (h) => [propertySourcesQuery(t, PROJECT, h, h), historyQuery(t, PROJECT, h, h, { property: h, limit: 10, offset: 0 })]],
  // the account list, one account's usage, health scores
  ['account list: properties, metrics, cohorts of groups and of users, sorted by a property', (h) => {
    const r = parseListRequest(h, { columns: J([h, 'events_7d']), sort: h, filters: J(listFiltersOf(h)) }, Date.UTC(2025, 10, 2), propCondition);
    const ctx = listContext(t, PROJECT, h);
    const cohorts = [cohortPredicate('is', [cohort(h, h)])(ctx), withMembersIn(ctx, cohortPredicate('is not', [cohort(h, 'User')])(ctx))];
    return [listQuery(ctx, r, cohorts, { limit: 10, offset: 0 }), listQuery(ctx, { ...r, sort: { kind: 'number', name: 'events_7d_change' } }, [], null), countQuery(ctx, r, cohorts)];
  }],
  ['usage: one group and its days', (h) => [groupsWithUsage(t, PROJECT, h, '2025-11-01', sql`group_value = ${param(h, 'String')}`), dailyUsageQuery(t, PROJECT, h, h, '2025-10-01', '2025-11-01')]],
  ['health scores: list', () => [healthScoresQuery(t, PROJECT)], false],
  ['health scores: store', (h) => [healthScoreRow(healthScore(h)), healthScoreQuery(t, PROJECT, h)]],
  // cohorts
  ['cohorts: list', () => [cohortListQuery(t, PROJECT)], false],
  ['cohorts: those holding one member', (h) => [memberOfQuery(t, PROJECT, h, h)]],
  ['cohorts: lookup', (h) => [cohortQuery(t, PROJECT, h)]],
  ['cohorts: row, members page, size, prune', (h) => [cohortRow(cohort(h, h)), membersQuery(t, cohort(h, h), 10, 0), membershipSizeQuery(t, PROJECT, h, 1), pruneStatement(t, PROJECT, h, 1), pruneStatement(t, PROJECT, h)]],
  ['cohorts: upload staging and matching', (h) => {
    const staged = memberSet(t, { project_id: PROJECT, id: h, members_version: 2 });
    return [
      ...stagedIds(PROJECT, h, 2, [h, `${h}2`]),
      unknownSampleQuery(staged, sql`SELECT member FROM (${universe(t, PROJECT, h, staged)})`, 5),
      membershipInsert(t, { project_id: PROJECT, id: h }, 3, universe(t, PROJECT, 'User', staged)),
    ];
  }],
  ['cohorts: behavioral, users', async (h) => {
    const def = parseCohortDefinition([{ type: 'event', event_type: h, filters: [{ subprop_type: 'group', group_type: h, subprop_key: h, subprop_op: 'contains', subprop_value: [h] }], op: '<=', value: 3, time_value: 30 }]);
    return [membershipInsert(t, { project_id: PROJECT, id: h }, 4, await behavioralMembers(memberDeps(), PROJECT, 'User', def, 1e12))];
  }],
  ['cohorts: behavioral, groups', async (h) => {
    const def = parseCohortDefinition([{ type: 'event', event_type: h, filters: [{ subprop_type: 'user', subprop_key: `gp:${h}`, subprop_op: 'is not', subprop_value: [h] }], op: '=', value: 0, time_value: 7 }]);
    return [membershipInsert(t, { project_id: PROJECT, id: h }, 5, await behavioralMembers(memberDeps(), PROJECT, h, def, 1e12))];
  }],
  ['cohorts: users by their groups\' properties, with an event condition', async (h) => {
    const def = parseCohortDefinition([{ type: 'event', event_type: h, op: '>=', value: 1, time_value: 30 }, ...groupPropertyConditions(h)]);
    return [membershipInsert(t, { project_id: PROJECT, id: h }, 6, await behavioralMembers(memberDeps(), PROJECT, 'User', def, 1e12))];
  }],
  ['cohorts: groups by their properties, alone', async (h) => {
    const def = parseCohortDefinition(groupPropertyConditions(h));
    return [membershipInsert(t, { project_id: PROJECT, id: h }, 7, await behavioralMembers(memberDeps(), PROJECT, h, def, 1e12))];
  }],
  ['cohorts: as a segment of users and of groups, on every kind of row', (h) =>
    sources(h).flatMap((source) => {
      const ctx = newContext({ projectId: PROJECT, table: t, range, gpMode: 'event', source });
      return [cohort(h, 'User'), cohort(h, h)].map((c) => sql`SELECT count() ${fromWhere(ctx)} AND ${cohortPredicate('is not', [c])(ctx)}`);
    }),
  ],
  // dynamic properties
  ['dynamic properties: list', () => [propertiesQuery(t, PROJECT)], false],
  ['dynamic properties: store', (h) => [propertyRow(dynamic(h)), propertyQuery(t, PROJECT, h)]],
  ['dynamic properties: values', async (h) => {
    const p = dynamic(h);
    const match = await matcher()({ projectId: PROJECT, e: p.definition.metric.e, table: 'event_groups', groupType: h, param: 'metric.e' });
    return [valuesQuery(t, p, { start: 0, end: 1 }, match), staleGroupsQuery(t, p)];
  }],
  // the Salesforce sync
  ['salesforce: mappings and states', () => [mappingsQuery(t, PROJECT), statesQuery(t, PROJECT)], false],
  ['salesforce: store a mapping, its state and pickups', (h) => [
    mappingRow(sfMapping(h)),
    mappingQuery(t, PROJECT, h),
    stateRow({ ...freshState(sfKey(h)), last_error_message: h }),
    pickupRows(sfKey(h), [{ group_value: h, state: 'pending', sf_modstamp: 1000, last_update: null, next_pickup: 2000 }]),
  ]],
  ['salesforce: pickups and groups', (h) => [
    pickupsQuery(t, sfKey(h), [h, `${h}2`]),
    existingGroupsQuery(t, PROJECT, h, [h]),
    dueValuesQuery(t, { ...sfKey(h), group_type: h }, 1, false),
    rollForwardQuery(t, sfKey(h), 1),
    pickupSummaryQuery(t, sfKey(h)),
    valuesInStateQuery(t, sfKey(h), 'unknown', 10, 0),
    prunePickupsStatement(t, PROJECT, h, 3),
    prunePickupsStatement(t, PROJECT, h),
  ]],
];

const isInsert = (b: Built): b is Insert => !(b instanceof Object && 'build' in b);
const flatten = (v: unknown): unknown[] => (Array.isArray(v) ? v.flatMap(flatten) : [v]);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every table a statement reads is followed by the project filter bound to this project (INSERT targets excepted). */
function expectScoped(text: string, params: Record<string, unknown>): void {
  const tableRef = new RegExp(`(INSERT INTO )?\`${escape(ch.database)}\`\\.\`(\\w+)\``, 'g');
  let reads = 0;
  for (const m of text.matchAll(tableRef)) {
    if (m[1]) continue;
    reads++;
    const after = text.slice(m.index! + m[0].length);
    const filter = /^(?: FINAL)?(?: ARRAY JOIN [\s\S]*? AS __gv)?\s+WHERE project_id = \{(p\d+):UInt32\}/.exec(after);
    expect({ table: m[2], filtered: Boolean(filter) }).toEqual({ table: m[2], filtered: true });
    expect(params[filter![1]!]).toBe(PROJECT);
  }
  expect(reads).toBeGreaterThan(0);
}

async function run(b: Built): Promise<void> {
  if (isInsert(b)) return db.insert(b);
  if (/^\s*(INSERT|DELETE)\b/.test(b.build().query)) return db.exec(b);
  await db.rows(b);
}

const named = HOSTILE.map((h): [string, string] => [h === LONG ? `a ${h.length}-character name` : JSON.stringify(h), h]);

describe.each(CASES)('%s', (_name, build, takesInput = true) => {
  it.each(named)('binds or refuses %s, filters by project, and runs', async (_label, h) => {
    let built: Built[];
    try {
      built = await build(h);
    } catch (err) {
      // refused: only a name longer than the API takes may be, and only with a 400
      expect({ input: h === LONG ? 'LONG' : h, error: String(err) }).toEqual({ input: 'LONG', error: expect.any(String) });
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(400);
      return;
    }
    expect(built.length).toBeGreaterThan(0);
    for (const b of built) {
      if (isInsert(b)) {
        expect(b.rows.length).toBeGreaterThan(0);
        for (const row of b.rows) expect((row as { project_id: number }).project_id).toBe(PROJECT);
        if (takesInput) expect(JSON.stringify(b.rows)).toContain(JSON.stringify(h).slice(1, -1));
      } else {
        const { query: text, params } = b.build();
        // not pasted: the hostile text never appears in the SQL, nor did a placeholder-looking value become one
        expect(text).not.toContain(h);
        expect(text).not.toContain('placeholder');
        // every placeholder has its value, and nothing else is bound
        const placeholders = [...text.matchAll(/\{(p\d+):[^}]+\}/g)].map((m) => m[1]);
        expect(new Set(placeholders)).toEqual(new Set(Object.keys(params)));
        // bound: it is a parameter value
        if (takesInput) expect(flatten(Object.values(params))).toContain(h);
        expectScoped(text, params);
      }
      await run(b);
    }
    // nothing was dropped
    const [tables] = await db.rows<{ n: number }>(sql`SELECT count() AS n FROM system.tables WHERE database = ${param(ch.database, 'String')} AND name IN ${param(TABLES, 'Array(String)')}`);
    expect(Number(tables!.n)).toBe(TABLES.length);
  });
});

describe('refused with a 400', () => {
  const seg = (q: Query) => segmentation({ start: '20251101', end: '20251130', ...q });
  it.each([
    ['a number beyond double range', { e: J({ event_type: 'x', filters: [{ subprop_type: 'event', subprop_key: 'n', subprop_op: 'less', subprop_value: ['1e400'] }] }) }],
    ['a number that is text', { e: J({ event_type: 'x', filters: [{ subprop_type: 'event', subprop_key: 'n', subprop_op: 'less', subprop_value: ['1; DROP TABLE events'] }] }) }],
    ['an operator that is SQL', { e: J({ event_type: 'x', filters: [{ subprop_type: 'event', subprop_key: 'n', subprop_op: "= '' OR 1=1 --", subprop_value: ['1'] }] }) }],
    ['a metric that is SQL', { m: 'uniques); DROP TABLE events; --', e: J({ event_type: 'x' }) }],
    ['an interval that is SQL', { i: '1) --', e: J({ event_type: 'x' }) }],
    ['a limit that is SQL', { limit: '10; DROP TABLE events', e: J({ event_type: 'x' }) }],
    ['a date that is SQL', { e: J({ event_type: 'x' }), start: "2025'--" }],
  ])('segmentation: %s', (_name, q) => {
    expect(() => seg(q)).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('funnel and retention options', () => {
    const steps = [J({ event_type: 'a' }), J({ event_type: 'b' })];
    const range = { start: '20251101', end: '20251130' };
    expect(() => funnel({ ...range, e: steps, mode: "ordered'; --" })).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => funnel({ ...range, e: steps, cs: '1e99' })).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => funnel({ ...range, e: steps, cs: '99999999999999999999' })).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => retention({ ...range, se: '_new', re: '_all', rm: "rolling' --" })).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => retention({ ...range, se: '_new', re: '_all', i: '-3600000' })).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('cohort and dynamic-property definitions', () => {
    expect(() => parseCohortDefinition([{ type: 'event', event_type: 'x', op: "'; DROP TABLE events; --" }])).toThrow(/op/);
    expect(() => parseCohortDefinition([{ type: 'event', event_type: 'x', time_value: '1; DROP TABLE events' }])).toThrow(/time_value/);
  });
});
