// Writer throughput: rows/s into the ClickHouse server over HTTP through the writer (consume, decode, map, insert,
// commit) from a pre-filled enriched-events topic, beside a raw @clickhouse/client insert of the same rows
// (JSONCompactEachRow, 50k-row batches, one insert at a time) into the same server in the same run. Each event makes
// 3 rows (events + 2 event_groups). The writer's clock starts once it has joined its group and stops when every row
// is visible to a query. The machine is shared, so the two take turns over two rounds (fresh topics and databases)
// and the best of each is kept. For comparison, the embedded engine (chDB in the writer's process) measured 0.82 of
// a raw chDB insert, at 71k rows/s raw, before every service reached ClickHouse over HTTP.
// Then end-to-end latency at a steady load: gateway 200 -> the event visible to a query, with the gateway and the
// enricher in their own processes (as `npm start` runs them) and the writer in this one.
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { queryRows, sql, trusted, param, type ClickHouse } from '@groupscope/clickhouse';
import { codecs, recordMessage, topicNames, topicSpecs, type EnrichedEvent } from '@groupscope/events';
import { createKafka, createProducer, ensureTopics, withAdmin, type Kafka, type Message } from '@groupscope/kafka';
import { ProjectRegistry } from '@groupscope/projects';
import { COLUMNS, eventRowObjects } from '@groupscope/schema';
import { loadWriterConfig, startWriter } from '@groupscope/writer';
import type { Bench, BenchContext, BenchResult } from './harness';
import { percentile, rate, round, spawnService, stopChild, waitReady } from './harness';
import { kafkaBaselinesOnce, kafkaRatios, rawInsertRate } from './baselines';

const PARTITIONS = 4;
const ROUNDS = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Enriched event i: two groups (a company and a team) with property snapshots, as the enricher stamps them. */
function event(i: number): EnrichedEvent {
  const t = 1_762_000_000_000 + i * 10;
  const company = `c-${i % 500}`;
  return {
    project_id: 1,
    uuid: randomUUID(),
    receive_time: t + 5,
    event_time: t,
    event_type: ['Page Viewed', 'Invoice Sent', 'Payment Received', 'Signed Up'][i % 4]!,
    user_id: `user-${i % 10_000}`,
    device_id: `device-${i % 12_000}`,
    insert_id: `ins-${i}`,
    session_id: t,
    event_id: null,
    event_properties: JSON.stringify({ amount: i % 500, page: `/p/${i % 50}` }),
    user_properties: JSON.stringify({ role: i % 3 === 0 ? 'admin' : 'member', plan: 'pro' }),
    groups: { company: [company], team: [`t-${i % 40}`] },
    group_properties: [
      { group_type: 'company', group_value: company, properties: JSON.stringify({ plan: ['free', 'pro', 'enterprise'][i % 3], seats: i % 200 }) },
      { group_type: 'team', group_value: `t-${i % 40}`, properties: '{"lead":"x"}' },
    ],
    context: { platform: 'Web', os_name: 'Chrome', country: 'France' },
    revenue: i % 10 === 0 ? 12.5 : null,
    price: null,
    quantity: null,
    location_lat: null,
    location_lng: null,
    extra: '{"library":"amplitude-node/1.5.73"}',
  };
}

async function countRows(ch: ClickHouse, table: string): Promise<number> {
  return Number((await queryRows<{ n: number }>(ch, sql`SELECT count() AS n FROM ${trusted(ch.table(table))}`))[0]!.n);
}

async function produce(kafka: Kafka, topic: string, messages: Message[]): Promise<void> {
  const producer = createProducer(kafka);
  await producer.connect();
  for (let i = 0; i < messages.length; i += 1000) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1000) });
  await producer.disconnect();
}

/** ms for the writer to turn the pre-filled topic into rows (clock: from joined to all rows visible). */
async function writerRound(ctx: BenchContext, messages: Message[], rows: number): Promise<number> {
  const prefix = `bench.wr.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 6)}.`;
  const topics = topicNames(prefix);
  const kafka = createKafka({ brokers: ctx.brokers, clientId: 'bench-writer', logger: ctx.logger });
  await ensureTopics(kafka, topicSpecs(topics), { partitions: PARTITIONS, replicationFactor: 1 });
  await produce(kafka, topics.enriched, messages);
  const ch = await ctx.clickhouse({ migrate: true });
  const writer = await startWriter({
    config: loadWriterConfig({ KAFKA_BROKERS: ctx.brokers.join(','), TOPIC_PREFIX: prefix, KAFKA_PARTITIONS: String(PARTITIONS), WRITER_PORT: '0' }),
    logger: ctx.logger,
    ch,
    kafka,
  });
  const t0 = performance.now();
  try {
    while ((await countRows(ch, 'events')) + (await countRows(ch, 'event_groups')) < rows) await sleep(100);
    return performance.now() - t0;
  } finally {
    await writer.stop();
    await withAdmin(kafka, (a) => a.deleteTopics({ topics: Object.values(topics) })).catch(() => undefined);
  }
}

