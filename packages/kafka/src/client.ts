// The Kafka connection, the admin calls groupscope makes, and topic creation. Callers get this package's own
// interfaces; the kafkajs objects behind them stay inside the package.
// first: replaces kafkajs' producer send loop before kafkajs loads it (see the file)
import './kafkajs-send-fix';
import { Kafka as KafkaJs, logLevel, type Admin as KafkaJsAdmin, type LogEntry, type ITopicConfig } from 'kafkajs';
import type { Logger } from '@groupscope/logger';
import type { TopicSpec } from '@groupscope/events';
import { retry } from './retry';

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** how long a request may take before kafkajs gives up on it (ms) */
  requestTimeout?: number;
  connectionTimeout?: number;
}

/** A connection to a Kafka cluster: pass it to this package's functions (producers, consumers, admin calls). */
export interface Kafka {
  readonly clientId: string;
  readonly brokers: readonly string[];
}

const clients = new WeakMap<Kafka, KafkaJs>();

/** The kafkajs client behind a handle (package-internal). */
export function kafkajsOf(kafka: Kafka): KafkaJs {
  const k = clients.get(kafka);
  if (!k) throw new Error('not a Kafka handle made by createKafka');
  return k;
}

const levelNames: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * The level a kafkajs log entry is logged at: kafkajs logs coordinator loading, rebalances, leader moves and the
 * broker's "concurrent transactions" refusals at ERROR although it retries them itself, so those are debug. The
 * reason is in `error` for most entries, in the message for the producer's "Failed to send messages: ...".
 */
export function kafkajsLevel(level: number, message: string, error: unknown): 'error' | 'warn' | 'info' | 'debug' {
  const reason = `${message} ${typeof error === 'string' ? error : ''}`;
  if (/coordinator|rebalanc|leader|not available|concurrent/i.test(reason)) return 'debug';
  return levelNames[level] ?? 'info';
}

export function createKafka(opts: KafkaOptions): Kafka {
  const log = opts.logger.child({ module: 'kafkajs' });
  const kafka = new KafkaJs({
    clientId: opts.clientId,
    brokers: opts.brokers,
    requestTimeout: opts.requestTimeout ?? 30000,
    connectionTimeout: opts.connectionTimeout ?? 3000,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        const name = kafkajsLevel(level, message, rest.error);
        log[name]({ kafkajs: rest }, `kafkajs: ${message}`);
      },
  });
  const handle: Kafka = {
    clientId: opts.clientId,
    brokers: [...opts.brokers],
  };
  clients.set(handle, kafka);
  return handle;
}

// ---- admin

export interface PartitionOffsets {
  partition: number;
  /** the next offset to be written (last stable offset for a read-committed reader) */
  high: string;
  low: string;
  offset: string;
}

export interface TopicConfig {
  topic: string;
  numPartitions?: number;
  replicationFactor?: number;
  configEntries?: { name: string; value: string }[];
}

export interface TopicMetadata {
  name: string;
  partitions: { partitionId: number; leader: number }[];
}

/** The admin calls groupscope makes, with plain data in and out. */
export interface Admin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  listTopics(): Promise<string[]>;
  createTopics(opts: { topics: TopicConfig[]; waitForLeaders?: boolean }): Promise<boolean>;
  deleteTopics(opts: { topics: string[] }): Promise<void>;
  fetchTopicMetadata(opts: { topics: string[] }): Promise<{ topics: TopicMetadata[] }>;
  /** start and end of every partition of a topic */
  fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** a consumer group's committed offsets ('-1': none) */
  fetchOffsets(opts: { groupId: string; topics: string[] }): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
  /** resolves while the cluster answers */
  describeCluster(): Promise<{ clusterId: string; controller: number | null; brokers: { nodeId: number; host: string; port: number }[] }>;
  /** a consumer group's state (Empty, Stable, PreparingRebalance, Dead, ...) and how many members it has */
  describeGroup(groupId: string): Promise<{ state: string; members: number }>;
  /** moves a consumer group's committed offsets; Kafka refuses it while the group has members */
  setOffsets(opts: { groupId: string; topic: string; partitions: { partition: number; offset: string }[] }): Promise<void>;
}

function adminOf(admin: KafkaJsAdmin): Admin {
  return {
    connect: () => admin.connect(),
    disconnect: () => admin.disconnect(),
    listTopics: () => admin.listTopics(),
    createTopics: (o) => admin.createTopics(o as { topics: ITopicConfig[]; waitForLeaders?: boolean }),
    deleteTopics: (o) => admin.deleteTopics(o),
    fetchTopicMetadata: async (o) => {
      const m = await admin.fetchTopicMetadata(o);
      return { topics: m.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionId: p.partitionId, leader: p.leader })) })) };
    },
    fetchTopicOffsets: (topic) => admin.fetchTopicOffsets(topic),
    fetchOffsets: async (o) => (await admin.fetchOffsets(o)).map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, offset: p.offset })) })),
    describeCluster: () => admin.describeCluster(),
    describeGroup: async (groupId) => {
      const { groups } = await admin.describeGroups([groupId]);
      const g = groups[0];
      return { state: g?.state ?? 'Dead', members: g?.members.length ?? 0 };
    },
    setOffsets: (o) => admin.setOffsets(o),
  };
}

