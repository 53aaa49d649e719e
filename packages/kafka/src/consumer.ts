// The shared batch consumer: process a batch, and only after it succeeded resolve and commit its offsets.
// Infrastructure failures stall the partition and retry with back-off; nothing is committed past unprocessed data.
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '@groupscope/logger';

export type { KafkaMessage, Consumer };

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
   * When set, the handler commits offsets itself (e.g. inside a Kafka transaction with sendOffsets);
   * the consumer then only resolves offsets locally.
   */
  handlerCommits?: boolean;
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
}

export interface RunningConsumer {
  consumer: Consumer;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runBatchConsumer(opts: BatchConsumerOptions): Promise<RunningConsumer> {
  const log = opts.logger.child({ module: 'batch_consumer', group: opts.groupId });
  const consumer = opts.kafka.consumer({
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
  await consumer.connect();
  for (const topic of opts.topics) await consumer.subscribe({ topic, fromBeginning: opts.fromBeginning ?? true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
    eachBatch: async (payload: EachBatchPayload) => {
      const { batch, heartbeat, isRunning, isStale, resolveOffset, commitOffsetsIfNecessary } = payload;
      if (batch.messages.length === 0) return;
      const ctx: BatchContext = {
        topic: batch.topic,
        partition: batch.partition,
        messages: batch.messages,
        lastOffset: batch.lastOffset(),
        heartbeat,
        isRunning: () => isRunning() && !isStale() && !stopping,
      };
      let delay = 200;
      for (let attempt = 1; ; attempt++) {
        if (!ctx.isRunning()) return; // revoked or stopping: the next owner starts from the last commit
        try {
          await opts.handle(ctx);
          break;
        } catch (err) {
          log.warn({ err, topic: batch.topic, partition: batch.partition, attempt, retry_in_ms: delay }, 'batch_failed_retrying');
          const until = Date.now() + delay;
          while (Date.now() < until && ctx.isRunning()) {
            await sleep(Math.min(500, until - Date.now()));
            await heartbeat().catch(() => undefined);
          }
          delay = Math.min(delay * 2, opts.maxRetryDelayMs ?? 10000);
        }
      }
      resolveOffset(batch.lastOffset());
      if (!opts.handlerCommits) {
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() },
        ]);
      } else {
        void commitOffsetsIfNecessary; // the handler committed inside its transaction
      }
      await heartbeat();
    },
  });
  return {
    consumer,
    async stop() {
      stopping = true;
      await consumer.disconnect();
    },
  };
}