/** The rows the writer writes, as plain arrays in column order. */
function rawRows(messages: Message[]): { events: unknown[][]; groups: unknown[][] } {
  const events: unknown[][] = [];
  const groups: unknown[][] = [];
  messages.forEach((m, i) => {
    const out = eventRowObjects(codecs.enriched.decode(m.value as Buffer), i % PARTITIONS, Math.floor(i / PARTITIONS));
    if (out.kind !== 'ok') throw new Error(out.error);
    events.push(COLUMNS.events.map((c) => out.value.event[c]));
    for (const g of out.value.eventGroups) groups.push(COLUMNS.event_groups.map((c) => g[c]));
  });
  return { events, groups };
}

/** ms for a plain @clickhouse/client insert of the same rows (prepared as arrays first, not timed). */
async function rawRound(ctx: BenchContext, messages: Message[]): Promise<{ ms: number; rows: number }> {
  const { events, groups } = rawRows(messages);
  const ch = await ctx.clickhouse({ migrate: true });
  const a = await rawInsertRate(ch, 'events', events, 50_000, { columns: COLUMNS.events });
  const b = await rawInsertRate(ch, 'event_groups', groups, 50_000, { columns: COLUMNS.event_groups });
  return { ms: ((events.length - 10) / a + (groups.length - 10) / b) * 1000, rows: events.length + groups.length - 20 };
}

async function throughput(ctx: BenchContext): Promise<BenchResult> {
  const n = ctx.quick ? 20_000 : 100_000;
  // only the encoded records stay in memory while the writer runs: a large live heap would slow its GC
  const messages = Array.from({ length: n }, (_, i) => recordMessage.enriched(event(i)));
  const rows = n * 3;
  const writerMs: number[] = [];
  const rawMs: number[] = [];
  let rawRowCount = 0;
  for (let r = 0; r < ROUNDS; r++) {
    writerMs.push(await writerRound(ctx, messages, rows));
    const raw = await rawRound(ctx, messages);
    rawMs.push(raw.ms);
    rawRowCount = raw.rows;
  }
  const w = rate(rows, Math.min(...writerMs));
  const raw = rate(rawRowCount, Math.min(...rawMs));
  // beside the Kafka baselines the writer counts in events (records read), as the other stages do
  const events = rate(n, Math.min(...writerMs));
  const kafkaBase = await kafkaBaselinesOnce(ctx);
  return {
    name: `writer rows/s into the ClickHouse server over HTTP (${n} enriched events -> ${rows} rows, ${PARTITIONS} partitions, defaults 50k rows / 1 s)`,
    figure: { value: round(w, 0), unit: 'rows/s' },
    baseline: { name: `raw @clickhouse/client insert of the same rows into the same server, 50k-row batches`, value: round(raw, 0), unit: 'rows/s' },
    ratio: round(w / raw, 2),
    ratios: kafkaRatios(events, kafkaBase),
    goal: '>= 0.8 of baseline',
    extra: {
      embedded_chdb_before: 'writer 0.82 of a raw chDB insert (raw 71k rows/s)',
      events_per_s: round(rate(n, Math.min(...writerMs)), 0),
      writer_rounds_ms: writerMs.map((x) => Math.round(x)).join(' '),
      raw_rounds_ms: rawMs.map((x) => Math.round(x)).join(' '),
    },
  };
}

// ---- end-to-end latency

