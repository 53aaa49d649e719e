// Account health at scale: the account list (GET /api/2/groups/{type}/list) and the health-score job on a B2B data
// set generated inside ClickHouse (./generate: events + event_groups as the writer stores them, group_daily_users
// filled by its materialized view on the way in, and every account's current properties in `groups`). p50/p95 of
// the list sorted by a metric, by a % change, filtered by a property and a metric and sorted by a property, a deep
// page, the CSV export of the whole list, and one account's usage; each list beside the same question answered
// from the raw events in hand-written SQL (ratio = SQL p50 / API p50: what the daily aggregate saves). The
// health-score job: one full run (every group new, so every group is published to Kafka) and a second run (nothing
// changed, nothing published).
// Size: BENCH_ACCOUNTS_EVENTS (default 10M) and BENCH_ACCOUNTS_GROUPS (default 100k companies) over the 60 days
// before today; BENCH_QUICK=1: 300k events, 5k companies.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { insertRows, param, queryRows, sql, tableRef, type ClickHouse } from '@groupscope/clickhouse';
import { codecs, topicNames, topicSpecs } from '@groupscope/events';
import { createKafka, ensureTopics, retryTransient, runBatchConsumer, type Kafka } from '@groupscope/kafka';
import type { Logger } from '@groupscope/logger';
import { ProjectRegistry } from '@groupscope/projects';
import { loadQueryConfig, startQuery } from '@groupscope/query';
import type { Bench, BenchResult } from './harness';
import { generateAccounts, generateEvents } from './generate';
import { rate, round, settleMerges, timeRuns } from './harness';

const DAY = 86_400_000;
const DAYS = 60;

