// Query service latency on a generated B2B data set loaded straight into ClickHouse (events + event_groups as the
// writer stores them): p50/p95 of segmentation, a 3-step funnel and retention, by user and by account, each
// beside the same question asked in hand-written SQL in the same run (ratio = SQL p50 / API p50).
// Size: BENCH_QUERY_EVENTS (default 4M, to stay within ~10 minutes on 2 shared cores; the issue's full size is 10M, ~1M users, 20k accounts), 200k with BENCH_QUICK=1.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ProjectRegistry } from '@groupscope/projects';
import { param, queryRows, sql, type ClickHouse } from '@groupscope/clickhouse';
import { dataSet, toClickHouse } from '@groupscope/datagen';
import { loadQueryConfig, startQuery } from '@groupscope/query';
import type { Bench, BenchResult } from './harness';
import { percentile, rate, round } from './harness';

const DAY = 86_400_000;
const END = Date.UTC(2025, 10, 1); // the data set covers 2025-10-02 .. 2025-10-31 (UTC)
const START_DAY = '20251002';
const END_DAY = '20251031';

async function timeRuns(runs: number, fn: () => Promise<unknown>): Promise<{ p50: number; p95: number; samples: number[] }> {
  await fn(); // warm-up: caches, first part loads
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), samples };
}

async function settleMerges(ch: ClickHouse, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    const rows = await queryRows<{ n: number }>(ch, sql`SELECT count() AS n FROM system.merges WHERE database = ${param(ch.database, 'String')}`);
    if (Number(rows[0]?.n ?? 0) === 0) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const bench: Bench = {
  name: 'query service charts',
  async run(ctx) {
    const events = ctx.quick ? 200_000 : Number(process.env.BENCH_QUERY_EVENTS ?? 4_000_000);
    const runs = ctx.quick ? 3 : 7;
    const ch = await ctx.clickhouse({ migrate: true });
    const ds = dataSet({ events, days: 30, end: END, seed: 1 });

    // load
    const t0 = performance.now();
    const counts = await toClickHouse(ch, ds.records(), { projectId: 1 });
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
    const raw = async (query: string) => {
      const rs = await ch.client.query({ query: query.replaceAll('{db}', `\`${ch.database}\``), format: 'JSONEachRow' });
      return rs.json();
    };
    const e = (type: string) => JSON.stringify({ event_type: type });
    const range = { start: START_DAY, end: END_DAY };
    const from = `toDateTime64('2025-10-02 00:00:00', 3, 'UTC')`;
    const to = `toDateTime64('2025-11-01 00:00:00', 3, 'UTC')`;
    const steps = ['Dashboard Viewed', 'Report Created', 'Report Exported'];
    const W = 7 * DAY;
    const where = (extra = '') => `project_id = 1 AND event_time >= ${from} AND event_time < ${to}${extra}`;
    const funnelSql = (table: string, unit: string, extra = '') => `
      SELECT level, count() FROM (
        SELECT ${unit}, windowFunnel(${W / 1000})(toDateTime(event_time), event_type = '${steps[0]}', event_type = '${steps[1]}', event_type = '${steps[2]}') AS level
        FROM {db}.${table} WHERE ${where(extra)} AND event_type IN ('${steps.join("','")}') GROUP BY ${unit}) GROUP BY level`;
    const retentionSql = (table: string, unit: string, extra = '') => `
      SELECT c, n, count() FROM (
        SELECT ${unit}, minIf(d, event_type = 'Report Created') AS c, arrayFilter(x -> x >= 1, arrayMap(r -> dateDiff('day', c, r), groupUniqArray(d))) AS ns
        FROM (SELECT ${unit}, event_type, toDate(event_time, 'UTC') AS d FROM {db}.${table} WHERE ${where(extra)})
        GROUP BY ${unit} HAVING countIf(event_type = 'Report Created') > 0)
      ARRAY JOIN arrayPushFront(ns, 0) AS n GROUP BY c, n`;

    const cases: { name: string; goal?: string; api: () => Promise<unknown>; sql: () => Promise<unknown> }[] = [
      {
        name: 'segmentation, uniques of one event by user, daily, 30 days',
        api: () => api('/api/2/events/segmentation', { ...range, e: e('Page Viewed') }),
        sql: () => raw(`SELECT toString(toDate(event_time, 'UTC')) AS d, uniqExact(user_key) FROM {db}.events WHERE ${where(" AND event_type = 'Page Viewed'")} GROUP BY d`),
      },
      {
        name: 'segmentation, uniques of one event by account, daily, 30 days',
        goal: '< 1000 ms',
        api: () => api('/api/2/events/segmentation', { ...range, e: e('Page Viewed'), countGroup: 'company' }),
        sql: () => raw(`SELECT toString(toDate(event_time, 'UTC')) AS d, uniqExact(group_value) FROM {db}.event_groups WHERE ${where(" AND group_type = 'company' AND event_type = 'Page Viewed'")} GROUP BY d`),
      },
      {
        name: 'segmentation, active accounts (any event), daily, 30 days',
        api: () => api('/api/2/events/segmentation', { ...range, e: e('_active'), countGroup: 'company' }),
        sql: () => raw(`SELECT toString(toDate(event_time, 'UTC')) AS d, uniqExact(group_value) FROM {db}.event_groups WHERE ${where(" AND group_type = 'company'")} GROUP BY d`),
      },
      {
        name: 'segmentation, active users by account plan (stamped), daily, 30 days',
        api: () => api('/api/2/events/segmentation', { ...range, e: e('_active'), g: 'group:company:plan' }),
        sql: () => raw(`SELECT toString(toDate(event_time, 'UTC')) AS d, JSONExtractString(group_properties, 'company', g, 'plan') AS plan, uniqExact(user_key) FROM {db}.events ARRAY JOIN groups['company'] AS g WHERE ${where()} GROUP BY d, plan`),
      },
      {
        name: '3-step funnel by user, 7-day window, 30 days',
        api: () => api('/api/2/funnels', { ...range, e: steps.map(e), cs: String(W / 1000) }),
        sql: () => raw(funnelSql('events', 'user_key')),
      },
      {
        name: '3-step funnel by account (members together), 7-day window, 30 days',
        goal: '< 2000 ms',
        api: () => api('/api/2/funnels', { ...range, e: steps.map(e), cs: String(W / 1000), countGroup: 'company' }),
        sql: () => raw(funnelSql('event_groups', 'group_value', " AND group_type = 'company'")),
      },
      {
        name: 'retention by user, daily n-day, 30 days',
        api: () => api('/api/2/retention', { ...range, se: e('Report Created'), re: '_active' }),
        sql: () => raw(retentionSql('events', 'user_key')),
      },
      {
        name: 'retention by account, daily n-day, 30 days',
        api: () => api('/api/2/retention', { ...range, se: e('Report Created'), re: '_active', countGroup: 'company' }),
        sql: () => raw(retentionSql('event_groups', 'group_value', " AND group_type = 'company'")),
      },
    ];

    const results: BenchResult[] = [
      {
        name: `data set loaded straight into ClickHouse (generator -> events + event_groups)`,
        figure: { value: round(rate(counts.events, loadMs), 0), unit: 'events/s' },
        extra: {
          events: counts.events,
          event_groups_rows: rowsOf('event_groups'),
          users: ds.users,
          accounts: ds.accounts,
          group_types: 3,
          days: ds.days,
          load_s: round(loadMs / 1000, 1),
          engine: ch.kind,
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
          ...(c.goal ? { goal: c.goal } : {}),
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
