// GET /api/2/events/segmentation: a metric per interval for one or two events, optionally split by up to two
// group-by properties, with every interval present and the metric over the whole range beside it.
import { sql, param, trusted, join, type Sql } from '@groupscope/clickhouse';
import type { Project } from '@groupscope/projects';
import { isAnyEvent, type EventDef, type PropRef } from '../domain/properties';
import { buildRollingQuery, parseRolling } from './active';
import { parseCountGroup, parseEventDef, parseG, parseGpMode, parseLimit, parseSegments } from './request';
import { badParam } from '../http/errors';
import { single } from '../http/params';
import type { TableRef } from '../sql/executor';
import { andAll, conditionSql, keyOf, numberOf } from '../sql/conditions';
import { conditionsSql, type CompiledCondition } from '../sql/segments';
import { bucketExpr, fromWhere, unitExpr, withClause, type BuildContext, type Source } from '../sql/source';
import { parseRange, xValues, type Interval } from '../domain/time';
import {
  buildContext, chooseSource, label, namesOf, num, resolvePlan, run, type ChartEnv, type CommonPlan, type Query, type QueryLimits,
} from './common';

export const METRICS = ['uniques', 'totals', 'average', 'sums', 'value_avg'] as const;
export type Metric = (typeof METRICS)[number];

const INTERVALS: Record<string, Interval> = { '1': 'day', '7': 'week', '30': 'month', '-3600000': 'hour' };

export interface SeriesSpec {
  def: EventDef;
  groupBy: PropRef[];
  /** sums / value_avg: the numeric event property */
  valueProp?: PropRef;
  source: Source;
}

export interface SegmentationPlan extends CommonPlan {
  series: SeriesSpec[];
  metric: Metric;
  interval: Interval;
  limit: number;
  /** intervals each point covers (rollingWindow; m=active): 1 for none (active.ts) */
  rolling: number;
}

export function parseInterval(raw: unknown, allowed: Record<string, Interval> = INTERVALS): Interval {
  const s = single('i', raw);
  if (s === undefined || s === '') return 'day';
  const i = allowed[s];
  if (!i) throw badParam('i', `i must be one of ${Object.keys(allowed).join(', ')}`);
  return i;
}

export function parseSegmentation(query: Query, project: Project, limits: QueryLimits): SegmentationPlan {
  // m=active: active units (distinct, over rollingWindow intervals per point), of `_active` unless e says otherwise
  const active = single('m', query.m) === 'active';
  if (query.e === undefined && !active) throw badParam('e', 'e (the event definition, JSON) is required', 'missing_parameter');
  const defs = [parseEventDef('e', query.e ?? JSON.stringify({ event_type: '_active' }))];
  if (query.e2 !== undefined && query.e2 !== '') defs.push(parseEventDef('e2', query.e2));
  const m = active ? 'uniques' : (single('m', query.m) ?? 'uniques');
  if (!(METRICS as readonly string[]).includes(m)) throw badParam('m', `m must be one of ${METRICS.join(', ')}, active`, 'unsupported');
  const metric = m as Metric;
  const interval = parseInterval(query.i);
  const range = parseRange({ start: query.start, end: query.end }, project.time_zone, limits, interval);
  const countGroup = parseCountGroup(single('countGroup', query.countGroup));
  const gpMode = parseGpMode(single('gpMode', query.gpMode));
  const segments = parseSegments('s', single('s', query.s));
  const g = parseG(single('g', query.g));
  const limit = parseLimit(single('limit', query.limit), 100, limits.maxGroupByLimit);
  const series = defs.map((def): SeriesSpec => {
    let groupBy = def.groupBy;
    let valueProp: PropRef | undefined;
    if (metric === 'sums' || metric === 'value_avg') {
      valueProp = groupBy[0];
      if (!valueProp || (valueProp.kind !== 'event' && valueProp.kind !== 'eventColumn')) {
        throw badParam(def.param, `m=${metric} needs the numeric event property as ${def.param}.group_by[0] ({"type": "event", "value": "<property>"})`, 'missing_parameter');
      }
      groupBy = groupBy.slice(1);
    }
    if (groupBy.length === 0 && g) groupBy = [g];
    const source = chooseSource(countGroup, groupBy.map((p) => ({ prop: p, param: def.param })), true);
    return { def, groupBy, valueProp, source };
  });
  return { series, metric, interval, range, countGroup, gpMode, segments, limit, rolling: parseRolling(query, metric, interval) };
}

/**
 * Whether a series counts events through rows that may repeat an event: one row per (event, group) with countGroup,
 * or per group value when the events are expanded for a group-by. Such rows are first folded into one per event
 * and series key, so an event attributed to two groups counts once in a total, and once in each group's own series.
 * Uniques count units, which repeated rows cannot inflate.
 */
