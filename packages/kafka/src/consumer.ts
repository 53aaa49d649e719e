// The shared batch consumer: process a batch, and only after it succeeded resolve and commit its offsets.
// Infrastructure failures stall the partition and retry with back-off; nothing is committed past unprocessed data.
import type { EachBatchPayload } from 'kafkajs';
import type { Logger } from '@groupscope/logger';
import { kafkajsOf, type Kafka } from './client';
import type { ConsumerProgress } from './progress';
import { RetryStopped, retry } from './retry';
import type { Assignment, KafkaMessage, TopicPartitionOffset } from './types';

export interface BatchContext {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  /**
   * Offset of the last record of the fetched batch, transaction markers included (it can be past the last message):
   * a handler that commits itself commits lastOffset + 1, or a read-committed consumer always lags by the marker.
   */
  lastOffset?: string;
  heartbeat(): Promise<void>;
  /** false once the consumer is stopping or the partition was revoked: long work should stop early */
  isRunning(): boolean;
}

export interface BatchConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  logger: Logger;
  /** Does the work for one batch. Throwing means: nothing committed, retry the same batch after a back-off. */
  handle(batch: BatchContext): Promise<void>;
  /**
   * When set, the service commits offsets itself: inside a Kafka transaction (sendOffsets), or later with
   * RunningConsumer.commit once the batch is durable elsewhere. The consumer then only resolves offsets locally.
   */
  handlerCommits?: boolean;
  /**
   * The group began a rebalance: this member's partitions are about to be taken away (all of them: the assignment
   * is eager). Work in progress for them will not be committed by this member.
   */
  onRevoked?(): void;
  /** The group finished a rebalance: the partitions this member now owns; consumption resumes from their commits. */
  onAssigned?(assignment: Assignment): void;
  /** After each batch, with the partition's lag behind its high watermark. */
  onBatchDone?(info: { topic: string; partition: number; offsetLag: number }): void;
  fromBeginning?: boolean;
  /** read only committed records of transactional producers (default true) */
  readCommitted?: boolean;
  maxBytesPerPartition?: number;
  minBytes?: number;
  maxWaitTimeInMs?: number;
  sessionTimeout?: number;
  partitionsConsumedConcurrently?: number;
  maxRetryDelayMs?: number;
  onCrash?(err: Error): void;
  /**
   * Told of each handled batch (progress), each failed attempt (reason "handler") and each partition's lag, so the
   * service can report a stall. A service that commits later (the writer) reports its own progress instead.
   */
  progress?: ConsumerProgress;
}

export interface RunningConsumer {
  /** Commits offsets (the next record to read per partition) of partitions this member owns. */
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  stop(): Promise<void>;
}

export async function runBatchConsumer(opts: BatchConsumerOptions): Promise<RunningConsumer> {
  const log = opts.logger.child({ module: 'batch_consumer', group: opts.groupId });
  const consumer = kafkajsOf(opts.kafka).consumer({
    groupId: opts.groupId,
    readUncommitted: opts.readCommitted === false,
    sessionTimeout: opts.sessionTimeout ?? 30000,
    heartbeatInterval: 3000,
    maxBytesPerPartition: opts.maxBytesPerPartition ?? 4 * 1024 * 1024,
    minBytes: opts.minBytes ?? 1,
    maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 500,
    allowAutoTopicCreation: false,
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10000 },
  });
  let stopping = false;
  consumer.on(consumer.events.CRASH, (e) => {
    const err = e.payload.error;
    log.error({ err, restart: e.payload.restart }, 'consumer_crashed');
    if (!e.payload.restart) opts.onCrash?.(err);
  });
  if (opts.onRevoked) consumer.on(consumer.events.REBALANCING, () => opts.onRevoked!());
  if (opts.onAssigned || opts.progress) {
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      opts.progress?.reset();
      opts.onAssigned?.({ ...e.payload.memberAssignment });
    });
  }
  if (opts.onBatchDone || opts.progress) {
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      const info = { topic: e.payload.topic, partition: e.payload.partition, offsetLag: Number(e.payload.offsetLag) };
      opts.progress?.setLag(info.topic, info.partition, info.offsetLag);
      opts.onBatchDone?.(info);
    });
  }
  await consumer.connect();
  for (const topic of opts.topics) await consumer.subscribe({ topic, fromBeginning: opts.fromBeginning ?? true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
    eachBatch: async (payload: EachBatchPayload) => {
      const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload;
      if (batch.messages.length === 0) return;
      const ctx: BatchContext = {
        topic: batch.topic,
        partition: batch.partition,
        messages: batch.messages,
        lastOffset: batch.lastOffset(),
        heartbeat,
        isRunning: () => isRunning() && !isStale() && !stopping,
      };
      try {
        await retry(() => opts.handle(ctx), {
          initialMs: 200,
          maxMs: opts.maxRetryDelayMs ?? 10000,
          stopped: () => !ctx.isRunning(),
          onRetry: (err, attempt, delay) => {
            opts.progress?.failed('handler', `${batch.topic}:${batch.partition}`);
            log.warn({ err, topic: batch.topic, partition: batch.partition, attempt, retry_in_ms: delay }, 'batch_failed_retrying');
          },
          // keep the group membership alive while waiting, and stop waiting once the partition is gone
          sleep: async (ms) => {
            const until = Date.now() + ms;
            while (Date.now() < until && ctx.isRunning()) {
              await new Promise((r) => setTimeout(r, Math.min(500, until - Date.now())));
              await heartbeat().catch(() => undefined);
            }
          },
        });
      } catch (err) {
        if (err instanceof RetryStopped) return; // revoked or stopping: the next owner starts from the last commit
        throw err;
      }
      resolveOffset(batch.lastOffset());
      if (!opts.handlerCommits) {
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() },
        ]);
      }
      opts.progress?.progressed(`${batch.topic}:${batch.partition}`);
      await heartbeat();
    },
  });
  return {
    commit: (offsets) => consumer.commitOffsets(offsets),
    async stop() {
      stopping = true;
      await consumer.disconnect();
    },
  };
}
