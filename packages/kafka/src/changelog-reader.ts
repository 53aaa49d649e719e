// Reading topics back whole, outside any consumer group's progress: one partition from its start to its current
// end (restoring a partition's state from a compacted changelog), or a whole topic followed for the life of the
// process. Read committed. kafkajs has no manual partition assignment, so each reader is a consumer in a group of
// its own (one member: it is assigned every partition) that never commits; it pauses what it does not need and
// tracks its position from batch events, which also cover batches made only of transaction markers.
import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import type { Logger } from '@groupscope/logger';
import { kafkajsOf, retryTransient, type Admin, type Kafka } from './client';
import type { Headers } from './types';

export interface ChangelogRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  /** null: a tombstone */
  value: Buffer | null;
  headers?: Headers;
}

export interface PartitionEnd {
  low: number;
  high: number;
}

/** Start and end (last stable offset) of every partition of a topic. */
export async function partitionEnds(admin: Admin, topic: string): Promise<Map<number, PartitionEnd>> {
  const offsets = await retryTransient(() => admin.fetchTopicOffsets(topic));
  return new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
}

function readerConsumer(kafka: Kafka, groupId: string): Consumer {
  return kafkajsOf(kafka).consumer({
    groupId,
    readUncommitted: false,
    sessionTimeout: 30000,
    heartbeatInterval: 3000,
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxWaitTimeInMs: 200,
    allowAutoTopicCreation: false,
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10000 },
  });
}

const toRecord = (topic: string, partition: number, m: { offset: string; key: Buffer | null; value: Buffer | null; headers?: Headers }): ChangelogRecord => ({
  topic,
  partition,
  offset: m.offset,
  key: m.key,
  value: m.value,
  headers: m.headers,
});

export interface ReadToEndOptions {
  kafka: Kafka;
  admin: Admin;
  /** names the reader's private consumer group */
  groupIdPrefix: string;
  /** the same partition number in each of these topics (co-partitioned changelogs) */
  topics: string[];
  partition: number;
  /** start at this offset instead of the partition's start */
  from?: number;
  /** stop before this offset instead of the partition's end when the read began */
  to?: number;
  onRecord(r: ChangelogRecord): void;
  /** called every few seconds while reading (keeps the caller's consumer group membership alive) */
  heartbeat?: () => Promise<void>;
  logger: Logger;
  timeoutMs?: number;
}

/**
 * Reads one partition of each topic from its start (or `from`) to its current end (or `to`), then stops. Returns the
 * records read.
 */
