// The units (users or groups) behind one data point of a chart: what the microscope lists and saves as a cohort.
// Each chart is parsed and built by its own code (same parameters, same SQL up to the per-unit rows); this module
// picks the point and lists its units:
//   segmentation: x (an xValue) and segment (series index) -> the units counted in that bucket of that series;
//   funnels: step (1-based), dropoff=false -> reached the step; dropoff=true -> reached step-1 but not step
//            (segment = the group-by row, when `g` is used);
//   retention: x (cohort date) and n (interval) -> the cohort's units counted at n (segment as for funnels).
// The result is a query yielding (id, first_ms): the unit and the time of its first event in that point.
import { sql, param, join, type Sql } from '@groupscope/clickhouse';
import { xValues } from '../domain/time';
import { badParam } from '../http/errors';
import { boolParam, intParam, single } from '../http/params';
import type { TableRef } from '../sql/executor';
import type { CompiledCondition } from '../sql/segments';
import { withClause } from '../sql/source';
import { label, namesOf, resolvePlan, run, type ChartEnv, type Query } from './common';
import { scanPlan, windowBuckets } from './active';
import { buildFunnelQuery, buildFunnelUnits, parseFunnel, type FunnelPlan } from './funnels';
import { buildRetentionQuery, buildRetentionUnits, parseRetention, shapeRetention, type RetentionPlan } from './retention';
import { buildSegmentationQuery, buildSegmentationRows, parseSegmentation, shapeSegmentation, type SegmentationPlan } from './segmentation';

export const CHARTS = ['segmentation', 'funnels', 'retention'] as const;
export type Chart = (typeof CHARTS)[number];

export interface PointUnits {
  chart: Chart;
  /** 'User' or the group type counted */
  countGroup: string;
  /** SELECT id, first_ms (one row per unit) */
  members: Sql;
  /** the point, for the reply and for a cohort saved from it */
  point: Record<string, unknown>;
}

/** `k0 = {..} AND k1 = {..}`: the group-by keys of the chosen series. */
function keysEqual(keyNames: Sql[], keys: string[]): Sql {
  const parts = keyNames.map((k, i) => sql`${k} = ${param(keys[i] ?? '', 'String')}`);
  return parts.length ? join(parts, ' AND ') : sql`1`;
}

/** The keys of the chart row whose label is `wanted` (labels are how the chart names series). */
function keysByLabel(rows: Record<string, unknown>[], width: number, wanted: string): string[] | undefined {
  for (const r of rows) {
    const keys = Array.from({ length: width }, (_, i) => String(r[`k${i}`] ?? ''));
    if (label(keys) === wanted) return keys;
  }
  return undefined;
}

/** The units counted at `x` in series `event` (with group-by `keys`) of a segmentation. */
export function segmentationPointUnits(plan: SegmentationPlan, event: number, keys: string[], x: string, projectId: number, table: TableRef, segments: CompiledCondition[]): Sql {
  const { ctx, rows, keyNames } = buildSegmentationRows(scanPlan(plan), event, projectId, table, segments);
  // a rolling point (m=active, rollingWindow) holds the units of every bucket of its window
  const at = plan.rolling > 1 && plan.interval !== 'hour' ? sql`x IN ${param(windowBuckets(x, plan.rolling, plan.interval), 'Array(String)')}` : sql`x = ${param(x, 'String')}`;
  return withClause(ctx, sql`SELECT u AS id, toUnixTimestamp64Milli(min(ts)) AS first_ms FROM (${rows}) WHERE ${at} AND ${keysEqual(keyNames, keys)} GROUP BY u`);
}

/** The units that reached `step` of a funnel (dropoff: reached step - 1 and not step), in the group-by row `keys`. */
export function funnelStepUnits(plan: FunnelPlan, step: number, dropoff: boolean, keys: string[], projectId: number, table: TableRef, segments: CompiledCondition[]): Sql {
  const { ctx, units, keyNames } = buildFunnelUnits(plan, projectId, table, segments);
  const reached = dropoff ? sql`lvl = ${param(step - 1, 'UInt8')}` : sql`lvl >= ${param(step, 'UInt8')}`;
  return withClause(ctx, sql`SELECT u AS id, toInt64(t1) AS first_ms FROM (${units}) WHERE ${reached} AND ${keysEqual(keyNames, keys)}`);
}

/** The units of retention cohort `x` counted at interval `n`, in the group-by row `keys`. */
export function retentionCellUnits(plan: RetentionPlan, x: string, n: number, keys: string[], projectId: number, table: TableRef, segments: CompiledCondition[]): Sql {
  const { ctx, units, keyCols } = buildRetentionUnits(plan, projectId, table, segments);
  return withClause(
    ctx,
    sql`SELECT u AS id, toUnixTimestamp64Milli(first) AS first_ms FROM (${units})
        WHERE cohort = ${param(x, 'String')} AND has(ns, ${param(n, 'UInt64')}) AND ${keysEqual(keyCols, keys)}`,
  );
}

const outOfRange = (count: number) => badParam('segment', `segment must be a series index from 0 to ${Math.max(0, count - 1)} (the chart has ${count})`);