export function countsPerEvent(metric: Metric, source: Source): boolean {
  return metric !== 'uniques' && (source.table === 'event_groups' || source.expand !== undefined);
}

/** The columns of the per-event rows each metric reads (besides keys and x). */
function perEventColumns(metric: Metric): Sql[] {
  switch (metric) {
    case 'uniques':
    case 'totals':
      return [];
    case 'average':
      return [sql`groupUniqArray(u) AS us`];
    case 'sums':
    case 'value_avg':
      return [sql`any(v) AS v`];
  }
}

/**
 * Two-stage aggregation: per (keys, x) first, then merged per interval and over the whole range (GROUPING SETS).
 * Merging per-interval distinct sets is cheaper than hashing every row twice. On per-event rows, a count is a
 * count of rows and the units are the `us` arrays.
 */
function metricStates(metric: Metric, perEvent: boolean): Sql {
  switch (metric) {
    case 'uniques':
      return sql`uniqExactState(u) AS uqs`;
    case 'totals':
      return sql`count() AS t`;
    case 'average':
      return perEvent ? sql`count() AS t, uniqExactArrayState(us) AS uqs` : sql`count() AS t, uniqExactState(u) AS uqs`;
    case 'sums':
      return sql`sum(v) AS s`;
    case 'value_avg':
      return sql`sum(v) AS s, count(v) AS n`;
  }
}

function metricColumns(metric: Metric, perEvent: boolean): Sql {
  switch (metric) {
    case 'uniques':
      return sql`uniqExactMerge(uqs) AS uq`;
    case 'totals':
      return sql`sum(t) AS t`;
    case 'average':
      return perEvent ? sql`sum(t) AS t, uniqExactArrayMerge(uqs) AS uq` : sql`sum(t) AS t, uniqExactMerge(uqs) AS uq`;
    case 'sums':
      return sql`sum(s) AS s`;
    case 'value_avg':
      return sql`sum(s) AS s, sum(n) AS n`;
  }
}

/** The metric from the aggregated columns, to rank group-by values by their value over the range. */
function rankExpr(metric: Metric): Sql {
  switch (metric) {
    case 'uniques':
      return sql`uq`;
    case 'totals':
      return sql`t`;
    case 'average':
      return sql`t / uq`;
    case 'sums':
      return sql`s`;
    case 'value_avg':
      return sql`s / n`;
  }
}

export function eventCondition(def: EventDef): Sql {
  return isAnyEvent(def.eventType) ? sql`1` : sql`event_type = ${param(def.eventType, 'String')}`;
}

/**
 * The rows one event's series aggregate: keys k0.., x (interval bucket), u (unit), v (value), ts (event time), eid
 * (the event). The chart aggregates them; units.ts lists the units behind one point (the microscope).
 */
export function buildSegmentationRows(
  plan: SegmentationPlan,
  index: number,
  projectId: number,
  table: TableRef,
  segments: CompiledCondition[],
): { ctx: BuildContext; rows: Sql; keyNames: Sql[] } {
  const spec = plan.series[index]!;
  const ctx = buildContext(projectId, table, plan, spec.source);
  const keys = spec.groupBy.map((p, i) => sql`${keyOf(ctx, p)} AS ${trusted(`k${i}`)}`);
  const keyNames = spec.groupBy.map((_, i) => trusted(`k${i}`));
  const value = spec.valueProp ? numberOf(ctx, spec.valueProp) : sql`CAST(NULL, 'Nullable(Float64)')`;
  const where = andAll([eventCondition(spec.def), ...spec.def.filters.map((f) => conditionSql(ctx, f)), conditionsSql(ctx, segments)]);
  const columns = [...keys, sql`${bucketExpr(ctx, plan.interval)} AS x`, sql`${unitExpr(ctx)} AS u`, sql`${value} AS v`, sql`event_time AS ts`, sql`uuid AS eid`];
  const rows = sql`SELECT ${join(columns, ', ')}
    ${fromWhere(ctx)} AND ${where}`;
  return { ctx, rows, keyNames: keyNames.map((k) => sql`${k}`) };
}

