// Producers: always idempotent (acks from every in-sync replica, one request in flight), optionally
// transactional for read-process-write stages.
// first: replaces kafkajs' producer send loop before kafkajs loads it (see the file)
import './kafkajs-send-fix';
import { Partitioners, type Producer as KafkaJsProducer, type Transaction as KafkaJsTransaction } from 'kafkajs';
import { kafkajsOf, type Kafka } from './client';
import type { Message, TopicMessages } from './types';

export interface ProducerOptions {
  /** set for a transactional producer (read-process-write); must be stable per input partition set */
  transactionalId?: string;
  transactionTimeout?: number;
  /**
   * back-off of the retries, e.g. a low maxRetryTime so a send stuck in an outage resumes soon after; unbounded
   * unless `retries` is given (a transactional producer may bound them: its caller retries the whole transaction)
   */
  retry?: { initialRetryTime?: number; maxRetryTime?: number; retries?: number };
}

/** What a producer and a transaction both send with. Every send waits for all in-sync replicas. */
export interface Sender {
  send(req: { topic: string; messages: Message[]; acks?: -1 }): Promise<unknown>;
  sendBatch(req: { topicMessages: TopicMessages[]; acks?: -1 }): Promise<unknown>;
}

export interface Producer extends Sender {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Starts a transaction (transactional producers only); the first call also fences older producers of the id. */
  transaction(): Promise<Transaction>;
}

export interface Transaction extends Sender {
  /** Commits consumer offsets as part of the transaction: they count only if it commits. */
  sendOffsets(req: { consumerGroupId: string; topics: { topic: string; partitions: { partition: number; offset: string }[] }[] }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  isActive(): boolean;
}

function senderOf(s: KafkaJsProducer | KafkaJsTransaction): Sender {
  return {
    send: (req) => s.send({ topic: req.topic, messages: req.messages, acks: -1 }),
    sendBatch: (req) => s.sendBatch({ topicMessages: req.topicMessages, acks: -1 }),
  };
}

function transactionOf(tx: KafkaJsTransaction): Transaction {
  return {
    ...senderOf(tx),
    sendOffsets: (req) => tx.sendOffsets(req),
    commit: () => tx.commit(),
    abort: () => tx.abort(),
    isActive: () => tx.isActive(),
  };
}

export function createProducer(kafka: Kafka, opts: ProducerOptions = {}): Producer {
  const producer = kafkajsOf(kafka).producer({
    idempotent: true,
    maxInFlightRequests: 1,
    transactionalId: opts.transactionalId,
    transactionTimeout: opts.transactionTimeout ?? 60000,
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    ...(opts.retry ? { retry: { ...opts.retry, retries: opts.retry.retries ?? Number.MAX_SAFE_INTEGER } } : {}),
    // an idempotent producer keeps kafkajs' unbounded retries (bounding them breaks exactly-once);
    // callers that must answer in bounded time race their send against a deadline
  });
  return {
    ...senderOf(producer),
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    transaction: async () => transactionOf(await producer.transaction()),
  };
}

