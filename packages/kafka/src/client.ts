// The only module that imports kafkajs: client factory, topic creation, producers.
import { Kafka, logLevel, Partitioners, type Admin, type Producer, type LogEntry, type ITopicConfig } from 'kafkajs';
import type { Logger } from '@groupscope/logger';
import type { TopicSpec } from '@groupscope/events';

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** how long a request may take before kafkajs gives up on it (ms) */
  requestTimeout?: number;
  connectionTimeout?: number;
}

const levelNames: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function createKafka(opts: KafkaOptions): Kafka {
  const log = opts.logger.child({ module: 'kafkajs' });
  return new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    requestTimeout: opts.requestTimeout ?? 30000,
    connectionTimeout: opts.connectionTimeout ?? 3000,
    // kafkajs logs coordinator-loading and rebalance chatter at ERROR; it retries those itself, so keep them at debug
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        const transient = typeof rest.error === 'string' && /coordinator|rebalanc|leader|not available|concurrent/i.test(rest.error);
        const name = transient ? 'debug' : (levelNames[level] ?? 'info');
        log[name]({ kafkajs: rest }, `kafkajs: ${message}`);
      },
  });
}

export interface EnsureTopicsOptions {
  partitions: number;
  replicationFactor: number;
}

/**
 * Creates the topics that do not exist yet; existing ones are left alone. Co-partitioned topics must share one
 * partition count, or user state would not sit on the same partition as the user's records: that is checked.
 */
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[], opts: EnsureTopicsOptions): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    if (missing.length > 0) {
      await retryTransient(() => admin.createTopics({
        waitForLeaders: true,
        topics: missing.map(
          (s): ITopicConfig => ({
            topic: s.name,
            numPartitions: opts.partitions,
            replicationFactor: opts.replicationFactor,
            configEntries: [
              { name: 'cleanup.policy', value: s.compacted ? 'compact' : 'delete' },
              ...(s.retentionMs ? [{ name: 'retention.ms', value: String(s.retentionMs) }] : []),
              { name: 'min.insync.replicas', value: String(Math.min(2, opts.replicationFactor)) },
            ],
          }),
        ),
      }));
      // a new topic's partitions may not be served yet right after creation: wait until each has a leader
      await retryTransient(async () => {
        const m = await admin.fetchTopicMetadata({ topics: missing.map((s) => s.name) });
        if (m.topics.some((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0))) throw new TransientTopicError('leaders not elected yet');
      });
    }
    const meta = await admin.fetchTopicMetadata({ topics: specs.filter((s) => s.coPartitioned).map((s) => s.name) });
    const counts = new Set(meta.topics.map((t) => t.partitions.length));
    if (counts.size > 1) {
      throw new Error(
        `co-partitioned topics have different partition counts: ${meta.topics.map((t) => `${t.name}=${t.partitions.length}`).join(', ')}`,
      );
    }
  } finally {
    await admin.disconnect();
  }
}

class TransientTopicError extends Error {}

const TRANSIENT = /not host this topic-partition|leader not available|not available|NOT_CONTROLLER|coordinator|timed? ?out/i;

/** Retries an admin call on the broker's transient answers just after topic creation (up to ~15 s). */
async function retryTransient<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const transient = err instanceof TransientTopicError || TRANSIENT.test(String((err as Error).message));
      if (!transient || attempt >= 60) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export interface ProducerOptions {
  /** set for a transactional producer (read-process-write); must be stable per input partition set */
  transactionalId?: string;
  transactionTimeout?: number;
  /** back-off of the (unbounded) retries, e.g. a low maxRetryTime so a send stuck in an outage resumes soon after */
  retry?: { initialRetryTime?: number; maxRetryTime?: number };
}

/** An idempotent producer (acks from all in-sync replicas, one request in flight): the only kind groupscope uses. */
export function createProducer(kafka: Kafka, opts: ProducerOptions = {}): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    transactionalId: opts.transactionalId,
    transactionTimeout: opts.transactionTimeout ?? 60000,
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    ...(opts.retry ? { retry: { ...opts.retry, retries: Number.MAX_SAFE_INTEGER } } : {}),
    // an idempotent producer keeps kafkajs' unbounded retries (bounding them breaks exactly-once);
    // callers that must answer in bounded time race their send against a deadline
  });
}

export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Sum over partitions of (high watermark - committed offset) for a consumer group on one topic. */
export async function consumerLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [committed, ends] = await Promise.all([admin.fetchOffsets({ groupId, topics: [topic] }), admin.fetchTopicOffsets(topic)]);
  const byPartition = new Map<number, string>();
  for (const p of committed[0]?.partitions ?? []) byPartition.set(p.partition, p.offset);
  let lag = 0;
  for (const e of ends) {
    const c = Number(byPartition.get(e.partition) ?? '-1');
    const high = Number(e.high);
    lag += c < 0 ? high - Number(e.low) : Math.max(0, high - c);
  }
  return lag;
}
