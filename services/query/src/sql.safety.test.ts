// One table of every chart query builder, each fed hostile names and values: everything from the request must
// reach ClickHouse as a bound parameter (or be rejected with a 400), and every table read must be filtered by the
// authenticated project.
import type { Project } from '@groupscope/projects';
import type { Sql } from '@groupscope/clickhouse';
import { buildFunnelQuery, parseFunnel } from './charts/funnels';
import { buildRetentionQuery, parseRetention } from './charts/retention';
import { buildSegmentationQuery, parseSegmentation } from './charts/segmentation';
import type { Query } from './charts/common';
import type { CompiledCondition } from './sql/segments';
import type { Condition } from './definitions';

const PROJECT_ID = 7;
const project = { id: PROJECT_ID, time_zone: 'UTC' } as Project;
const limits = { maxDays: 400, maxHourlyDays: 31, maxGroupByLimit: 1000 };
const table = (n: string) => `\`db\`.\`${n}\``;
const props = (conds: Condition[]) => conds.filter((c): c is CompiledCondition & Condition => c.kind === 'prop');

const HOSTILE = [
  "x'); DROP TABLE events; --",
  "back\\slash\\' quote",
  'double"quote` backtick',
  'ünïcødé 🎉 Ω',
  '{p999:String} placeholder',
  "' OR 1=1 --",
  'nul\u0000and\nnewline',
];

const J = JSON.stringify;
const filtersOf = (h: string) => [
  { subprop_type: 'event', subprop_key: h, subprop_op: 'is', subprop_value: [h] },
  { subprop_type: 'user', subprop_key: `gp:${h}`, subprop_op: 'contains', subprop_value: [h] },
  { subprop_type: 'user', subprop_key: 'country', subprop_op: 'set is not', subprop_value: [h] },
  { subprop_type: 'group', group_type: h, subprop_key: h, subprop_op: 'does not contain', subprop_value: [h] },
  { subprop_type: 'group', group_type: h, subprop_op: 'is', subprop_value: [h] },
  { subprop_type: 'event', subprop_key: h, subprop_op: 'greater', subprop_value: ['123456789012345678901234567890'] },
];
const segmentsOf = (h: string) => J([{ prop: `gp:${h}`, op: 'is', values: [h] }, { prop: `group:${h}:${h}`, op: 'set is', values: [h] }]);
const base = (h: string): Query => ({ start: '20251101', end: '20251130', s: segmentsOf(h) });

type Build = (q: Query) => Sql[];
const seg: Build = (q) => {
  const plan = parseSegmentation(q, project, limits);
  return plan.series.map((_, i) => buildSegmentationQuery(plan, i, PROJECT_ID, table, props(plan.segments)));
};
const funnel: Build = (q) => {
  const plan = parseFunnel(q, project, limits);
  return [buildFunnelQuery(plan, PROJECT_ID, table, props(plan.segments))];
};
const retention: Build = (q) => {
  const plan = parseRetention(q, project, limits);
  return [buildRetentionQuery(plan, PROJECT_ID, table, props(plan.segments))];
};

const CASES: [string, Build, (h: string) => Query][] = [
  ['segmentation, users, filters and group-by on a group property', seg, (h) => ({ ...base(h), e: J({ event_type: h, filters: filtersOf(h), group_by: [{ type: 'group', group_type: h, value: h }] }) })],
  ['segmentation, countGroup, gpMode=current, by group value, hourly', seg, (h) => ({ ...base(h), end: '20251102', i: '-3600000', countGroup: h, gpMode: 'current', e: J({ event_type: h, filters: filtersOf(h), group_by: [{ type: 'group', group_type: h }] }) })],
  ['segmentation, sums with e2 and g', seg, (h) => ({ ...base(h), m: 'sums', g: `gp:${h}`, e: J({ event_type: h, group_by: [{ type: 'event', value: h }] }), e2: J({ event_type: '_active', filters: filtersOf(h), group_by: [{ type: 'event', value: h }] }) })],
  ['segmentation, weekly totals by event property', seg, (h) => ({ ...base(h), m: 'average', i: '7', e: J({ event_type: h, group_by: [{ type: 'event', value: h }, { type: 'user', value: `gp:${h}` }] }) })],
  ['funnel, ordered, users, g on a group property', funnel, (h) => ({ ...base(h), e: [J({ event_type: h, filters: filtersOf(h) }), J({ event_type: h })], g: `group:${h}:${h}`, cs: '86400' })],
  ['funnel, unordered, countGroup, gpMode=current', funnel, (h) => ({ ...base(h), mode: 'unordered', countGroup: h, gpMode: 'current', e: [J({ event_type: h, group_by: [{ type: 'group', group_type: h, value: h }] }), J({ event_type: h, filters: filtersOf(h) }), J({ event_type: '_active' })] })],
  ['funnel, sequential, by event property', funnel, (h) => ({ ...base(h), mode: 'sequential', e: [J({ event_type: h, group_by: [{ type: 'event', value: h }] }), J({ event_type: h })] })],
  ['retention, n-day, users', retention, (h) => ({ ...base(h), se: J({ event_type: h, filters: filtersOf(h) }), re: J({ event_type: h, filters: filtersOf(h) }), g: `gp:${h}` })],
  ['retention, rolling weekly, countGroup, current', retention, (h) => ({ ...base(h), rm: 'rolling', i: '7', countGroup: h, gpMode: 'current', se: J({ event_type: h, group_by: [{ type: 'group', group_type: h, value: h }] }), re: '_all' })],
  ['retention, _new monthly', retention, (h) => ({ ...base(h), i: '30', se: '_new', re: J({ event_type: h, filters: filtersOf(h) }) })],
];

