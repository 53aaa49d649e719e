// Raw baselines other benchmarks compare against, in the same run: Kafka's own Java producer and consumer
// (ProducerPerformance, ConsumerPerformance from the broker's jars), kafkajs producing pre-encoded records in
// batches (one at a time, and pipelined), and @clickhouse/client inserting rows into ClickHouse with nothing of
// groupscope in between.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createKafka, createProducer, ensureTopics, withAdmin, type Kafka } from '@groupscope/kafka';
import type { ClickHouse } from '@groupscope/clickhouse';
import type { BenchContext } from './harness';
import { rate, round } from './harness';

export interface RawMessage {
  key: string;
  value: Buffer;
  headers?: Record<string, string>;
}

/** The partition count of the services' topics in the bench, which the raw baselines' topics share. */
export const BENCH_PARTITIONS = 4;

async function scratchTopic(kafka: Kafka, partitions: number): Promise<string> {
  const topic = `bench.raw.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 6)}`;
  await ensureTopics(kafka, [{ name: topic, compacted: false }], { partitions, replicationFactor: 1 });
  return topic;
}

/**
 * Records/s of groupscope's idempotent kafkajs producer (acks=all) sending `messages` in batches of `batchSize`,
 * `inFlight` sends at a time (1: each send awaited before the next, as a naive caller does).
 */
export async function rawProducerRate(ctx: BenchContext, messages: RawMessage[], batchSize = 1000, partitions = BENCH_PARTITIONS, inFlight = 1): Promise<number> {
  const kafka = createKafka({ brokers: ctx.brokers, clientId: 'bench-raw', logger: ctx.logger });
  const topic = await scratchTopic(kafka, partitions);
  const producer = createProducer(kafka);
  await producer.connect();
  // warm up connections and metadata
  await producer.send({ topic, acks: -1, messages: messages.slice(0, 10) });
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < messages.length) {
        const from = next;
        next += batchSize;
        await producer.send({ topic, acks: -1, messages: messages.slice(from, from + batchSize) });
      }
    }),
  );
  const ms = performance.now() - t0;
  await producer.disconnect();
  await withAdmin(kafka, (a) => a.deleteTopics({ topics: [topic] })).catch(() => undefined);
  return rate(messages.length, ms);
}

/** Runs one of Kafka's tools (a class in the broker's jars) and resolves with its standard output. */
function kafkaTool(mainClass: string, args: string[]): Promise<string> {
  const lib = join(__dirname, '..', 'deploy', 'kafka', 'lib');
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.JAVA ?? 'java', ['-Xmx512m', '-cp', `${lib}/*`, mainClass, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', (e) => reject(new Error(`cannot run java for ${mainClass} (Java 17+ and deploy/kafka/lib are needed): ${e.message}`)));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${mainClass} exited with ${code}: ${err.slice(-500)}`))));
  });
}

/**
 * The records/s of ProducerPerformance's summary: its steady-state line ("N steady state records sent, R
 * records/sec ...", after the warm-up records) when there is one, else its last "N records sent, R records/sec".
 */
export function parseProducerPerformance(out: string): number {
  const steady = /\d+ steady state records sent, ([\d.]+) records\/sec/.exec(out);
  const m = steady ?? [...out.matchAll(/\d+ records sent, ([\d.]+) records\/sec/g)].at(-1);
  if (!m) throw new Error(`no summary line in ProducerPerformance's output: ${out.slice(-300)}`);
  return Number(m[1]);
}

/**
 * ConsumerPerformance's result line (after its header): records/s over the whole run (nMsg.sec, including the
 * group join) and over the fetching only (fetch.nMsg.sec).
 */
export function parseConsumerPerformance(out: string): { records: number; perSec: number; fetchPerSec: number } {
  const lines = out.split('\n').map((l) => l.trim());
  const header = lines.findIndex((l) => l.startsWith('start.time'));
  const cols = header >= 0 ? lines[header]!.split(/,\s*/) : [];
  const values = header >= 0 ? (lines[header + 1] ?? '').split(/,\s*/) : [];
  const get = (name: string) => Number(values[cols.indexOf(name)]);
  const r = { records: get('data.consumed.in.nMsg'), perSec: get('nMsg.sec'), fetchPerSec: get('fetch.nMsg.sec') };
  if (!Number.isFinite(r.perSec) || !Number.isFinite(r.records)) throw new Error(`no result line in ConsumerPerformance's output: ${out.slice(-300)}`);
  return r;
}