const bench: Bench = {
  name: 'account list and health scores',
  async run(ctx) {
    const events = ctx.quick ? 300_000 : Number(process.env.BENCH_ACCOUNTS_EVENTS ?? 10_000_000);
    const accounts = ctx.quick ? 5_000 : Number(process.env.BENCH_ACCOUNTS_GROUPS ?? 100_000);
    const runs = ctx.quick ? 3 : 7;
    const ch = await ctx.clickhouse({ migrate: true });
    // the data set covers the 60 days before today (UTC): its last day is the last complete one, where the list's and
    // the job's usage windows end by default
    const end = Math.floor(Date.now() / DAY) * DAY;
    const asOf = new Date(end - DAY).toISOString().slice(0, 10);
    const from = new Date(end - DAYS * DAY).toISOString().slice(0, 10);

    const t0 = performance.now();
    const counts = await generateEvents(ch, { events, accounts, days: DAYS, end, projectId: 1 });
    await generateAccounts(ch, { projectId: 1, accounts, at: end - DAYS * DAY });
    const loadMs = performance.now() - t0;
    await settleMerges(ch, 120_000);
    const sizes = await queryRows<{ table: string; rows: number }>(
      ch,
      sql`SELECT table, sum(rows) AS rows FROM system.parts WHERE database = ${param(ch.database, 'String')} AND active GROUP BY table`,
    );
    const rowsOf = (t: string) => Number(sizes.find((s) => s.table === t)?.rows ?? 0);

    // the health-score job publishes group identifies: a topic of its own on the bench's broker
    const prefix = `bench-accounts-${Date.now().toString(36)}.`;
    const kafka = createKafka({ brokers: ctx.brokers, clientId: 'bench-accounts', logger: ctx.logger });
    await retryTransient(() => ensureTopics(kafka, topicSpecs(topicNames(prefix)), { partitions: 4, replicationFactor: 1 }));

    const dir = join(ctx.tmpDir, 'accounts-bench');
    mkdirSync(dir, { recursive: true });
    const registry = new ProjectRegistry(join(dir, 'projects.json'));
    const keys = registry.create('bench');
    if (keys.project_id !== 1) throw new Error('expected project 1');
    const config = loadQueryConfig({
      QUERY_PORT: '0', QUERY_MIGRATE: 'false', QUERY_TIMEOUT_MS: '300000', DYNAMIC_PROPERTIES_SCHEDULER: 'false',
      KAFKA_BROKERS: ctx.brokers.join(','), TOPIC_PREFIX: prefix, DYNAMIC_PROPERTIES_PUBLISH_TIMEOUT_MS: '120000', GROUPSCOPE_DATA_DIR: dir,
    } as NodeJS.ProcessEnv);
    // the list's default day (the last complete one) follows the service's clock: the data set's last day
    const service = await startQuery({ config, logger: ctx.logger, ch, registry });
    const auth = `Basic ${Buffer.from(`${keys.api_key}:${keys.secret_key}`).toString('base64')}`;
    const call = async (method: string, path: string, params: Record<string, string> = {}, body?: unknown) => {
      const res = await fetch(`${service.url}${path}?${new URLSearchParams(params)}`, {
        method,
        headers: { authorization: auth, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${path} answered ${res.status}: ${text.slice(0, 300)}`);
      return text;
    };
    const list = (params: Record<string, string>) => call('GET', '/api/2/groups/company/list', params);
    const raw = async (query: string) => {
      const rs = await ch.client.query({ query: query.replaceAll('{db}', `\`${ch.database}\``), format: 'JSONEachRow' });
      return rs.json();
    };
    // the same numbers from the raw events: per group, distinct users and events over the windows ending on asOf
    const rawUsage = (order: string) => `
      SELECT group_value,
        uniqExactIf(user_key, d > toDate('${asOf}') - 30) AS au30, uniqExactIf(user_key, d > toDate('${asOf}') - 7) AS au7,
        countIf(d > toDate('${asOf}') - 7) AS e7, countIf(d <= toDate('${asOf}') - 7 AND d > toDate('${asOf}') - 14) AS e7p,
        countIf(d > toDate('${asOf}') - 30) AS e30
      FROM (SELECT group_value, user_key, toDate(event_time) AS d FROM {db}.event_groups
            WHERE project_id = 1 AND group_type = 'company' AND event_time >= toDateTime64('${from} 00:00:00', 3, 'UTC'))
      GROUP BY group_value ORDER BY ${order} LIMIT 50`;
    const J = JSON.stringify;

    const cases: { name: string; api: () => Promise<unknown>; sql?: () => Promise<unknown>; goal?: string; runs?: number }[] = [
      {
        name: 'list, sorted by 30-day active users, first page',
        goal: '< 1000 ms',
        api: () => list({}),
        sql: () => raw(rawUsage('au30 DESC, group_value')),
      },
      {
        name: 'list, sorted by the 7-day % change of events',
        goal: '< 1000 ms',
        api: () => list({ sort: 'events_7d_change', order: 'asc' }),
        sql: () => raw(rawUsage('if(e7p = 0, NULL, (e7 - e7p) / e7p) ASC NULLS LAST, group_value')),
      },
      {
        name: 'list, filtered by a property and a metric, sorted by a numeric property',
        goal: '< 1000 ms',
        api: () =>
          list({
            sort: 'seats',
            columns: J(['name', 'plan', 'seats', 'active_users_7d', 'events_30d']),
            filters: J([
              { subprop_type: 'group', subprop_key: 'plan', subprop_op: 'is', subprop_value: ['pro', 'enterprise'] },
              { subprop_type: 'metric', subprop_key: 'active_users_7d', subprop_op: 'greater', subprop_value: ['0'] },
            ]),
          }),
      },
      { name: 'list, page 1000 (offset 49950)', goal: '< 1000 ms', api: () => list({ offset: '49950' }) },
      { name: 'list as CSV, the whole list (every group)', api: () => list({ format: 'csv' }), runs: 3 },
      { name: "one account's usage and 30-day series", api: () => call('GET', '/api/2/groups/company/acct-7/usage') },
    ];

    const results: BenchResult[] = [
      {
        name: 'data set generated inside ClickHouse (events + event_groups -> group_daily_users, groups)',
        figure: { value: round(rate(counts.events, loadMs), 0), unit: 'events/s' },
        extra: {
          events: counts.events,
          companies: accounts,
          event_groups_rows: rowsOf('event_groups'),
          group_daily_users_rows: rowsOf('group_daily_users'),
          users: counts.users,
          days: DAYS,
          load_s: round(loadMs / 1000, 1),
        },
      },
    ];
    try {
      for (const c of cases) {
        const n = c.runs ?? runs;
        const ours = await timeRuns(n, c.api);
        const hand = c.sql ? await timeRuns(n, c.sql) : undefined;
        ctx.logger.info({ name: c.name, p50: ours.p50, sql_p50: hand?.p50 }, 'bench_accounts');
        results.push({
          name: `${c.name}: API p50`,
          figure: { value: round(ours.p50, 0), unit: 'ms' },
          ...(hand ? { baseline: { name: 'the same from raw events in SQL, p50', value: round(hand.p50, 0), unit: 'ms' }, ratio: round(hand.p50 / ours.p50, 2) } : {}),
          ...(c.goal ? { goal: c.goal } : {}),
          extra: { api_p95_ms: round(ours.p95, 0), ...(hand ? { sql_p95_ms: round(hand.p95, 0) } : {}), runs: n, events: counts.events, companies: accounts },
        });
      }

      // the health-score job: every group of the type scored and (first run) published through Kafka
      const created = JSON.parse(
        await call('POST', '/api/3/health-scores', {}, {
          group_type: 'company',
          name: 'health',
          components: [
            { metric: 'active_users_30d', weight: 2, poor: 0, healthy: 10 },
            { metric: 'events_7d_change', weight: 1, poor: -50, healthy: 20 },
            { metric: 'days_since_last_seen', weight: 1, poor: 14, healthy: 1 },
          ],
        }),
      ) as { id: string };
      for (const label of ['first run (every group written)', 'second run (nothing changed)']) {
        const t = performance.now();
        const run = JSON.parse(await call('POST', `/api/3/health-scores/${created.id}/run`)) as { groups: number; written: number };
        const ms = performance.now() - t;
        results.push({
          name: `health-score job, ${label}: duration`,
          figure: { value: round(ms, 0), unit: 'ms' },
          extra: { groups_scored: run.groups, groups_written: run.written, events: counts.events },
        });
        if (run.written > 0) await applyPublishedScores(ch, kafka, topicNames(prefix).groupIdentify, run.written, ctx.logger);
      }
    } catch (err) {
      // what was measured before the failure is kept, beside it
      results.push({ name: 'account list and health scores failed', figure: { value: NaN, unit: 'error' }, extra: { error: String(err) } });
    } finally {
      await service.stop();
    }
    return results;
  },
};

