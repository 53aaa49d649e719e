// GET /api/2/retention: of the units that did the start event (cohort = the interval of their first one in the
// range, or of their first event ever for `_new`), how many did the return event N intervals later (n-day) or
// N or more intervals later (rm=rolling, "unbounded"). What "N intervals later" means (docs/query-semantics.md):
// - by default (rt=window), windows from each start event: day N is [start hour + 24·N h, start hour + 24·(N+1) h),
//   with the start truncated to its hour in the project's time zone; week N and month N are 7- and 30-day windows
//   from the start's local day. Every start event of the unit in its cohort interval opens windows, so one return
//   may count for two consecutive N. Returns are read up to one window past the range, so the last cells are whole.
// - rt=calendar: calendar days, weeks or months in the project's time zone, counted from the cohort interval;
//   returns within the chart's range.
import { sql, param, trusted, join, type Sql } from '@groupscope/clickhouse';
import type { Project } from '@groupscope/projects';
import type { EventDef, PropRef } from '../domain/properties';
import { parseCountGroup, parseEventDef, parseG, parseGpMode, parseLimit, parseSegments } from './request';
import { ApiError, badParam } from '../http/errors';
import { single } from '../http/params';
import type { TableRef } from '../sql/executor';
import { andAll, conditionSql, keyOf } from '../sql/conditions';
import { conditionsSql, type CompiledCondition } from '../sql/segments';
import { fromWhere, localDateExpr, unitExpr, withClause, type BuildContext, type Source } from '../sql/source';
import { addBuckets, bucketEndUtc, chDateTime, parseRange, xValues, type DateRange, type Interval } from '../domain/time';
import { buildContext, chooseSource, label, namesOf, num, resolvePlan, run, type ChartEnv, type CommonPlan, type Query, type QueryLimits } from './common';
import { eventCondition } from './segmentation';

type RetentionInterval = Exclude<Interval, 'hour'>;
const INTERVALS: Record<string, RetentionInterval> = { '1': 'day', '7': 'week', '30': 'month' };

export interface RetentionPlan extends CommonPlan {
  /** null: `_new` (first event ever) */
  start: EventDef | null;
  ret: EventDef;
  interval: RetentionInterval;
  rolling: boolean;
  /** calendar intervals (rt=calendar) instead of windows from each start event */
  calendar: boolean;
  groupBy: PropRef[];
  limit: number;
  source: Source;
}

function parseSpecialOrDef(param: string, raw: unknown, specials: string[]): EventDef | string {
  const s = single(param, raw);
  if (s === undefined || s === '') throw badParam(param, `${param} is required`, 'missing_parameter');
  if (specials.includes(s)) return s;
  return parseEventDef(param, s);
}