async function segmentation(env: ChartEnv, query: Query): Promise<PointUnits> {
  const plan = parseSegmentation(query, env.project, env.limits);
  const extra = plan.series.flatMap((s) => (s.valueProp ? [{ prop: s.valueProp, param: s.def.param }] : []));
  const groupBys = plan.series.flatMap((s) => s.groupBy.map((p) => ({ prop: p, param: s.def.param })));
  const segments = await resolvePlan(env, plan, [...namesOf(plan.series.map((s) => ({ ...s.def, groupBy: [] })), plan.segments), ...groupBys, ...extra]);
  const x = single('x', query.x);
  const xs = xValues(plan.range, plan.interval);
  if (x === undefined || !xs.includes(x)) throw badParam('x', `x must be one of the chart's xValues (${xs[0]} ... ${xs[xs.length - 1]})`, x === undefined ? 'missing_parameter' : 'invalid_parameter');
  const segment = intParam(query, 'segment', 0, 0, 1_000_000);
  const table = env.db.table;
  let event = segment;
  let keys: string[] = [];
  if (plan.series.every((s) => s.groupBy.length === 0)) {
    if (segment >= plan.series.length) throw outOfRange(plan.series.length);
  } else {
    // the series order is the chart's: run it and find which event and group-by value sit at that index
    const rows = await Promise.all(plan.series.map((_, i) => run<Record<string, unknown>>(env, buildSegmentationQuery(plan, i, env.project.id, table, segments), 'microscope')));
    const labels = shapeSegmentation(plan, rows as never).data.seriesLabels;
    const at = labels[segment];
    if (at === undefined) throw outOfRange(labels.length);
    if (typeof at === 'number') event = at;
    else {
      event = at[0];
      keys = keysByLabel(rows[event]!, plan.series[event]!.groupBy.length, at[1]) ?? [];
    }
  }
  const members = segmentationPointUnits(plan, event, keys, x, env.project.id, table, segments);
  return { chart: 'segmentation', countGroup: plan.countGroup ?? 'User', members, point: { x, segment } };
}

async function funnels(env: ChartEnv, query: Query): Promise<PointUnits> {
  const plan = parseFunnel(query, env.project, env.limits);
  const segments = await resolvePlan(env, plan, namesOf(plan.steps, plan.segments, plan.groupBy.map((p) => ({ prop: p, param: 'g' }))));
  const n = plan.steps.length;
  const step = intParam(query, 'step', undefined, 1, n);
  const dropoff = boolParam(query, 'dropoff');
  if (dropoff && step === 1) throw badParam('step', 'nobody drops off before the first step: with dropoff=true, step must be 2 or more');
  const table = env.db.table;
  const segment = intParam(query, 'segment', 0, 0, 1_000_000);
  let keys: string[] = [];
  if (plan.groupBy.length > 0) {
    const rows = await run<Record<string, unknown>>(env, buildFunnelQuery(plan, env.project.id, table, segments), 'microscope');
    const row = rows[segment];
    if (!row) throw outOfRange(rows.length);
    keys = plan.groupBy.map((_, i) => String(row[`k${i}`] ?? ''));
  } else if (segment !== 0) {
    throw outOfRange(1);
  }
  const members = funnelStepUnits(plan, step, dropoff, keys, env.project.id, table, segments);
  return { chart: 'funnels', countGroup: plan.countGroup ?? 'User', members, point: { step, dropoff, segment } };
}

async function retention(env: ChartEnv, query: Query): Promise<PointUnits> {
  const plan = parseRetention(query, env.project, env.limits);
  const defs = [...(plan.start ? [{ ...plan.start, groupBy: [] }] : []), { ...plan.ret, groupBy: [] }];
  const segments = await resolvePlan(env, plan, namesOf(defs, plan.segments, plan.groupBy.map((p) => ({ prop: p, param: 'g' }))));
  const dates = xValues(plan.range, plan.interval);
  const x = single('x', query.x);
  if (x === undefined || !dates.includes(x)) throw badParam('x', `x must be one of the chart's cohort dates (${dates[0]} ... ${dates[dates.length - 1]})`, x === undefined ? 'missing_parameter' : 'invalid_parameter');
  const n = intParam(query, 'n', 0, 0, dates.length);
  const table = env.db.table;
  const segment = intParam(query, 'segment', 0, 0, 1_000_000);
  let keys: string[] = [];
  if (plan.groupBy.length > 0) {
    const rows = await run<Record<string, unknown>>(env, buildRetentionQuery(plan, env.project.id, table, segments), 'microscope');
    const meta = shapeRetention(plan, rows).data.seriesMeta;
    const at = meta[segment];
    if (!at) throw outOfRange(meta.length);
    keys = keysByLabel(rows, plan.groupBy.length, at.groupValue ?? '') ?? [];
  } else if (segment !== 0) {
    throw outOfRange(1);
  }
  const members = retentionCellUnits(plan, x, n, keys, env.project.id, table, segments);
  return { chart: 'retention', countGroup: plan.countGroup ?? 'User', members, point: { x, n, segment } };
}

/** Parses the chart parameters plus the point, and builds the query listing its units. */
export async function selectUnits(env: ChartEnv, query: Query): Promise<PointUnits> {
  const chart = single('chart', query.chart);
  if (!chart || !(CHARTS as readonly string[]).includes(chart)) throw badParam('chart', `chart must be one of ${CHARTS.join(', ')}`, chart ? 'invalid_parameter' : 'missing_parameter');
  switch (chart as Chart) {
    case 'segmentation':
      return segmentation(env, query);
    case 'funnels':
      return funnels(env, query);
    case 'retention':
      return retention(env, query);
  }
}