/**
 * Plays the enricher's and writer's part for the job's output: reads the group identifies the run published and
 * stores each group's new score and band in `groups` (merged into its current properties, as a newer change), so
 * the next run compares against them. The bench has no enricher: the groups were loaded without one.
 */
async function applyPublishedScores(ch: ClickHouse, kafka: Kafka, topic: string, expected: number, logger: Logger): Promise<void> {
  const published = new Map<string, Record<string, unknown>>();
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (done = resolve));
  const consumer = await runBatchConsumer({
    kafka,
    groupId: `${topic}.bench-apply`,
    topics: [topic],
    logger,
    fromBeginning: true,
    handle: async (batch) => {
      for (const m of batch.messages) {
        const r = codecs.groupIdentify.decode(m.value as Buffer, m.headers as never);
        published.set(r.group_value, (JSON.parse(r.group_properties) as { $set: Record<string, unknown> }).$set);
      }
      if (published.size >= expected) done();
    },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([all, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`only ${published.size} of ${expected} group identifies read`)), 300_000)))]);
  } finally {
    // a pending limit would hold the bench's process open for minutes after its last figure
    clearTimeout(timer);
    await consumer.stop();
  }
  const current = await queryRows<{ group_value: string; properties_json: string; off: number }>(
    ch,
    sql`SELECT group_value, argMax(properties_json, kafka_offset) AS properties_json, max(kafka_offset) AS off
      FROM ${tableRef(ch, 'groups')} WHERE project_id = 1 AND group_type = 'company' GROUP BY group_value`,
  );
  const byValue = new Map(current.map((r) => [r.group_value, r.properties_json]));
  let offset = Math.max(0, ...current.map((r) => Number(r.off))) + 1;
  const at = new Date().toISOString().replace('T', ' ').replace('Z', '');
  const rows = [...published].map(([group_value, set]) => {
    const props = { ...(JSON.parse(byValue.get(group_value) || '{}') as Record<string, unknown>), ...set };
    const bag = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    return { project_id: 1, group_type: 'company', group_value, properties: bag, properties_json: JSON.stringify(props), updated_at: at, first_identified: at, kafka_partition: 0, kafka_offset: offset++ };
  });
  for (let i = 0; i < rows.length; i += 50_000) await insertRows(ch, 'groups', rows.slice(i, i + 50_000));
}

export default bench;
