// GET /api/2/funnels: how many units (users, or groups with countGroup) went through 2 to 10 steps within the
// conversion window, with transition times. With countGroup every event attributed to the group counts, whoever
// did it: different members may do different steps.
//
// Per unit, its step events are sorted once and the funnel is found with vectorised array functions (no per-event
// lambdas, which ClickHouse runs far slower):
// - ordered: for each step-1 event, the earliest later step-2 event, then the earliest step-3 after that, ...
//   (arrayReverseFill gives "next event matching step k" for every position). Greedy-earliest is optimal, so the
//   level equals windowFunnel's; times come from the earliest start that reaches the unit's highest step.
// - sequential: the same, but step k must be the very next event of the unit (all its events are read).
// - unordered: for each event, the latest time each step was seen up to it (arrayFill); a window ending there
//   holds steps 1..k when each was seen within the conversion window.
import { sql, param, trusted, join, type Sql } from '@groupscope/clickhouse';
import type { Project } from '@groupscope/projects';
import type { EventDef, PropRef } from '../domain/properties';
import { parseCountGroup, parseEventDef, parseG, parseGpMode, parseLimit, parseSegments } from './request';
import { badParam } from '../http/errors';
import { single } from '../http/params';
import type { TableRef } from '../sql/executor';
import { andAll, conditionSql, keyOf } from '../sql/conditions';
import { conditionsSql, type CompiledCondition } from '../sql/segments';
import { fromWhere, unitExpr, withClause, type BuildContext, type Source } from '../sql/source';
import { parseRange } from '../domain/time';
import { buildContext, chooseSource, label, namesOf, num, resolvePlan, run, type ChartEnv, type CommonPlan, type Query, type QueryLimits } from './common';
import { eventCondition } from './segmentation';

export const MODES = ['ordered', 'unordered', 'sequential'] as const;
export type FunnelMode = (typeof MODES)[number];
export const MAX_STEPS = 10;
const MAX_WINDOW_S = 366 * 86400;

export interface FunnelPlan extends CommonPlan {
  steps: EventDef[];
  mode: FunnelMode;
  windowMs: number;
  groupBy: PropRef[];
  limit: number;
  source: Source;
}

export function parseFunnel(query: Query, project: Project, limits: QueryLimits): FunnelPlan {
  const raw = query.e === undefined ? [] : Array.isArray(query.e) ? query.e : [query.e];
  if (raw.length < 2) throw badParam('e', `a funnel needs 2 to ${MAX_STEPS} steps (repeat e, one per step); got ${raw.length}`, 'invalid_steps');
  if (raw.length > MAX_STEPS) throw badParam('e', `too many steps: ${raw.length}; at most ${MAX_STEPS}`, 'too_many_steps');
  const steps = raw.map((r, i) => parseEventDef(`e[${i}]`, r));
  const mode = single('mode', query.mode) ?? 'ordered';
  if (!(MODES as readonly string[]).includes(mode)) throw badParam('mode', `mode must be one of ${MODES.join(', ')}`);
  const csRaw = single('cs', query.cs);
  let windowS = 2_592_000;
  if (csRaw !== undefined && csRaw !== '') {
    windowS = /^\d+$/.test(csRaw) ? Number(csRaw) : NaN;
    if (!Number.isSafeInteger(windowS) || windowS < 1 || windowS > MAX_WINDOW_S) {
      throw badParam('cs', `cs (the conversion window) must be a whole number of seconds from 1 to ${MAX_WINDOW_S}`);
    }
  }
  const range = parseRange({ start: query.start, end: query.end }, project.time_zone, limits);
  const countGroup = parseCountGroup(single('countGroup', query.countGroup));
  const gpMode = parseGpMode(single('gpMode', query.gpMode));
  const segments = parseSegments('s', single('s', query.s));
  const g = parseG(single('g', query.g));
  const groupBy = g ? [g] : steps[0]!.groupBy;
  const limit = parseLimit(single('limit', query.limit), 100, limits.maxGroupByLimit);
  const source = chooseSource(countGroup, groupBy.map((p) => ({ prop: p, param: g ? 'g' : 'e[0]' })), false);
  return { steps, mode: mode as FunnelMode, windowMs: windowS * 1000, groupBy, limit, source, range, countGroup, gpMode, segments };
}

const NONE = trusted('toInt64(-1000000000000000)');