/** One query per event: rows (x, keys..., metric columns), plus per-series rows with x = '' for the whole range. */
export function buildSegmentationQuery(
  plan: SegmentationPlan,
  index: number,
  projectId: number,
  table: TableRef,
  segments: CompiledCondition[],
): Sql {
  const { ctx, rows: eventRows, keyNames } = buildSegmentationRows(plan, index, projectId, table, segments);
  const perEvent = countsPerEvent(plan.metric, plan.series[index]!.source);
  const cols = metricColumns(plan.metric, perEvent);
  const states = metricStates(plan.metric, perEvent);
  const keysAndX = join([...keyNames.map((k) => sql`${k}`), sql`x`], ', ');
  const rows = perEvent ? sql`SELECT ${join([keysAndX, ...perEventColumns(plan.metric)], ', ')} FROM (${eventRows}) GROUP BY ${keysAndX}, eid` : eventRows;
  if (keyNames.length === 0) {
    return withClause(ctx, sql`SELECT x, ${cols} FROM (SELECT x, ${states} FROM (${rows}) GROUP BY x) GROUP BY GROUPING SETS ((x), ())`);
  }
  const keyList = join(keyNames.map((k) => sql`${k}`), ', ');
  // one scan: aggregate every group-by value, then keep the `limit` best by their value over the range (x = '')
  const perInterval = sql`SELECT ${keyList}, x, ${states} FROM (${rows}) GROUP BY ${keyList}, x`;
  const aggregated = sql`SELECT ${keyList}, x, ${cols} FROM (${perInterval}) GROUP BY GROUPING SETS ((${keyList}, x), (${keyList}))`;
  const ranked = sql`SELECT *, max(if(x = '', ${rankExpr(plan.metric)}, NULL)) OVER (PARTITION BY ${keyList}) AS rk FROM (${aggregated})`;
  const positioned = sql`SELECT *, dense_rank() OVER (ORDER BY rk DESC, ${keyList}) AS pos FROM (${ranked})`;
  return withClause(ctx, sql`SELECT * EXCEPT (rk, pos) FROM (${positioned}) WHERE pos <= ${param(plan.limit, 'UInt32')}`);
}

interface Row {
  x: string;
  uq?: number;
  t?: number;
  s?: number | null;
  n?: number;
  [k: string]: unknown;
}

function metricValue(metric: Metric, r: Row): number {
  switch (metric) {
    case 'uniques':
      return num(r.uq);
    case 'totals':
      return num(r.t);
    case 'average':
      return num(r.uq) === 0 ? 0 : num(r.t) / num(r.uq);
    case 'sums':
      return num(r.s);
    case 'value_avg':
      return num(r.n) === 0 ? 0 : num(r.s) / num(r.n);
  }
}

export interface SegmentationResult {
  data: {
    series: number[][];
    seriesLabels: (number | [number, string])[];
    seriesCollapsed: { setId: string; value: number }[][];
    xValues: string[];
  };
}

/** Turns each event's rows into zero-filled series, ordered by their value over the range. */
export function shapeSegmentation(plan: SegmentationPlan, rowsPerEvent: Row[][]): SegmentationResult {
  const xs = xValues(plan.range, plan.interval);
  const xIndex = new Map(xs.map((x, i) => [x, i]));
  const out: SegmentationResult['data'] = { series: [], seriesLabels: [], seriesCollapsed: [], xValues: xs };
  rowsPerEvent.forEach((rows, ei) => {
    const spec = plan.series[ei]!;
    const byKey = new Map<string, { keys: string[]; points: number[]; collapsed: number }>();
    for (const r of rows) {
      const keys = spec.groupBy.map((_, i) => String(r[`k${i}`] ?? ''));
      const id = JSON.stringify(keys);
      let s = byKey.get(id);
      if (!s) {
        s = { keys, points: xs.map(() => 0), collapsed: 0 };
        byKey.set(id, s);
      }
      const v = metricValue(plan.metric, r);
      if (r.x === '') s.collapsed = v;
      else {
        const i = xIndex.get(r.x);
        if (i !== undefined) s.points[i] = v;
      }
    }
    if (spec.groupBy.length === 0 && byKey.size === 0) byKey.set('[]', { keys: [], points: xs.map(() => 0), collapsed: 0 });
    const list = [...byKey.values()].sort((a, b) => b.collapsed - a.collapsed || label(a.keys).localeCompare(label(b.keys)));
    for (const s of list) {
      out.series.push(s.points);
      out.seriesLabels.push(spec.groupBy.length === 0 ? ei : [ei, label(s.keys)]);
      out.seriesCollapsed.push([{ setId: '', value: s.collapsed }]);
    }
  });
  return { data: out };
}

export async function segmentation(env: ChartEnv, query: Query): Promise<SegmentationResult> {
  const plan = parseSegmentation(query, env.project, env.limits);
  const extra = plan.series.flatMap((s) => (s.valueProp ? [{ prop: s.valueProp, param: s.def.param }] : []));
  const groupBys = plan.series.flatMap((s) => s.groupBy.map((p) => ({ prop: p, param: s.def.param })));
  const segments = await resolvePlan(env, plan, [...namesOf(plan.series.map((s) => ({ ...s.def, groupBy: [] })), plan.segments), ...groupBys, ...extra]);
  const build = (i: number) =>
    plan.rolling > 1
      ? buildRollingQuery(plan, (p) => buildSegmentationRows(p, i, env.project.id, env.db.table, segments))
      : buildSegmentationQuery(plan, i, env.project.id, env.db.table, segments);
  const rows = await Promise.all(plan.series.map((_, i) => run<Row>(env, build(i), 'segmentation')));
  return shapeSegmentation(plan, rows);
}
