// Rolling windows in segmentation: each point counts the units (uniques) or events (totals) over the N intervals
// ending with it: DAU/WAU/MAU by day of users or of any group type (m=active, rollingWindow=1/7/30 with i=1), as
// Amplitude's Active Users chart and its rollingWindow parameter do. A point's window may start before the chart's
// first day, so the rows are read from N - 1 intervals earlier; every row then counts for each point whose window
// holds it, and per-point states are merged (uniqExact: exact distinct counts).
import { sql, param, trusted, join, type Sql } from '@groupscope/clickhouse';
import { addBuckets, bucketOfDay, localMidnightUtc, type Interval } from '../domain/time';
import { badParam } from '../http/errors';
import { single } from '../http/params';
import { withClause, type BuildContext } from '../sql/source';
import type { Query } from './common';
import type { SegmentationPlan } from './segmentation';

/** A series' rows for a plan (segmentation.ts buildSegmentationRows, for one event). */
export type SeriesRows = (plan: SegmentationPlan) => { ctx: BuildContext; rows: Sql; keyNames: Sql[] };

/** The longest window: a year of days, 52 weeks or 12 months ending with each point. */
export const MAX_ROLLING = { day: 365, week: 52, month: 12 } as const;

/** rollingWindow (intervals per point, default 1: no rolling); m=active defaults to counting `_active` units. */
export function parseRolling(query: Query, metric: string, interval: Interval): number {
  const raw = single('rollingWindow', query.rollingWindow);
  if (raw === undefined || raw === '') return 1;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (interval === 'hour') throw badParam('rollingWindow', 'rollingWindow needs daily, weekly or monthly intervals (i = 1, 7 or 30)', 'unsupported');
  const max = MAX_ROLLING[interval];
  if (!Number.isInteger(n) || n < 1 || n > max) throw badParam('rollingWindow', `rollingWindow must be an integer from 1 to ${max} with this interval`);
  if (n > 1 && metric !== 'uniques' && metric !== 'totals') throw badParam('rollingWindow', 'rollingWindow applies to m=active, uniques or totals', 'unsupported');
  return n;
}

/** The buckets whose rows a rolling point counts: the N ending with it. */
export function windowBuckets(x: string, n: number, interval: Exclude<Interval, 'hour'>): string[] {
  return Array.from({ length: n }, (_, i) => addBuckets(x, i - (n - 1), interval));
}

/** The plan with its rows read from N - 1 intervals before the first point (the x values stay the chart's). */
export function scanPlan(plan: SegmentationPlan): SegmentationPlan {
  if (plan.rolling <= 1 || plan.interval === 'hour') return plan;
  const first = addBuckets(bucketOfDay(plan.range.startDay, plan.interval), -(plan.rolling - 1), plan.interval);
  return { ...plan, range: { ...plan.range, fromMs: Math.min(plan.range.fromMs, localMidnightUtc(first, plan.range.tz)) } };
}

const SHIFT: Record<Exclude<Interval, 'hour'>, string> = { day: 'addDays', week: 'addWeeks', month: 'addMonths' };

/**
 * One event's rolling series: rows (keys, x, uq | t) for every point of the chart, and x = '' for the whole range
 * (distinct units, or events, between the chart's first and last day: the ranking of group-by values, as without
 * a window). The best `limit` group-by values are kept, as in buildSegmentationQuery.
 */
export function buildRollingQuery(plan: SegmentationPlan, seriesRows: SeriesRows): Sql {
  if (plan.interval === 'hour') throw new Error('rolling windows need a calendar interval');
  const { ctx, rows, keyNames } = seriesRows(scanPlan(plan));
  const keys = keyNames.map((k) => sql`${k}`);
  const keyList = keys.length ? sql`${join(keys, ', ')}, ` : sql``;
  const uniques = plan.metric === 'uniques';
  const first = param(bucketOfDay(plan.range.startDay, plan.interval), 'String');
  const last = param(bucketOfDay(plan.range.endDay, plan.interval), 'String');
  // per bucket first (one state per key and bucket), then each bucket's state counted for the N points it reaches
  const perBucket = sql`SELECT ${keyList}x, ${uniques ? sql`uniqExactState(u)` : sql`count()`} AS s FROM (${rows}) GROUP BY ${keyList}x`;
  const shifted = sql`toString(${trusted(SHIFT[plan.interval])}(toDate(x), __k))`;
  const points = sql`SELECT ${keyList}${shifted} AS xp, ${uniques ? sql`uniqExactMerge(s)` : sql`sum(s)`} AS m
    FROM (${perBucket}) ARRAY JOIN range(${param(plan.rolling, 'UInt32')}) AS __k
    WHERE xp >= ${first} AND xp <= ${last} GROUP BY ${keyList}xp`;
  const whole = sql`SELECT ${keyList}'' AS xp, ${uniques ? sql`uniqExact(u)` : sql`count()`} AS m FROM (${rows}) WHERE x >= ${first}${keys.length ? sql` GROUP BY ${join(keys, ', ')}` : sql``}`;
  const col = trusted(uniques ? 'uq' : 't');
  const all = sql`SELECT ${keyList}xp AS x, m AS ${col} FROM (${points} UNION ALL ${whole})`;
  if (keys.length === 0) return withClause(ctx, all);
  const ranked = sql`SELECT *, max(if(x = '', ${col}, NULL)) OVER (PARTITION BY ${join(keys, ', ')}) AS rk FROM (${all})`;
  const positioned = sql`SELECT *, dense_rank() OVER (ORDER BY rk DESC, ${join(keys, ', ')}) AS pos FROM (${ranked})`;
  return withClause(ctx, sql`SELECT * EXCEPT (rk, pos) FROM (${positioned}) WHERE pos <= ${param(plan.limit, 'UInt32')}`);
}
