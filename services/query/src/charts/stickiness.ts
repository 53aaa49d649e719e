// GET /api/2/stickiness: how many days of each week (i=7, the default) or month (i=30) a unit was active, as a
// distribution: xValues 1..7 (or 1..31), and per value the number of (unit, week) pairs active on exactly that many
// days (cumulative=true: on at least that many). Units are users, or the groups of a type with countGroup; "active"
// means an event matching `e` (`_active`: any). Days are local days of the project's time zone; the weeks and months
// are those the range touches, clipped to it. Filters, segments (`s`, cohorts too) and gpMode work as in
// segmentation; group-bys do not apply.
import { sql, trusted, type Sql } from '@groupscope/clickhouse';
import { WEEK_MODE } from '../domain/time';
import { badParam } from '../http/errors';
import { boolParam, single } from '../http/params';
import type { TableRef } from '../sql/executor';
import type { CompiledCondition } from '../sql/segments';
import { withClause } from '../sql/source';
import { namesOf, num, resolvePlan, run, type ChartEnv, type Query } from './common';
import { buildSegmentationRows, parseSegmentation, type SegmentationPlan } from './segmentation';

export type StickinessPeriod = 'week' | 'month';

export interface StickinessPlan {
  segmentation: SegmentationPlan;
  period: StickinessPeriod;
  cumulative: boolean;
}

export function parseStickiness(query: Query, env: Pick<ChartEnv, 'project' | 'limits'>): StickinessPlan {
  const i = single('i', query.i) ?? '7';
  if (i !== '7' && i !== '30') throw badParam('i', 'i must be 7 (days active per week) or 30 (per month)');
  for (const p of ['e2', 'g', 'm', 'rollingWindow'] as const) {
    if (query[p] !== undefined && query[p] !== '') throw badParam(p, `stickiness takes no ${p}`, 'unsupported');
  }
  // the rows of a daily uniques chart of the event: one per (unit, event), labelled with its local day
  const segmentation = parseSegmentation({ ...query, i: '1', m: 'uniques' }, env.project, env.limits);
  if (segmentation.series[0]!.groupBy.length > 0) throw badParam('e', 'stickiness takes no group_by', 'unsupported');
  return { segmentation, period: i === '7' ? 'week' : 'month', cumulative: boolParam(query, 'cumulative') };
}

/** (days, n): how many (unit, period) pairs were active on `days` distinct days; and (units): distinct units in the range. */
export function buildStickinessQueries(plan: StickinessPlan, projectId: number, table: TableRef, segments: CompiledCondition[]): { distribution: Sql; units: Sql } {
  const { ctx, rows } = buildSegmentationRows(plan.segmentation, 0, projectId, table, segments);
  const period = plan.period === 'week' ? sql`toStartOfWeek(toDate(x), ${trusted(String(WEEK_MODE))})` : sql`toStartOfMonth(toDate(x))`;
  const perUnit = sql`SELECT u, ${period} AS p, uniqExact(x) AS days FROM (${rows}) GROUP BY u, p`;
  return {
    distribution: withClause(ctx, sql`SELECT days, count() AS n FROM (${perUnit}) GROUP BY days ORDER BY days`),
    units: withClause(ctx, sql`SELECT uniqExact(u) AS units FROM (${rows})`),
  };
}

export interface StickinessResult {
  data: {
    xValues: string[];
    series: number[][];
    seriesLabels: number[];
    seriesCollapsed: { setId: string; value: number }[][];
    /** (unit, period) pairs with any activity: the sum of the series when it is not cumulative */
    periods: number;
    interval: StickinessPeriod;
    cumulative: boolean;
  };
}

export function shapeStickiness(plan: StickinessPlan, distribution: { days: number; n: number }[], units: number): StickinessResult {
  const width = plan.period === 'week' ? 7 : 31;
  const exact = Array.from({ length: width }, () => 0);
  for (const r of distribution) {
    const d = num(r.days);
    if (d >= 1 && d <= width) exact[d - 1] = num(r.n);
  }
  const periods = exact.reduce((a, b) => a + b, 0);
  const series = plan.cumulative ? exact.map((_, i) => exact.slice(i).reduce((a, b) => a + b, 0)) : exact;
  return {
    data: {
      xValues: exact.map((_, i) => String(i + 1)),
      series: [series],
      seriesLabels: [0],
      seriesCollapsed: [[{ setId: '', value: units }]],
      periods,
      interval: plan.period,
      cumulative: plan.cumulative,
    },
  };
}

export async function stickiness(env: ChartEnv, query: Query): Promise<StickinessResult> {
  const plan = parseStickiness(query, env);
  const seg = plan.segmentation;
  const segments = await resolvePlan(env, seg, namesOf(seg.series.map((s) => s.def), seg.segments));
  const q = buildStickinessQueries(plan, env.project.id, env.db.table, segments);
  const [distribution, units] = await Promise.all([run<{ days: number; n: number }>(env, q.distribution, 'stickiness'), run<{ units: number }>(env, q.units, 'stickiness')]);
  return shapeStickiness(plan, distribution, num(units[0]?.units));
}