export interface JavaBaselines {
  /** ProducerPerformance records/s: `recordSize` B records, acks=all, idempotence on, the producer's defaults otherwise */
  produce: number;
  /** ConsumerPerformance records/s reading back what was produced (group join included), and fetching only */
  consume: number;
  consumeFetchOnly: number;
  records: number;
  recordSize: number;
}

/** Kafka's own Java producer, then consumer, against the bench's broker on a topic of `partitions` partitions. */
export async function javaKafkaRates(ctx: BenchContext, records: number, recordSize = 300, partitions = BENCH_PARTITIONS): Promise<JavaBaselines> {
  const kafka = createKafka({ brokers: ctx.brokers, clientId: 'bench-java', logger: ctx.logger });
  const topic = await scratchTopic(kafka, partitions);
  const bootstrap = ctx.brokers.join(',');
  try {
    const produced = await kafkaTool('org.apache.kafka.tools.ProducerPerformance', [
      // the first tenth warms the JVM up and is left out of the steady-state figure
      '--topic', topic, '--num-records', String(records), '--warmup-records', String(Math.floor(records / 10)), '--record-size', String(recordSize), '--throughput', '-1',
      '--producer-props', `bootstrap.servers=${bootstrap}`, 'acks=all', 'enable.idempotence=true',
    ]);
    const consumed = parseConsumerPerformance(
      await kafkaTool('org.apache.kafka.tools.ConsumerPerformance', ['--bootstrap-server', bootstrap, '--topic', topic, '--num-records', String(records), '--timeout', '60000']),
    );
    return { produce: parseProducerPerformance(produced), consume: consumed.perSec, consumeFetchOnly: consumed.fetchPerSec, records, recordSize };
  } finally {
    await withAdmin(kafka, (a) => a.deleteTopics({ topics: [topic] })).catch(() => undefined);
  }
}

export interface KafkaBaselines extends JavaBaselines {
  /** groupscope's kafkajs producer, batches of 1000, each send awaited */
  kafkajs: number;
  /** the same, 8 sends of 1000 in flight */
  kafkajsPipelined: number;
}

let kafkaBaselines: Promise<KafkaBaselines> | undefined;

/** Records of about the gateway's size (its records are 280-300 B), random so compression cannot flatter them. */
function sizedMessages(n: number, size: number): RawMessage[] {
  return Array.from({ length: n }, (_, i) => ({ key: `user-${i % 10_000}`, value: randomBytes(size) }));
}

/**
 * The Kafka baselines every stage is compared with, measured once per `npm run bench` (the first bench to ask
 * measures them; the raw baselines bench runs first), so all ratios of a run share them.
 */
export function kafkaBaselinesOnce(ctx: BenchContext): Promise<KafkaBaselines> {
  kafkaBaselines ??= (async () => {
    const n = ctx.quick ? 50_000 : 300_000;
    const messages = sizedMessages(n, 300);
    const java = await javaKafkaRates(ctx, n, 300);
    const kafkajs = await rawProducerRate(ctx, messages, 1000, BENCH_PARTITIONS, 1);
    const kafkajsPipelined = await rawProducerRate(ctx, messages, 1000, BENCH_PARTITIONS, 8);
    return { ...java, kafkajs, kafkajsPipelined };
  })();
  return kafkaBaselines;
}

/**
 * The Kafka baselines if a bench of this run measured them (the raw baselines bench, or any bench that asked), else
 * undefined: for figures that report a ratio only where the run has one, without paying for the baselines.
 */
export async function kafkaBaselinesIfMeasured(): Promise<KafkaBaselines | undefined> {
  return kafkaBaselines?.catch(() => undefined);
}

/**
 * A rate's ratios to the Kafka baselines, for BenchResult.ratios: the Java producer (the bus's practical limit on
 * this machine) and pipelined kafkajs (what the client does used well).
 */
export function kafkaRatios(value: number, k: KafkaBaselines): Record<string, number> {
  return { java_producer: round(value / k.produce, 2), kafkajs_pipelined: round(value / k.kafkajsPipelined, 2) };
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