async function latency(ctx: BenchContext): Promise<BenchResult> {
  const seconds = ctx.quick ? 10 : 30;
  const perSecond = 500;
  const perRequest = 50;
  const prefix = `bench.e2e.${Date.now().toString(36)}.`;
  const registry = new ProjectRegistry(join(ctx.tmpDir, 'writer-e2e-projects.json'));
  const { api_key, project_id } = registry.create('writer-e2e');
  // BENCH_PORT_BASE: where a shared machine has assigned this run its ports
  const port = Number(process.env.BENCH_PORT_BASE) || 39_000 + Math.floor(Math.random() * 900);
  const kafka = createKafka({ brokers: ctx.brokers, clientId: 'bench-e2e', logger: ctx.logger });
  await ensureTopics(kafka, topicSpecs(topicNames(prefix)), { partitions: PARTITIONS, replicationFactor: 1 });
  const ch = await ctx.clickhouse({ migrate: true });
  const children: ChildProcess[] = [];
  const writer = await startWriter({
    config: loadWriterConfig({ KAFKA_BROKERS: ctx.brokers.join(','), TOPIC_PREFIX: prefix, KAFKA_PARTITIONS: String(PARTITIONS), WRITER_PORT: '0' }),
    logger: ctx.logger,
    ch,
    kafka,
  });
  try {
    children.push(spawnService(ctx, 'gateway', { TOPIC_PREFIX: prefix, PROJECTS_FILE: registry.file, GATEWAY_PORT: String(port), NODE_ENV: 'production' }));
    children.push(spawnService(ctx, 'enricher', { TOPIC_PREFIX: prefix, ENRICHER_PORT: String(port + 1) }));
    await waitReady(`http://127.0.0.1:${port}/ready`, children[0]);
    await waitReady(`http://127.0.0.1:${port + 1}/ready`, children[1]);

    const acked = new Map<string, number>(); // insert_id -> time of the gateway's 200
    const seen: number[] = [];
    let failures = 0;
    let seq = 0;
    const post = async () => {
      const ids = Array.from({ length: perRequest }, () => `e2e-${seq++}`);
      const body = JSON.stringify({
        api_key,
        events: ids.map((id, i) => ({ user_id: `user-${(seq + i) % 300}`, event_type: 'Page Viewed', insert_id: id, groups: { company: `c-${i % 20}` }, event_properties: { n: i } })),
      });
      const res = await fetch(`http://127.0.0.1:${port}/batch`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      const at = performance.now();
      if (res.status !== 200) failures++;
      else for (const id of ids) acked.set(id, at);
    };
    // the poller: which acknowledged ids are visible now
    let polling = true;
    let stopAt = Number.POSITIVE_INFINITY;
    const poller = (async () => {
      while (polling || acked.size > 0) {
        const pending = [...acked.keys()];
        if (pending.length > 0) {
          const found = await queryRows<{ insert_id: string }>(
            ch,
            sql`SELECT insert_id FROM ${trusted(ch.table('events'))} WHERE project_id = ${param(project_id, 'UInt32')} AND insert_id IN ${param(pending, 'Array(String)')}`,
          );
          const now = performance.now();
          for (const { insert_id } of found) {
            const t = acked.get(insert_id);
            if (t !== undefined) {
              seen.push(now - t);
              acked.delete(insert_id);
            }
          }
        }
        if (!polling && performance.now() > stopAt + 60_000) break;
        await sleep(50);
      }
    })();
    // warm-up, then steady load
    const interval = (1000 * perRequest) / perSecond;
    const warm = performance.now() + 3000;
    while (performance.now() < warm) {
      await post();
      await sleep(interval);
    }
    seen.length = 0;
    const t0 = performance.now();
    let sent = 0;
    while (performance.now() - t0 < seconds * 1000) {
      const due = t0 + sent * interval;
      if (performance.now() < due) await sleep(due - performance.now());
      await post();
      sent++;
    }
    stopAt = performance.now();
    polling = false;
    await poller;
    seen.sort((a, b) => a - b);
    return {
      name: `end-to-end latency, gateway 200 -> visible to a query (${perSecond} events/s in ${perRequest}-event requests, ${seconds} s)`,
      figure: { value: round(percentile(seen, 50), 0), unit: 'ms p50' },
      extra: {
        p95_ms: round(percentile(seen, 95), 0),
        p99_ms: round(percentile(seen, 99), 0),
        max_ms: round(seen.at(-1) ?? NaN, 0),
        events_measured: seen.length,
        not_visible_after_60s: acked.size,
        failed_requests: failures,
        writer_batch_ms: 1000,
      },
    };
  } finally {
    await Promise.all(children.map(stopChild));
    await writer.stop();
    await withAdmin(kafka, (a) => a.deleteTopics({ topics: Object.values(topicNames(prefix)) })).catch(() => undefined);
  }
}

const bench: Bench = {
  name: 'writer',
  async run(ctx) {
    const out = [await throughput(ctx)];
    out.push(await latency(ctx));
    return out;
  },
};
export default bench;
