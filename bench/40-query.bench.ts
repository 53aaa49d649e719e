// Query service latency on a B2B data set generated inside ClickHouse (bench/generate.ts: INSERT ... SELECT FROM
// numbers(), events + event_groups exactly as the writer stores them): p50/p95 of segmentation, a 3-step funnel and
// retention, by user and by account, each beside the same question asked in hand-written SQL in the same run
// (ratio = SQL p50 / API p50).
// Size: BENCH_QUERY_EVENTS (default 10M events, 1M users, 20k accounts, ~26M event_groups rows), 200k with
// BENCH_QUICK=1.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ProjectRegistry } from '@groupscope/projects';
import { join as joinSql, param, queryRows, sql, tableRef, trusted, type Sql, type SqlValue } from '@groupscope/clickhouse';
import { loadQueryConfig, startQuery } from '@groupscope/query';
import type { Bench, BenchResult } from './harness';
import { rate, round, settleMerges, timeRuns } from './harness';
import { generateEvents } from './generate';

const DAY = 86_400_000;
const END = Date.UTC(2025, 10, 1); // the data set covers 2025-10-02 .. 2025-10-31 (UTC)
const START_DAY = '20251002';
const END_DAY = '20251031';

const bench: Bench = {
  name: 'query service charts',
  async run(ctx) {
    const events = ctx.quick ? 200_000 : Number(process.env.BENCH_QUERY_EVENTS ?? 10_000_000);
    const runs = ctx.quick ? 3 : 7;
    const ch = await ctx.clickhouse({ migrate: true });
    // load
    const t0 = performance.now();
    const counts = await generateEvents(ch, { events, days: 30, end: END, projectId: 1 });
    const loadMs = performance.now() - t0;
    await settleMerges(ch, 60_000);
    const sizes = await queryRows<{ table: string; rows: number }>(
      ch,
      sql`SELECT table, sum(rows) AS rows FROM system.parts WHERE database = ${param(ch.database, 'String')} AND active GROUP BY table`,
    );
    const rowsOf = (t: string) => Number(sizes.find((s) => s.table === t)?.rows ?? 0);

    // the service, in-process, over HTTP
    const dir = join(ctx.tmpDir, 'query-bench');
    mkdirSync(dir, { recursive: true });
    const registry = new ProjectRegistry(join(dir, 'projects.json'));
    const keys = registry.create('bench');
    if (keys.project_id !== 1) throw new Error('expected project 1');
    const config = loadQueryConfig({ QUERY_PORT: '0', QUERY_MIGRATE: 'false', QUERY_TIMEOUT_MS: '120000' } as NodeJS.ProcessEnv);
    const service = await startQuery({ config, logger: ctx.logger, ch, registry });
    const auth = `Basic ${Buffer.from(`${keys.api_key}:${keys.secret_key}`).toString('base64')}`;
    const api = async (path: string, params: Record<string, string | string[]>) => {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) qs.append(k, x);
      const res = await fetch(`${service.url}${path}?${qs}`, { headers: { authorization: auth } });
      const body = await res.text();
      if (!res.ok) throw new Error(`${path} answered ${res.status}: ${body.slice(0, 300)}`);
      return body;
    };
    // the hand-written baseline: the same questions in plain SQL, values bound as the service binds them
    const raw = (q: Sql) => queryRows(ch, q);
    const e = (type: string) => JSON.stringify({ event_type: type });
    const range = { start: START_DAY, end: END_DAY };
    const steps = ['Dashboard Viewed', 'Report Created', 'Report Exported'];
    const W = 7 * DAY;
    const eventsTable = tableRef(ch, 'events');
    const eventGroups = tableRef(ch, 'event_groups');
    const is = (column: string, value: string) => sql`${trusted(column)} = ${param(value, 'String')}`;
    const company = is('group_type', 'company');
    /** FROM `table`, project 1's rows in the data set's 30 days, and `extra` conditions */
    const from = (table: SqlValue, ...extra: Sql[]) => {
      const inRange = [
        sql`project_id = ${param(1, 'UInt32')}`,
        sql`event_time >= ${param('2025-10-02 00:00:00', "DateTime64(3, 'UTC')")}`,
        sql`event_time < ${param('2025-11-01 00:00:00', "DateTime64(3, 'UTC')")}`,
      ];
      return sql`FROM ${table} WHERE ${joinSql([...inRange, ...extra], ' AND ')}`;
    };
    const daily = (unique: string, table: SqlValue, ...extra: Sql[]) =>
      sql`SELECT toString(toDate(event_time, 'UTC')) AS d, uniqExact(${trusted(unique)}) AS n ${from(table, ...extra)} GROUP BY d`;
    const funnelSql = (table: SqlValue, unit: string, ...extra: Sql[]) => sql`
      SELECT level, count() FROM (
        SELECT ${trusted(unit)}, windowFunnel(${trusted(String(W / 1000))})(toDateTime(event_time), ${is('event_type', steps[0]!)}, ${is('event_type', steps[1]!)}, ${is('event_type', steps[2]!)}) AS level
        ${from(table, ...extra, sql`event_type IN ${param(steps, 'Array(String)')}`)} GROUP BY ${trusted(unit)}) GROUP BY level`;
    const retentionSql = (table: SqlValue, unit: string, ...extra: Sql[]) => sql`
      SELECT c, n, count() FROM (
        SELECT ${trusted(unit)}, minIf(d, ${is('event_type', 'Report Created')}) AS c, arrayFilter(x -> x >= 1, arrayMap(r -> dateDiff('day', c, r), groupUniqArray(d))) AS ns
        FROM (SELECT ${trusted(unit)}, event_type, toDate(event_time, 'UTC') AS d ${from(table, ...extra)})
        GROUP BY ${trusted(unit)} HAVING countIf(${is('event_type', 'Report Created')}) > 0)
      ARRAY JOIN arrayPushFront(ns, 0) AS n GROUP BY c, n`;

    const cases: { name: string; goal?: string; api: () => Promise<unknown>; sql: () => Promise<unknown> }[] = [
      {
        name: 'segmentation, uniques of one event by user, daily, 30 days',
        api: () => api('/api/2/events/segmentation', { ...range, e: e('Page Viewed') }),
        sql: () => raw(daily('user_key', eventsTable, is('event_type', 'Page Viewed'))),
      },
      {
        name: 'segmentation, uniques of one event by account, daily, 30 days',
        goal: '< 1000 ms',
        api: () => api('/api/2/events/segmentation', { ...range, e: e('Page Viewed'), countGroup: 'company' }),
        sql: () => raw(daily('group_value', eventGroups, company, is('event_type', 'Page Viewed'))),
      },
      {
        name: 'segmentation, active accounts (any event), daily, 30 days',
        api: () => api('/api/2/events/segmentation', { ...range, e: e('_active'), countGroup: 'company' }),
        sql: () => raw(daily('group_value', eventGroups, company)),
      },
      {
        name: 'segmentation, active users by account plan (stamped), daily, 30 days',
        api: () => api('/api/2/events/segmentation', { ...range, e: e('_active'), g: 'group:company:plan' }),
        sql: () =>
          raw(sql`SELECT toString(toDate(event_time, 'UTC')) AS d, JSONExtractString(group_properties, 'company', g, 'plan') AS plan, uniqExact(user_key) AS n
                  ${from(sql`${eventsTable} ARRAY JOIN groups['company'] AS g`)} GROUP BY d, plan`),
      },
      {
        name: '3-step funnel by user, 7-day window, 30 days',
        api: () => api('/api/2/funnels', { ...range, e: steps.map(e), cs: String(W / 1000) }),
        sql: () => raw(funnelSql(eventsTable, 'user_key')),
      },
      {
        name: '3-step funnel by account (members together), 7-day window, 30 days',
        goal: '< 1000 ms',
        api: () => api('/api/2/funnels', { ...range, e: steps.map(e), cs: String(W / 1000), countGroup: 'company' }),
        sql: () => raw(funnelSql(eventGroups, 'group_value', company)),
      },
      {
        name: 'retention by user, daily n-day, 30 days',
        api: () => api('/api/2/retention', { ...range, se: e('Report Created'), re: '_active' }),
        sql: () => raw(retentionSql(eventsTable, 'user_key')),
      },
      {
        name: 'retention by account, daily n-day, 30 days',
        api: () => api('/api/2/retention', { ...range, se: e('Report Created'), re: '_active', countGroup: 'company' }),
        sql: () => raw(retentionSql(eventGroups, 'group_value', company)),
      },
    ];

    const results: BenchResult[] = [
      {
        name: `data set generated inside ClickHouse (INSERT ... SELECT FROM numbers() -> events + event_groups)`,
        figure: { value: round(rate(counts.events, loadMs), 0), unit: 'events/s' },
        extra: {
          events: counts.events,
          event_groups_rows: rowsOf('event_groups'),
          users: counts.users,
          accounts: counts.accounts,
          group_types: 3,
          days: 30,
          load_s: round(loadMs / 1000, 1),
        },
      },
    ];
    try {
      for (const c of cases) {
        const ours = await timeRuns(runs, c.api);
        const hand = await timeRuns(runs, c.sql);
        ctx.logger.info({ name: c.name, p50: ours.p50, sql_p50: hand.p50 }, 'bench_query');
        results.push({
          name: `${c.name}: API p50`,
          figure: { value: round(ours.p50, 0), unit: 'ms' },
          baseline: { name: 'hand-written SQL, p50', value: round(hand.p50, 0), unit: 'ms' },
          ratio: round(hand.p50 / ours.p50, 2),
          // the issue's goal, API p50 <= 1.3 x SQL p50, in this ratio's direction (SQL / API)
          goal: c.goal ? `${c.goal}, ratio >= 0.77` : 'ratio >= 0.77',
          extra: { api_p95_ms: round(ours.p95, 0), sql_p95_ms: round(hand.p95, 0), runs, events: counts.events },
        });
      }
    } finally {
      await service.stop();
    }
    return results;
  },
};
export default bench;
