// Reading a whole topic once, by hand (operators' tools: the dead-letter command): every partition from its start,
// or from given offsets, up to its current end, with headers; read committed, in a private consumer group that
// never commits, so no service's progress is touched.
import { randomUUID } from 'node:crypto';
import type { Logger } from '@groupscope/logger';
import { kafkajsOf, type Admin, type Kafka } from './client';
import { partitionEnds } from './changelog-reader';
import type { Headers } from './types';

export interface TopicRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Headers;
}

export interface ReadTopicOptions {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  /** where to start per partition (default: each partition's start); partitions absent here are read whole */
  from?: Map<number, number>;
  /** only these partitions (default: all) */
  partitions?: number[];
  /** return false to stop reading early */
  onRecord(r: TopicRecord): boolean | void;
  logger: Logger;
  timeoutMs?: number;
}

/** Reads the topic up to the end it has when the call starts. Returns the number of records read. */
export async function readTopicToEnd(opts: ReadTopicOptions): Promise<number> {
  const ends = await partitionEnds(opts.admin, opts.topic);
  const targets = new Map<number, { start: number; high: number }>();
  for (const [p, end] of ends) {
    if (opts.partitions && !opts.partitions.includes(p)) continue;
    const start = Math.max(end.low, opts.from?.get(p) ?? end.low);
    if (end.high > start) targets.set(p, { start, high: end.high });
  }
  if (targets.size === 0) return 0;
  const consumer = kafkajsOf(opts.kafka).consumer({
    groupId: `groupscope-reader.${randomUUID()}`,
    readUncommitted: false,
    maxWaitTimeInMs: 200,
    allowAutoTopicCreation: false,
    retry: { retries: 5 },
  });
  let count = 0;
  let stopped = false;
  let settle!: (err?: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });
  done.catch(() => undefined);
  const positions = new Map<number, number>();
  const check = () => {
    if (stopped) return settle();
    for (const [p, t] of targets) if ((positions.get(p) ?? t.start) < t.high) return;
    settle();
  };
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    if (e.payload.topic !== opts.topic) return;
    positions.set(e.payload.partition, Number(e.payload.lastOffset) + 1);
    check();
  });
  consumer.on(consumer.events.CRASH, (e) => {
    if (!e.payload.restart) settle(e.payload.error);
  });
  const timer = setTimeout(() => settle(new Error(`reading ${opts.topic} timed out`)), opts.timeoutMs ?? 120_000);
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
    const running = consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const t = targets.get(batch.partition);
        if (!t || stopped) return;
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset < t.start || offset >= t.high) continue;
          count++;
          const record: TopicRecord = { topic: batch.topic, partition: batch.partition, offset: m.offset, timestamp: m.timestamp, key: m.key, value: m.value, headers: (m.headers ?? {}) as Headers };
          if (opts.onRecord(record) === false) {
            stopped = true;
            check();
            return;
          }
        }
      },
    });
    // pause what is not read; start each partition where asked (before its first fetch)
    consumer.pause([{ topic: opts.topic }]);
    consumer.resume([{ topic: opts.topic, partitions: [...targets.keys()] }]);
    for (const [p, t] of targets) consumer.seek({ topic: opts.topic, partition: p, offset: String(t.start) });
    await running;
    await done;
    return count;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch((err) => opts.logger.warn({ err }, 'reader_disconnect_failed'));
  }
}