/** Per unit: the highest step reached (lvl) and the times t1..tn of the path that reached it (ms). */
function levelsAndTimes(plan: FunnelPlan, W: Sql): { body: Sql[]; times: Sql[] } {
  const n = plan.steps.length;
  const idx = (k: number) => trusted(String(k));
  const body: Sql[] = [];
  const times: Sql[] = [];
  if (plan.mode === 'unordered') {
    body.push(sql`arrayMap(x -> x.2, ev) AS mk`, sql`arrayMap(x -> x.1, ev) AS tt`);
    for (let k = 1; k <= n; k++) {
      body.push(sql`arrayFill((t, b) -> bitTest(b, ${idx(k - 1)}), arrayMap((t, b) -> if(bitTest(b, ${idx(k - 1)}), t, ${NONE}), tt, mk), mk) AS ${trusted(`L${k}`)}`);
    }
    // c1 * (1 + c2 * (1 + c3 ...)): how many leading steps were all seen within the window ending at this event
    let lv = sql``;
    for (let k = n; k >= 1; k--) {
      const ck = sql`(${trusted(`a${k}`)} >= t - ${W})`;
      lv = k === n ? ck : sql`${ck} * (1 + ${lv})`;
    }
    const lambdaArgs = trusted(['t', ...Array.from({ length: n }, (_, i) => `a${i + 1}`)].join(', '));
    const arrays = trusted(['tt', ...Array.from({ length: n }, (_, i) => `L${i + 1}`)].join(', '));
    body.push(sql`arrayMap((${lambdaArgs}) -> toUInt8(${lv}), ${arrays}) AS LV`);
    body.push(sql`arrayMax(LV) AS lvl`, sql`arrayFirstIndex(l -> l = lvl, LV) AS bi`);
    // unordered: step k is complete when the last of steps 1..k happened
    for (let k = 1; k <= n; k++) {
      const seen = Array.from({ length: k }, (_, i) => sql`${trusted(`L${i + 1}`)}[bi]`);
      times.push(k === 1 ? seen[0]! : sql`greatest(${join(seen, ', ')})`);
    }
    return { body, times };
  }
  // Ordered and sequential, without gathers (a lambda that indexes an array captured from outside copies that
  // array for every element): V{k}_{l}[p] is the time of step l on the greedy chain that looks for step k from
  // position p on. Built from the last step back, with shifts and (ordered) reverse fills only.
  const INF = trusted('toInt64(4611686018427387904)');
  const shift = (a: Sql) => sql`arrayPushBack(arrayPopFront(${a}), ${INF})`;
  const V = (k: number, l: number) => trusted(`V${k}_${l}`);
  body.push(
    sql`arrayPushBack(arrayMap(x -> x.2, ev), toUInt16(65535)) AS mk`,
    sql`arrayPushBack(arrayMap(x -> x.1, ev), ${INF}) AS tt`,
  );
  for (let k = n; k >= 2; k--) {
    for (let l = k; l <= n; l++) {
      const from = l === k ? sql`tt` : shift(sql`${V(k + 1, l)}`);
      body.push(
        plan.mode === 'ordered'
          ? sql`arrayReverseFill((v, b) -> bitTest(b, ${idx(k - 1)}), ${from}, mk) AS ${V(k, l)}`
          : sql`arrayMap((v, b) -> if(bitTest(b, ${idx(k - 1)}), v, ${INF}), ${from}, mk) AS ${V(k, l)}`,
      );
    }
  }
  // from each step-1 event: when steps 2..n happen on its chain
  for (let l = 2; l <= n; l++) body.push(sql`${shift(sql`${V(2, l)}`)} AS ${trusted(`S${l}`)}`);
  const args = trusted(['b', 't1', ...Array.from({ length: n - 1 }, (_, i) => `s${i + 2}`)].join(', '));
  const arrays = trusted(['mk', 'tt', ...Array.from({ length: n - 1 }, (_, i) => `S${i + 2}`)].join(', '));
  const within = Array.from({ length: n - 1 }, (_, i) => sql`(${trusted(`s${i + 2}`)} - t1 <= ${W})`);
  body.push(sql`arrayMap((${args}) -> if(bitTest(b, 0) AND t1 < ${INF}, toUInt8(1 + ${join(within, ' + ')}), toUInt8(0)), ${arrays}) AS LV`);
  body.push(sql`arrayMax(LV) AS lvl`, sql`arrayFirstIndex(l -> l = lvl, LV) AS bi`);
  times.push(sql`tt[bi]`);
  for (let l = 2; l <= n; l++) times.push(sql`${trusted(`S${l}`)}[bi]`);
  return { body, times };
}

/**
 * Per unit `u`: its group-by keys k0.., the highest step reached (lvl) and the times t1..tn of that path (ms).
 * The chart aggregates it; units.ts lists the units behind a step (the microscope).
 */