/**
 * An admin client; connect it before use. `retries: 0` makes a call fail at once when the cluster does not answer
 * (a readiness probe), instead of kafkajs' own retries.
 */
export function createAdmin(kafka: Kafka, opts: { retries?: number } = {}): Admin {
  return adminOf(kafkajsOf(kafka).admin(opts.retries === undefined ? undefined : { retry: { retries: opts.retries } }));
}

export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = createAdmin(kafka);
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

/** The number of partitions of a topic. */
export async function partitionCount(kafka: Kafka, topic: string): Promise<number> {
  const meta = await withAdmin(kafka, (admin) => retryTransient(() => admin.fetchTopicMetadata({ topics: [topic] })));
  const n = meta.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
  if (n === 0) throw new Error(`topic ${topic} has no partitions`);
  return n;
}

/** Committed offsets of a consumer group on one topic, by partition (-1: none). */
export async function committedOffsets(kafka: Kafka, groupId: string, topic: string): Promise<Map<number, number>> {
  const [res] = await withAdmin(kafka, (admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
  return new Map((res?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
}

// ---- transient broker errors

const TRANSIENT = /not host this topic-partition|leader not available|not available|NOT_CONTROLLER|coordinator|timed? ?out|leader|not host/i;

/**
 * Whether a broker call failed for a reason that passes by itself: a partition leader moving, a topic created a
 * moment ago and not yet known to every part of the broker, a coordinator loading.
 */
export function isTransient(err: unknown): boolean {
  return (err as { retriable?: boolean }).retriable === true || err instanceof TransientTopicError || TRANSIENT.test(String((err as Error)?.message));
}

class TransientTopicError extends Error {}

/** Retries a broker call while it fails for a transient reason (up to `attempts`, 0.2 to 2 s apart). */
export function retryTransient<T>(fn: () => Promise<T>, attempts = 8): Promise<T> {
  return retry(fn, { attempts, initialMs: 200, maxMs: 2000, retriable: isTransient });
}

// ---- topics

export interface EnsureTopicsOptions {
  partitions: number;
  replicationFactor: number;
}

/**
 * Creates the topics that do not exist yet; existing ones are left alone (their settings too). Each set of
 * co-partitioned topics must share one partition count, or state would not sit on the same partition number as the
 * records it belongs to: that is checked.
 */
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[], opts: EnsureTopicsOptions): Promise<void> {
  await withAdmin(kafka, async (admin) => {
    // just after creation a broker answers some calls with transient errors for a few seconds
    const settling = { attempts: 60, initialMs: 250, maxMs: 250, retriable: isTransient };
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    if (missing.length > 0) {
      await retry(
        () =>
          admin.createTopics({
            waitForLeaders: true,
            topics: missing.map((s) => ({
              topic: s.name,
              numPartitions: opts.partitions,
              replicationFactor: opts.replicationFactor,
              configEntries: [
                { name: 'cleanup.policy', value: s.compacted ? 'compact' : 'delete' },
                ...(s.retentionMs ? [{ name: 'retention.ms', value: String(s.retentionMs) }] : []),
                ...(s.segmentMs ? [{ name: 'segment.ms', value: String(s.segmentMs) }] : []),
                { name: 'min.insync.replicas', value: String(Math.min(2, opts.replicationFactor)) },
              ],
            })),
          }),
        settling,
      );
      // a new topic's partitions may not be served yet right after creation: wait until each has a leader
      await retry(async () => {
        const m = await admin.fetchTopicMetadata({ topics: missing.map((s) => s.name) });
        if (m.topics.some((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0))) throw new TransientTopicError('leaders not elected yet');
      }, settling);
    }
    const coPartitioned = specs.filter((s) => s.coPartition);
    const meta = await admin.fetchTopicMetadata({ topics: coPartitioned.map((s) => s.name) });
    const count = new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
    for (const set of new Set(coPartitioned.map((s) => s.coPartition))) {
      const members = coPartitioned.filter((s) => s.coPartition === set);
      if (new Set(members.map((s) => count.get(s.name))).size > 1) {
        throw new Error(`co-partitioned topics have different partition counts: ${members.map((s) => `${s.name}=${count.get(s.name)}`).join(', ')}`);
      }
    }
  });
}