export function parseRetention(query: Query, project: Project, limits: QueryLimits): RetentionPlan {
  const se = parseSpecialOrDef('se', query.se, ['_new', '_active']);
  const re = parseSpecialOrDef('re', query.re, ['_all', '_active']);
  const start = se === '_new' ? null : typeof se === 'string' ? { eventType: '_active', filters: [], groupBy: [], param: 'se' } : se;
  const ret = typeof re === 'string' ? { eventType: '_active', filters: [], groupBy: [], param: 're' } : re;
  const iRaw = single('i', query.i);
  const interval = iRaw === undefined || iRaw === '' ? 'day' : INTERVALS[iRaw];
  if (!interval) throw badParam('i', `i must be one of ${Object.keys(INTERVALS).join(', ')}`);
  const rm = single('rm', query.rm);
  if (rm !== undefined && rm !== '' && rm !== 'rolling') throw badParam('rm', 'rm must be absent (n-day) or "rolling" (unbounded)', 'unsupported');
  const rt = single('rt', query.rt);
  if (rt !== undefined && rt !== '' && rt !== 'window' && rt !== 'calendar') {
    throw badParam('rt', 'rt must be "window" (the default: 24-hour, 7-day or 30-day windows from each start event) or "calendar"', 'unsupported');
  }
  const range = parseRange({ start: query.start, end: query.end }, project.time_zone, limits);
  const countGroup = parseCountGroup(single('countGroup', query.countGroup));
  const gpMode = parseGpMode(single('gpMode', query.gpMode));
  const segments = parseSegments('s', single('s', query.s));
  const g = parseG(single('g', query.g));
  const groupBy = g ? [g] : (start?.groupBy ?? []);
  const limit = parseLimit(single('limit', query.limit), 100, limits.maxGroupByLimit);
  const source = chooseSource(countGroup, groupBy.map((p) => ({ prop: p, param: g ? 'g' : 'se' })), false);
  return { start, ret, interval, rolling: rm === 'rolling', calendar: rt === 'calendar', groupBy, limit, source, range, countGroup, gpMode, segments };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Windows from each start event: the start's time truncated to its local hour (day) or local day (week, month), as
 * a number, and the window length in the same unit. Returns are truncated alike, which changes no window they
 * fall in (windows begin on those boundaries).
 */
const WINDOWS: Record<RetentionInterval, { length: number; ms: number; truncMs: number }> = {
  day: { length: 86_400, ms: DAY_MS, truncMs: HOUR_MS },
  week: { length: 7, ms: 7 * DAY_MS, truncMs: DAY_MS },
  month: { length: 30, ms: 30 * DAY_MS, truncMs: DAY_MS },
};

function windowTime(interval: RetentionInterval, timeZone: string): Sql {
  const tz = param(timeZone, 'String');
  return interval === 'day' ? sql`toInt64(toUnixTimestamp(toStartOfHour(event_time, ${tz})))` : sql`toInt64(toDate(event_time, ${tz}))`;
}

/**
 * How far past the range returns are read in window mode: the last cell's windows end at most one window (and, for
 * months, the shortest month's shortfall) after the range; an hour or a day more covers a change of clocks.
 */
function readBeyondMs(interval: RetentionInterval): number {
  return WINDOWS[interval].ms + (interval === 'day' ? HOUR_MS : DAY_MS);
}

/** The instant every window of cell (cohort, n) has ended by: the cohort's last possible start plus n+1 windows. */
export function cellEndMs(plan: Pick<RetentionPlan, 'interval' | 'calendar'>, cohort: string, n: number, tz: string): number {
  return cellEnds(plan, [cohort], tz, n + 1)(0, n);
}

/**
 * cellEndMs for the cells of a table whose cohorts are `dates` (consecutive intervals), reading each interval's end
 * in the time zone once rather than per cell: (cohort index, n) -> ms. `more` intervals past the last are known too.
 */
function cellEnds(plan: Pick<RetentionPlan, 'interval' | 'calendar'>, dates: readonly string[], tz: string, more = 0): (i: number, n: number) => number {
  const all = more > 0 ? [...dates, ...Array.from({ length: more }, (_, k) => addBuckets(dates[dates.length - 1]!, k + 1, plan.interval))] : dates;
  const ends = all.map((d) => bucketEndUtc(d, plan.interval, tz));
  if (plan.calendar) return (i, n) => ends[i + n]!;
  const w = WINDOWS[plan.interval];
  return (i, n) => ends[i]! - w.truncMs + (n + 1) * w.ms;
}

function intervalsBetween(interval: RetentionInterval, from: Sql, to: Sql): Sql {
  switch (interval) {
    case 'day':
      return sql`dateDiff('day', ${from}, ${to})`;
    case 'week':
      return sql`intDiv(dateDiff('day', ${from}, ${to}), 7)`;
    case 'month':
      return sql`dateDiff('month', ${from}, ${to})`;
  }
}

/**
 * Per unit `u`: its keys k0.., its cohort (bucket label), the time of its first start event (first, DateTime64) and
 * `ns`, the intervals it counts in (0 = the cohort itself). The chart counts them; the microscope lists them.
 */
export function buildRetentionUnits(plan: RetentionPlan, projectId: number, table: TableRef, segments: CompiledCondition[]): { ctx: BuildContext; units: Sql; keyCols: Sql[] } {
  // in window mode returns are read past the range (start events stay within it)
  const range: DateRange = plan.calendar ? plan.range : { ...plan.range, toMs: plan.range.toMs + readBeyondMs(plan.interval) };
  const ctx = buildContext(projectId, table, { ...plan, range }, plan.source);
  const from = param(chDateTime(plan.range.fromMs), "DateTime64(3, 'UTC')");
  const to = param(chDateTime(plan.range.toMs), "DateTime64(3, 'UTC')");
  const startCond = plan.start ? andAll([eventCondition(plan.start), ...plan.start.filters.map((f) => conditionSql(ctx, f))]) : sql`1`;
  const retCond = andAll([eventCondition(plan.ret), ...plan.ret.filters.map((f) => conditionSql(ctx, f))]);
  const keys = plan.groupBy.map((p, i) => sql`${keyOf(ctx, p)} AS ${trusted(`k${i}`)}`);
  const keyNames = plan.groupBy.map((_, i) => trusted(`k${i}`));
  const columns = [
    sql`${unitExpr(ctx)} AS u`,
    sql`${localDateExpr(ctx, plan.interval)} AS b`,
    sql`event_time AS ts`,
    sql`((${startCond}) AND event_time < ${to}) AS st`,
    sql`((${retCond}) AND event_time >= ${from}) AS rt`,
    ...(plan.calendar ? [] : [sql`${windowTime(plan.interval, plan.range.tz)} AS w`]),
    ...keys,
  ];
  // `_new` reads each unit's events from the beginning, to find its first event ever
  const rows = sql`SELECT ${join(columns, ', ')} ${fromWhere(ctx, { from: plan.start !== null })} AND ${conditionsSql(ctx, segments)} AND ((${startCond}) OR (${retCond}))`;
  const unitKeys = keyNames.map((k) => sql`argMinIf(${k}, ts, st) AS ${k}`);
  const perUnitColumns = plan.calendar
    ? [sql`groupUniqArrayIf(b, rt) AS rbs`]
    : [
        sql`minIf(w, st) AS w0`,
        // `_new` has one start, the first event; otherwise every start in the cohort interval opens windows
        plan.start ? sql`groupUniqArrayIf((b, w), st) AS starts` : sql`[] AS starts`,
        sql`groupUniqArrayIf(w, rt) AS rws`,
      ];
  const perUnit = sql`SELECT ${join([sql`u`, sql`minIf(b, st) AS c`, sql`minIf(ts, st) AS first`, ...perUnitColumns, ...unitKeys], ', ')}
    FROM (${rows}) GROUP BY u HAVING countIf(st) > 0 AND first >= ${from}`;
  let diffs: Sql;
  if (plan.calendar) {
    diffs = sql`arrayFilter(x -> x >= 1, arrayMap(r -> ${intervalsBetween(plan.interval, sql`c`, sql`r`)}, rbs))`;
  } else {
    // the cohort interval spans less than two windows, so the starts in it reach the windows the first and the last
    // start reach, and every one between: N from the first and from the last start is all there is
    const length = trusted(String(WINDOWS[plan.interval].length));
    const last = sql`arrayMax(arrayPushBack(arrayMap(p -> p.2, arrayFilter(p -> p.1 = c, starts)), w0))`;
    diffs = sql`arrayFilter(x -> x >= 1, arrayDistinct(arrayConcat(arrayMap(r -> intDiv(r - w0, ${length}), rws), arrayMap(r -> intDiv(r - ${last}, ${length}), rws))))`;
  }
  const ns = plan.rolling ? sql`range(0, toUInt64(arrayMax(arrayPushBack(${diffs}, 0))) + 1)` : sql`arrayPushFront(${diffs}, 0)`;
  const keyCols = keyNames.map((k) => sql`${k}`);
  const units = sql`SELECT ${join([sql`u`, sql`first`, ...keyCols, sql`toString(c) AS cohort`, sql`${ns} AS ns`], ', ')} FROM (${perUnit})`;
  return { ctx, units, keyCols };
}

/** Rows (keys..., cohort = its bucket, n, cnt): n = 0 is the cohort's size. */
export function buildRetentionQuery(plan: RetentionPlan, projectId: number, table: TableRef, segments: CompiledCondition[]): Sql {
  const { ctx, units: perUnitNs, keyCols } = buildRetentionUnits(plan, projectId, table, segments);
  const groupCols = join([...keyCols, sql`cohort`, sql`n`], ', ');
  if (keyCols.length === 0) {
    return withClause(ctx, sql`SELECT ${groupCols}, count() AS cnt FROM (${perUnitNs}) ARRAY JOIN ns AS n GROUP BY ${groupCols}`);
  }
  const keyList = join(keyCols, ', ');
  // keep the `limit` group-by values with the largest cohorts (rows with n = 0 hold the cohort sizes)
  const aggregated = sql`SELECT ${groupCols}, count() AS cnt FROM (${perUnitNs}) ARRAY JOIN ns AS n GROUP BY ${groupCols}`;
  const ranked = sql`SELECT *, sum(if(n = 0, cnt, 0)) OVER (PARTITION BY ${keyList}) AS rk FROM (${aggregated})`;
  const positioned = sql`SELECT *, dense_rank() OVER (ORDER BY rk DESC, ${keyList}) AS pos FROM (${ranked})`;
  return withClause(ctx, sql`SELECT * EXCEPT (rk, pos) FROM (${positioned}) WHERE pos <= ${param(plan.limit, 'UInt32')}`);
}

export interface RetentionCell {
  count: number;
  outof: number;
  incomplete: boolean;
}
export interface RetentionSeries {
  dates: string[];
  values: Record<string, RetentionCell[]>;
  combined: RetentionCell[];
}
export interface RetentionResult {
  data: { series: RetentionSeries[]; seriesMeta: { segmentIndex: number; groupValue?: string }[] };
}

/**
 * The most cells one retention reply holds. A table of D intervals has D(D+1)/2 cells per group-by value: a 3-year
 * daily table ~600 000, which with 100 values would take minutes of CPU and gigabytes to build and to send.
 */
export const MAX_RETENTION_CELLS = 1_000_000;

/** Refuses (413) a table of `intervals` intervals for each of `series` series holding more than MAX_RETENTION_CELLS. */
export function checkRetentionSize(intervals: number, series: number): void {
  const cells = (series * intervals * (intervals + 1)) / 2;
  if (cells <= MAX_RETENTION_CELLS) return;
  throw new ApiError(
    413,
    'result_too_large',
    `the retention table would hold ${cells} cells (${intervals} intervals for each of ${series} series), more than ${MAX_RETENTION_CELLS}; choose a weekly or monthly interval, a shorter range, or a smaller limit`,
    [{ limit: 'retention_cells', max: MAX_RETENTION_CELLS }],
  );
}

export function shapeRetention(plan: RetentionPlan, rows: Record<string, unknown>[], now = Date.now()): RetentionResult {
  const dates = xValues(plan.range, plan.interval);
  const byKey = new Map<string, { keys: string[]; counts: Map<string, number>; size: number }>();
  for (const r of rows) {
    const keys = plan.groupBy.map((_, i) => String(r[`k${i}`] ?? ''));
    const id = JSON.stringify(keys);
    let s = byKey.get(id);
    if (!s) {
      s = { keys, counts: new Map(), size: 0 };
      byKey.set(id, s);
    }
    const n = num(r.n);
    const cnt = num(r.cnt);
    s.counts.set(`${String(r.cohort)}|${n}`, cnt);
    if (n === 0) s.size += cnt;
  }
  if (plan.groupBy.length === 0 && byKey.size === 0) byKey.set('[]', { keys: [], counts: new Map(), size: 0 });
  checkRetentionSize(dates.length, byKey.size);
  const endOf = cellEnds(plan, dates, plan.range.tz);
  const list = [...byKey.values()].sort((a, b) => b.size - a.size || label(a.keys).localeCompare(label(b.keys)));
  const series: RetentionSeries[] = [];
  const seriesMeta: RetentionResult['data']['seriesMeta'] = [];
  for (const s of list) {
    const values: Record<string, RetentionCell[]> = {};
    const combined: { complete: RetentionCell; all: RetentionCell; anyComplete: boolean }[] = [];
    for (const [i, d] of dates.entries()) {
      const outof = s.counts.get(`${d}|0`) ?? 0;
      const cells: RetentionCell[] = [];
      // the cohort's cells reach the last interval of the range
      for (let n = 0; i + n < dates.length; n++) {
        const incomplete = endOf(i, n) > now;
        const cell = { count: n === 0 ? outof : (s.counts.get(`${d}|${n}`) ?? 0), outof, incomplete };
        cells.push(cell);
        const c = (combined[n] ??= { complete: { count: 0, outof: 0, incomplete: false }, all: { count: 0, outof: 0, incomplete: true }, anyComplete: false });
        c.all.count += cell.count;
        c.all.outof += cell.outof;
        if (!incomplete) {
          c.anyComplete = true;
          c.complete.count += cell.count;
          c.complete.outof += cell.outof;
        }
      }
      values[d] = cells;
    }
    series.push({ dates, values, combined: combined.map((c) => (c.anyComplete ? c.complete : c.all)) });
    seriesMeta.push(plan.groupBy.length > 0 ? { segmentIndex: 0, groupValue: label(s.keys) } : { segmentIndex: 0 });
  }
  return { data: { series, seriesMeta } };
}

export async function retention(env: ChartEnv, query: Query): Promise<RetentionResult> {
  const plan = parseRetention(query, env.project, env.limits);
  const defs = [...(plan.start ? [{ ...plan.start, groupBy: [] }] : []), { ...plan.ret, groupBy: [] }];
  const segments = await resolvePlan(env, plan, namesOf(defs, plan.segments, plan.groupBy.map((p) => ({ prop: p, param: 'g' }))));
  const rows = await run<Record<string, unknown>>(env, buildRetentionQuery(plan, env.project.id, env.db.table, segments), 'retention');
  return shapeRetention(plan, rows);
}