function flatten(v: unknown): unknown[] {
  return Array.isArray(v) ? v.flatMap(flatten) : [v];
}

describe('every query builder binds hostile input and filters by project', () => {
  describe.each(CASES)('%s', (_name, build, query) => {
    it.each(HOSTILE)('with %p', (h) => {
      const built = build(query(h)).map((q) => q.build());
      expect(built.length).toBeGreaterThan(0);
      for (const { query: text, params } of built) {
        // not pasted: the hostile text never appears in the SQL
        expect(text).not.toContain(h);
        // bound: it is a parameter value
        expect(flatten(Object.values(params))).toContain(h);
        // every placeholder has its value, and nothing else is bound
        const placeholders = [...text.matchAll(/\{(p\d+):[^}]+\}/g)].map((m) => m[1]);
        expect(new Set(placeholders)).toEqual(new Set(Object.keys(params)));
        // every table read is filtered by the project, with this project's id
        const tables = text.match(/`db`\.`\w+`/g) ?? [];
        const projectFilters = [...text.matchAll(/project_id = \{(p\d+):UInt32\}/g)].map((m) => params[m[1]!]);
        expect(tables.length).toBeGreaterThan(0);
        expect(projectFilters).toHaveLength(tables.length);
        expect(projectFilters.every((p) => p === PROJECT_ID)).toBe(true);
      }
    });
  });

  it.each([
    ['a number beyond double range', { e: J({ event_type: 'x', filters: [{ subprop_type: 'event', subprop_key: 'n', subprop_op: 'less', subprop_value: ['1e400'] }] }) }],
    ['a number that is text', { e: J({ event_type: 'x', filters: [{ subprop_type: 'event', subprop_key: 'n', subprop_op: 'less', subprop_value: ["1; DROP TABLE events"] }] }) }],
    ['an operator that is SQL', { e: J({ event_type: 'x', filters: [{ subprop_type: 'event', subprop_key: 'n', subprop_op: "= '' OR 1=1 --", subprop_value: ['1'] }] }) }],
    ['a metric that is SQL', { m: 'uniques); DROP TABLE events; --', e: J({ event_type: 'x' }) }],
    ['an interval that is SQL', { i: '1) --', e: J({ event_type: 'x' }) }],
    ['a limit that is SQL', { limit: '10; DROP TABLE events', e: J({ event_type: 'x' }) }],
    ['a date that is SQL', { e: J({ event_type: 'x' }), start: "2025'--" }],
  ])('rejects %s with a 400', (_name, q) => {
    expect(() => seg({ start: '20251101', end: '20251130', ...q })).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('rejects hostile funnel and retention options with a 400', () => {
    const steps = [J({ event_type: 'a' }), J({ event_type: 'b' })];
    expect(() => funnel({ start: '20251101', end: '20251130', e: steps, mode: "ordered'; --" })).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => funnel({ start: '20251101', end: '20251130', e: steps, cs: '1e99' })).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => funnel({ start: '20251101', end: '20251130', e: steps, cs: '99999999999999999999' })).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => retention({ start: '20251101', end: '20251130', se: '_new', re: '_all', rm: "rolling' --" })).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => retention({ start: '20251101', end: '20251130', se: '_new', re: '_all', i: '-3600000' })).toThrow(expect.objectContaining({ status: 400 }));
  });
});
