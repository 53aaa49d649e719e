// Backfill: the same events through the whole pipeline (gateway and enricher in their own processes, the writer in
// this one, as npm start runs them), once dated this week and once spread over 5 years, as a migration from another
// analytics tool sends its history through /batch. Each load runs from its first request until every event is
// visible to a query; ratio = backfill events/s / this week's events/s (the goal: at least 0.5). The writer cuts its
// inserts at month boundaries (tables are partitioned by month), so a multi-year backfill turns every flush into
// dozens of small inserts and parts: the figures show the cost, services/writer/README.md ("Backfills") the design.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { param, queryRows, sql, tableRef, type ClickHouse } from '@groupscope/clickhouse';
import { topicNames, topicSpecs } from '@groupscope/events';
import { createKafka, ensureTopics, withAdmin } from '@groupscope/kafka';
import { ProjectRegistry } from '@groupscope/projects';
import { loadWriterConfig, startWriter } from '@groupscope/writer';
import type { Bench, BenchContext, BenchResult } from './harness';
import { rate, round, spawnService, stopChild, waitReady } from './harness';

const PARTITIONS = 4;
const DAY = 86_400_000;
const CLIENTS = 4;
const PER_REQUEST = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** /batch bodies of `n` events of `users` users, event i at times(i). */
function bodies(apiKey: string, n: number, times: (i: number) => number): string[] {
  const out: string[] = [];
  for (let from = 0; from < n; from += PER_REQUEST) {
    const events = [];
    for (let i = from; i < Math.min(n, from + PER_REQUEST); i++) {
      events.push({
        user_id: `user-${i % 2000}`,
        event_type: ['Page Viewed', 'Report Created', 'Report Exported', 'Dashboard Viewed'][i % 4],
        time: times(i),
        insert_id: `bf-${i}-${randomUUID()}`,
        groups: { company: `c-${i % 200}` },
        event_properties: { page: `/p/${i % 50}` },
        platform: 'Web',
      });
    }
    out.push(JSON.stringify({ api_key: apiKey, events }));
  }
  return out;
}

async function countEvents(ch: ClickHouse, projectId: number): Promise<number> {
  const rows = await queryRows<{ n: string }>(ch, sql`SELECT count() AS n FROM ${tableRef(ch, 'events')} WHERE project_id = ${param(projectId, 'UInt32')}`);
  return Number(rows[0]?.n ?? 0);
}

async function partsOf(ch: ClickHouse): Promise<number> {
  const rows = await queryRows<{ n: string }>(ch, sql`SELECT count() AS n FROM system.parts WHERE database = ${param(ch.database, 'String')} AND table = 'events' AND active`);
  return Number(rows[0]?.n ?? 0);
}

/** ms from the first request until all `n` events of the project are visible. */
async function load(url: string, ch: ClickHouse, projectId: number, list: string[], n: number): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < list.length) {
        const body = list[next++]!;
        // resent on 503 (Kafka busy), as the SDKs do
        for (;;) {
          const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
          await res.text();
          if (res.status === 200) break;
          if (res.status !== 503 && res.status !== 429) throw new Error(`/batch answered ${res.status}`);
          await sleep(200);
        }
      }
    }),
  );
  const deadline = Date.now() + 30 * 60_000;
  while ((await countEvents(ch, projectId)) < n) {
    if (Date.now() > deadline) throw new Error(`project ${projectId}: not all ${n} events visible after 30 minutes`);
    await sleep(200);
  }
  return performance.now() - t0;
}

async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const n = ctx.quick ? 10_000 : 100_000;
  const years = 5;
  const prefix = `bench.bf.${Date.now().toString(36)}.`;
  const registry = new ProjectRegistry(join(ctx.tmpDir, 'backfill-projects.json'));
  const current = registry.create('this-week');
  const backfill = registry.create('backfill');
  const warm = registry.create('warm-up');
  // BENCH_PORT_BASE: where a shared machine has assigned this run its ports
  const port = (Number(process.env.BENCH_PORT_BASE) || 39_500 + Math.floor(Math.random() * 400)) + 4;
  const kafka = createKafka({ brokers: ctx.brokers, clientId: 'bench-backfill', logger: ctx.logger });
  await ensureTopics(kafka, topicSpecs(topicNames(prefix)), { partitions: PARTITIONS, replicationFactor: 1 });
  const ch = await ctx.clickhouse({ migrate: true });
  const children: ChildProcess[] = [];
  // the writer's settings from the environment (WRITER_BATCH_ROWS, WRITER_BATCH_MS) over its defaults
  const config = loadWriterConfig({ ...process.env, KAFKA_BROKERS: ctx.brokers.join(','), TOPIC_PREFIX: prefix, KAFKA_PARTITIONS: String(PARTITIONS), WRITER_PORT: '0' });
  const writer = await startWriter({
    config,
    logger: ctx.logger,
    ch,
    kafka,
  });
  try {
    children.push(spawnService(ctx, 'gateway', { TOPIC_PREFIX: prefix, PROJECTS_FILE: registry.file, GATEWAY_PORT: String(port), NODE_ENV: 'production' }, PARTITIONS));
    children.push(spawnService(ctx, 'enricher', { TOPIC_PREFIX: prefix, ENRICHER_PORT: String(port + 1) }, PARTITIONS));
    await waitReady(`http://127.0.0.1:${port}/ready`, children[0]);
    await waitReady(`http://127.0.0.1:${port + 1}/ready`, children[1]);
    const url = `http://127.0.0.1:${port}/batch`;
    const now = Date.now();
    // this week: spread over the last 6 days; the backfill: over 5 years ending a week ago
    const week = bodies(current.api_key, n, (i) => now - DAY - ((i * 7919) % (5 * DAY)));
    const span = years * 365 * DAY;
    const old = bodies(backfill.api_key, n, (i) => now - 7 * DAY - ((i * 7919 * 1000) % span));
    // warm-up (connections, JIT, the enricher's first transactions), not timed
    await load(url, ch, warm.project_id, bodies(warm.api_key, 2 * PER_REQUEST, (i) => now - DAY - i), 2 * PER_REQUEST);
    const weekMs = await load(url, ch, current.project_id, week, n);
    const parts1 = await partsOf(ch);
    const oldMs = await load(url, ch, backfill.project_id, old, n);
    const parts2 = await partsOf(ch);
    const weekRate = rate(n, weekMs);
    const oldRate = rate(n, oldMs);
    return [
      {
        name: `backfill: ${n} events over ${years} years through /batch (${PER_REQUEST}-event requests, ${CLIENTS} clients) until queryable`,
        figure: { value: round(oldRate, 0), unit: 'events/s' },
        baseline: { name: 'the same events dated this week', value: round(weekRate, 0), unit: 'events/s' },
        ratio: round(oldRate / weekRate, 2),
        goal: '>= 0.5 of baseline',
        extra: {
          backfill_s: round(oldMs / 1000, 1),
          this_week_s: round(weekMs / 1000, 1),
          events_active_parts_after_this_week: parts1,
          events_active_parts_after_backfill: parts2,
          writer_batch_rows: config.WRITER_BATCH_ROWS,
          writer_batch_ms: config.WRITER_BATCH_MS,
        },
      },
    ];
  } finally {
    await Promise.all(children.map(stopChild));
    await writer.stop();
    await withAdmin(kafka, (a) => a.deleteTopics({ topics: Object.values(topicNames(prefix)) })).catch(() => undefined);
  }
}

const bench: Bench = { name: 'backfill', run };
export default bench;
