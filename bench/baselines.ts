// Raw baselines other benchmarks compare against, in the same run: kafkajs producing pre-encoded records in
// batches, and @clickhouse/client inserting rows into ClickHouse with nothing of groupscope in between.
import { createKafka, createProducer, withAdmin } from '@groupscope/kafka';
import type { ClickHouse } from '@groupscope/clickhouse';
import type { BenchContext } from './harness';
import { rate } from './harness';

export interface RawMessage {
  key: string;
  value: Buffer;
  headers?: Record<string, string>;
}

/** Records/s of an idempotent kafkajs producer (acks=all) sending `messages` in batches of `batchSize`. */
export async function rawProducerRate(ctx: BenchContext, messages: RawMessage[], batchSize = 1000, partitions = 4): Promise<number> {
  const kafka = createKafka({ brokers: ctx.brokers, clientId: 'bench-raw', logger: ctx.logger });
  const topic = `bench.raw.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 6)}`;
  await withAdmin(kafka, (a) => a.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] }));
  const producer = createProducer(kafka);
  await producer.connect();
  // warm up connections and metadata
  await producer.send({ topic, acks: -1, messages: messages.slice(0, 10) });
  const t0 = performance.now();
  for (let i = 0; i < messages.length; i += batchSize) {
    await producer.send({ topic, acks: -1, messages: messages.slice(i, i + batchSize) });
  }
  const ms = performance.now() - t0;
  await producer.disconnect();
  await withAdmin(kafka, (a) => a.deleteTopics({ topics: [topic] })).catch(() => undefined);
  return rate(messages.length, ms);
}

/**
 * Rows/s of plain @clickhouse/client inserts of `rows` into `table` in batches of `batchSize`: objects as
 * JSONEachRow, or arrays (with `columns`) as JSONCompactEachRow. A small insert first pays the one-time costs
 * (first part of the table, connection set-up), so they do not count against the steady rate.
 */
export async function rawInsertRate(
  ch: ClickHouse,
  table: string,
  rows: object[] | unknown[][],
  batchSize = 50_000,
  opts: { columns?: readonly string[] } = {},
): Promise<number> {
  const insert = (values: unknown[]) =>
    ch.client.insert({
      table: ch.table(table),
      values: values as never,
      format: opts.columns ? 'JSONCompactEachRow' : 'JSONEachRow',
      columns: opts.columns ? ([...opts.columns] as [string, ...string[]]) : undefined,
    });
  await insert(rows.slice(0, 10));
  const t0 = performance.now();
  for (let i = 10; i < rows.length; i += batchSize) await insert(rows.slice(i, i + batchSize));
  return rate(rows.length - 10, performance.now() - t0);
}

/** The columns sampleEventRow fills, in order, for JSONCompactEachRow. */
export const SAMPLE_EVENT_COLUMNS = [
  'project_id', 'event_time', 'event_type', 'uuid', 'user_id', 'device_id', 'insert_id', 'event_properties',
  'user_properties', 'groups', 'context', 'receive_time', 'kafka_partition', 'kafka_offset',
] as const;

/**
 * A narrow event row shaped like groupscope's `events` table. Times are integer milliseconds (DateTime64(3)
 * reads an integer as ticks), or float seconds with `secondsAsFloat` (slower for the server to parse).
 */
export function sampleEventRow(i: number, secondsAsFloat = false): Record<string, unknown> {
  const t = 1_762_000_000_000 + i * 1000;
  return {
    project_id: 1,
    event_time: secondsAsFloat ? t / 1000 : t,
    event_type: ['Page Viewed', 'Invoice Sent', 'Payment Received', 'Signed Up'][i % 4],
    uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    user_id: `user-${i % 10_000}`,
    device_id: `device-${i % 12_000}`,
    insert_id: `ins-${i}`,
    event_properties: { amount: String(i % 500), page: `/p/${i % 50}` },
    user_properties: { role: i % 3 === 0 ? 'admin' : 'member' },
    groups: { company: [`c-${i % 500}`] },
    context: { platform: 'Web', country: 'FR' },
    receive_time: secondsAsFloat ? t / 1000 : t,
    kafka_partition: 0,
    kafka_offset: i,
  };
}

/** sampleEventRow as an array in SAMPLE_EVENT_COLUMNS order. */
export function sampleEventArray(i: number): unknown[] {
  const r = sampleEventRow(i);
  return SAMPLE_EVENT_COLUMNS.map((c) => r[c]);
}