export function buildFunnelUnits(plan: FunnelPlan, projectId: number, table: TableRef, segments: CompiledCondition[]): { ctx: BuildContext; units: Sql; keyNames: Sql[] } {
  const ctx = buildContext(projectId, table, plan, plan.source);
  const W = sql`${param(plan.windowMs, 'Int64')}`;
  const stepConds = plan.steps.map((s) => andAll([eventCondition(s), ...s.filters.map((f) => conditionSql(ctx, f))]));
  const mask = join(stepConds.map((c, i) => sql`toUInt16(${c}) * ${trusted(String(2 ** i))}`), ' + ');
  const keys = plan.groupBy.map((p, i) => sql`${keyOf(ctx, p)} AS ${trusted(`k${i}`)}`);
  const keyNames = plan.groupBy.map((_, i) => trusted(`k${i}`));
  const stepFilter = plan.mode === 'sequential' ? sql`1` : join(stepConds.map((c) => sql`(${c})`), ' OR ');
  const rows = sql`SELECT ${join([sql`${unitExpr(ctx)} AS u`, sql`toUnixTimestamp64Milli(event_time) AS ts`, sql`toUInt16(${mask}) AS mask`, ...keys], ', ')}
    ${fromWhere(ctx)} AND ${conditionsSql(ctx, segments)} AND (${stepFilter})`;
  // the group-by value of a unit is the one on its first step-1 event
  const unitKeys = keyNames.map((k) => sql`argMinIf(${k}, ts, bitTest(mask, 0)) AS ${k}`);
  const perUnit = sql`SELECT ${join([sql`u`, sql`arraySort(groupArray((ts, mask))) AS ev`, ...unitKeys], ', ')}
    FROM (${rows}) GROUP BY u HAVING countIf(bitTest(mask, 0)) > 0`;
  const { body, times } = levelsAndTimes(plan, W);
  const timeCols = times.map((t, i) => sql`${t} AS ${trusted(`t${i + 1}`)}`);
  const units = sql`SELECT ${join([sql`u`, ...keyNames.map((k) => sql`${k}`), ...body, ...timeCols], ', ')} FROM (${perUnit})`;
  return { ctx, units, keyNames: keyNames.map((k) => sql`${k}`) };
}

export function buildFunnelQuery(plan: FunnelPlan, projectId: number, table: TableRef, segments: CompiledCondition[]): Sql {
  const { ctx, units: perUnitLevels, keyNames } = buildFunnelUnits(plan, projectId, table, segments);
  const n = plan.steps.length;
  const aggs: Sql[] = [sql`count() AS r1`];
  for (let k = 2; k <= n; k++) {
    const reached = sql`lvl >= ${trusted(String(k))}`;
    const dt = sql`${trusted(`t${k}`)} - ${trusted(`t${k - 1}`)}`;
    aggs.push(
      sql`countIf(${reached}) AS ${trusted(`r${k}`)}`,
      sql`quantileExactInclusiveIf(0.5)(${dt}, ${reached}) AS ${trusted(`med${k}`)}`,
      sql`avgIf(${dt}, ${reached}) AS ${trusted(`avg${k}`)}`,
    );
  }
  if (keyNames.length === 0) return withClause(ctx, sql`SELECT ${join(aggs, ', ')} FROM (${perUnitLevels})`);
  const keyList = join(keyNames.map((k) => sql`${k}`), ', ');
  return withClause(
    ctx,
    sql`SELECT ${keyList}, ${join(aggs, ', ')} FROM (${perUnitLevels}) GROUP BY ${keyList} ORDER BY r1 DESC, ${keyList} LIMIT ${param(plan.limit, 'UInt32')}`,
  );
}

export interface FunnelSeries {
  meta: { segmentIndex: number };
  groupValue?: string;
  events: string[];
  cumulativeRaw: number[];
  cumulative: number[];
  stepByStep: number[];
  medianTransTimes: number[];
  avgTransTimes: number[];
}

export function shapeFunnel(plan: FunnelPlan, rows: Record<string, unknown>[]): { data: FunnelSeries[] } {
  const n = plan.steps.length;
  const events = plan.steps.map((s) => s.eventType);
  const data = rows.map((r): FunnelSeries => {
    const raw = Array.from({ length: n }, (_, i) => num(r[`r${i + 1}`]));
    const first = raw[0]!;
    const series: FunnelSeries = {
      meta: { segmentIndex: 0 },
      events,
      cumulativeRaw: raw,
      cumulative: raw.map((v) => (first === 0 ? 0 : v / first)),
      stepByStep: raw.map((v, i) => (i === 0 ? (first === 0 ? 0 : 1) : raw[i - 1] === 0 ? 0 : v / raw[i - 1]!)),
      medianTransTimes: raw.map((_, i) => (i === 0 ? 0 : Math.round(num(r[`med${i + 1}`])))),
      avgTransTimes: raw.map((_, i) => (i === 0 ? 0 : Math.round(num(r[`avg${i + 1}`])))),
    };
    if (plan.groupBy.length > 0) series.groupValue = label(plan.groupBy.map((_, i) => String(r[`k${i}`] ?? '')));
    return series;
  });
  return { data };
}

export async function funnels(env: ChartEnv, query: Query): Promise<{ data: FunnelSeries[] }> {
  const plan = parseFunnel(query, env.project, env.limits);
  const segments = await resolvePlan(env, plan, namesOf(plan.steps, plan.segments, plan.groupBy.map((p) => ({ prop: p, param: 'g' }))));
  const rows = await run<Record<string, unknown>>(env, buildFunnelQuery(plan, env.project.id, env.db.table, segments), 'funnels');
  return shapeFunnel(plan, rows);
}