export async function readPartitionToEnd(opts: ReadToEndOptions): Promise<number> {
  const targets = new Map<string, number>();
  const starts = new Map<string, number>();
  for (const topic of opts.topics) {
    const end = (await partitionEnds(opts.admin, topic)).get(opts.partition);
    if (!end) throw new Error(`topic ${topic} has no partition ${opts.partition}`);
    const start = Math.max(end.low, opts.from ?? end.low);
    const high = Math.min(end.high, opts.to ?? end.high);
    if (high > start) {
      targets.set(topic, high);
      starts.set(topic, start);
    }
  }
  if (targets.size === 0) return 0;
  const consumer = readerConsumer(opts.kafka, `${opts.groupIdPrefix}.restore.${randomUUID()}`);
  let count = 0;
  let settle!: (err?: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });
  done.catch(() => undefined); // awaited below; this only keeps an early failure from being reported as unhandled
  const positions = new Map<string, number>();
  const check = () => {
    for (const [topic, high] of targets) if ((positions.get(topic) ?? -1) < high) return;
    settle();
  };
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    if (e.payload.partition !== opts.partition || !targets.has(e.payload.topic)) return;
    positions.set(e.payload.topic, Number(e.payload.lastOffset) + 1);
    check();
  });
  consumer.on(consumer.events.CRASH, (e) => {
    if (!e.payload.restart) settle(e.payload.error);
  });
  const ticker = setInterval(() => void opts.heartbeat?.().catch(() => undefined), 2000);
  const timer = setTimeout(() => settle(new Error(`changelog restore timed out: ${[...targets.keys()].join(', ')} partition ${opts.partition}`)), opts.timeoutMs ?? 300_000);
  try {
    await consumer.connect();
    for (const topic of targets.keys()) await consumer.subscribe({ topic, fromBeginning: true });
    const running = consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (batch.partition !== opts.partition) return; // paused below; only reached if kafkajs restarted the consumer
        const start = starts.get(batch.topic) ?? 0;
        const high = targets.get(batch.topic) ?? 0;
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset < start || offset >= high) continue;
          opts.onRecord(toRecord(batch.topic, batch.partition, m));
          count++;
        }
      },
    });
    // run() creates the consumer's group state synchronously: pause everything but the one partition before the
    // first fetch
    for (const topic of targets.keys()) {
      consumer.pause([{ topic }]);
      consumer.resume([{ topic, partitions: [opts.partition] }]);
      // applied before the first fetch
      if (opts.from !== undefined) consumer.seek({ topic, partition: opts.partition, offset: String(starts.get(topic)) });
    }
    await running;
    await done;
    return count;
  } finally {
    clearInterval(ticker);
    clearTimeout(timer);
    await consumer.disconnect().catch((err) => opts.logger.warn({ err }, 'restore_consumer_disconnect_failed'));
  }
}

/**
 * Follows a whole topic from its beginning for the life of the process (e.g. a changelog every instance holds
 * whole). `waitCaughtUp` resolves once everything committed before the call has been applied.
 */
export class ChangelogTail {
  private consumer?: Consumer;
  private readonly positions = new Map<number, number>();
  private readonly waiters = new Set<() => void>();
  private crashed?: Error;

  constructor(
    private readonly opts: { kafka: Kafka; admin: Admin; topic: string; groupIdPrefix: string; logger: Logger; onRecord(r: ChangelogRecord): void },
  ) {}

  async start(): Promise<void> {
    const consumer = readerConsumer(this.opts.kafka, `${this.opts.groupIdPrefix}.tail.${randomUUID()}`);
    this.consumer = consumer;
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      if (e.payload.topic !== this.opts.topic) return;
      this.positions.set(e.payload.partition, Number(e.payload.lastOffset) + 1);
      for (const w of this.waiters) w();
    });
    consumer.on(consumer.events.CRASH, (e) => {
      this.opts.logger.error({ err: e.payload.error, restart: e.payload.restart }, 'changelog_tail_crashed');
      if (!e.payload.restart) {
        this.crashed = e.payload.error;
        for (const w of this.waiters) w();
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.opts.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) this.opts.onRecord(toRecord(batch.topic, batch.partition, m));
      },
    });
  }

  /** True when every partition has been read up to `ends`. */
  private reached(ends: Map<number, PartitionEnd>): boolean {
    for (const [p, end] of ends) {
      if (end.high > end.low && (this.positions.get(p) ?? end.low) < end.high) return false;
    }
    return true;
  }

  async waitCaughtUp(opts: { heartbeat?: () => Promise<void>; timeoutMs?: number } = {}): Promise<void> {
    const ends = await partitionEnds(this.opts.admin, this.opts.topic);
    if (this.reached(ends)) return;
    const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
    await new Promise<void>((resolve, reject) => {
      const ticker = setInterval(() => {
        void opts.heartbeat?.().catch(() => undefined);
        check();
      }, 2000);
      const check = () => {
        if (this.crashed) finish(this.crashed);
        else if (this.reached(ends)) finish();
        else if (Date.now() > deadline) finish(new Error(`changelog tail of ${this.opts.topic} did not catch up in time`));
      };
      const finish = (err?: Error) => {
        clearInterval(ticker);
        this.waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      this.waiters.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
