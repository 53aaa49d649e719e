// A replacement for kafkajs 2.2.4's producer send loop (src/producer/sendMessages.js), installed before kafkajs
// loads its producer. The original keeps one response per *broker* across the retries of a send: when a broker dies
// and its partitions move to a broker that already answered during the same send, the retry skips them. Their
// records are never written, yet the send resolves (a 2xx from the gateway for data not stored, a committed
// transaction without its output), and since their sequence numbers were rolled back, the idempotent producer's
// next records for those partitions reuse them: the broker rejects every later send with OUT_OF_ORDER_SEQUENCE_NUMBER
// (the gateway then answers 503 until restarted) or drops it as a duplicate. (Upstream: kafkajs issue 1303, pull
// request 1798, unreleased.)
// This loop tracks acknowledgements per *partition*: a retry sends every partition not yet acknowledged to its
// current leader, with the same records as the first attempt (grouped once), so a batch the dead leader had
// appended and replicated is recognised by its sequence numbers instead of being written twice or lost. An attempt
// waits for all its requests before retrying, so no two requests for one partition are ever in flight.
/* eslint-disable @typescript-eslint/no-explicit-any -- kafkajs' internals are untyped */
const createTopicData = require('kafkajs/src/producer/createTopicData');
const responseSerializer = require('kafkajs/src/producer/responseSerializer');
const { staleMetadata } = require('kafkajs/src/protocol/error');
const { KafkaJSMetadataNotLoaded, KafkaJSError } = require('kafkajs/src/errors');

/**
 * A send's records by partition, in their order. kafkajs' own grouping copies a partition's whole list for every
 * record it appends (quadratic in the records of a send: ~1M copies for a send of 3000 records to 4 partitions),
 * which showed in the gateway's and the enricher's CPU profiles; this one appends in place.
 */
export function groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner }: { topic: string; partitionMetadata: unknown[]; messages: any[]; partitioner: any }): Record<string, any[]> {
  const out: Record<string, any[]> = {};
  if (partitionMetadata.length === 0) return out;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (out[partition] ??= []).push(message);
  }
  return out;
}

interface SendDeps {
  logger: any;
  cluster: any;
  partitioner: any;
  eosManager: any;
  retrier: (fn: (bail: (e: Error) => void, retryCount: number, retryTime: number) => Promise<unknown>) => Promise<any>;
}

interface SendRequest {
  acks: number;
  timeout?: number;
  compression?: number;
  topicMessages: { topic: string; messages: any[] }[];
}

export function createSendMessages({ logger, cluster, partitioner, eosManager, retrier }: SendDeps) {
  return async ({ acks, timeout, compression, topicMessages }: SendRequest): Promise<any[]> => {
    /** topic -> partition -> its records, fixed at the first attempt that has metadata */
    const grouped = new Map<string, Record<string, any[]>>();
    /** topic -> partition -> the broker's answer for it, once acknowledged */
    const acked = new Map<string, Map<number, any[]>>();
    const isAcked = (topic: string, partition: number) => acked.get(topic)?.has(partition) ?? false;

    const attempt = async () => {
      await cluster.refreshMetadataIfNecessary();
      const perLeader = new Map<string, { topic: string; partitions: number[]; messagesPerPartition: Record<string, any[]> }[]>();
      const pending: [string, number][] = [];
      for (const { topic, messages } of topicMessages) {
        let messagesPerPartition = grouped.get(topic);
        if (!messagesPerPartition) {
          const partitionMetadata = cluster.findTopicPartitionMetadata(topic);
          if (partitionMetadata.length === 0) throw new KafkaJSMetadataNotLoaded('Producing to topic without metadata');
          messagesPerPartition = groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner });
          grouped.set(topic, messagesPerPartition);
        }
        const open = Object.keys(messagesPerPartition).map(Number).filter((p) => !isAcked(topic, p));
        for (const p of open) pending.push([topic, p]);
        const leaders: Record<string, number[]> = cluster.findLeaderForPartitions(topic, open);
        for (const [nodeId, partitions] of Object.entries(leaders)) {
          const list = perLeader.get(nodeId) ?? [];
          list.push({ topic, partitions, messagesPerPartition });
          perLeader.set(nodeId, list);
        }
      }
      const requests = [...perLeader].map(async ([nodeId, topicDataForBroker]) => {
        const broker = await cluster.findBroker({ nodeId });
        await eosManager.acquireBrokerLock(broker);
        try {
          const topicData: { topic: string; partitions: { partition: number; messages: any[]; firstSequence?: number }[] }[] = createTopicData(topicDataForBroker);
          if (eosManager.isTransactional()) await eosManager.addPartitionsToTransaction(topicData);
          for (const { topic, partitions } of topicData) {
            for (const entry of partitions) {
              entry.firstSequence = eosManager.getSequence(topic, entry.partition);
              eosManager.updateSequence(topic, entry.partition, entry.messages.length);
            }
          }
          let response;
          try {
            response = await broker.produce({
              transactionalId: eosManager.isTransactional() ? eosManager.getTransactionalId() : undefined,
              producerId: eosManager.getProducerId(),
              producerEpoch: eosManager.getProducerEpoch(),
              acks,
              timeout,
              compression,
              topicData,
            });
          } catch (e) {
            // not acknowledged: the retry sends the same records with the same sequence numbers
            for (const { topic, partitions } of topicData) for (const entry of partitions) eosManager.updateSequence(topic, entry.partition, -entry.messages.length);
            throw e;
          }
          const answers: { topicName: string; partition: number }[] = acks !== 0 ? responseSerializer(response) : [];
          for (const { topic, partitions } of topicData) {
            const byPartition = acked.get(topic) ?? new Map<number, any[]>();
            acked.set(topic, byPartition);
            for (const { partition } of partitions) byPartition.set(partition, answers.filter((a) => a.topicName === topic && a.partition === partition));
          }
        } finally {
          await eosManager.releaseBrokerLock(broker);
        }
      });
      const results = await Promise.allSettled(requests);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      // a partition without a known leader was not sent at all
      if (pending.some(([topic, p]) => !isAcked(topic, p))) throw new KafkaJSError('Some partitions have no leader yet', { retriable: true });
      return [...acked.values()].flatMap((byPartition) => [...byPartition.values()].flat());
    };

    return retrier(async (bail, retryCount, retryTime) => {
      await cluster.addMultipleTargetTopics(topicMessages.map(({ topic }) => topic));
      try {
        return await attempt();
      } catch (e: any) {
        if (e.name === 'KafkaJSConnectionClosedError') cluster.removeBroker({ host: e.host, port: e.port });
        if (!cluster.isConnected()) {
          logger.debug(`Cluster has disconnected, reconnecting: ${e.message}`, { retryCount, retryTime });
          await cluster.connect();
          await cluster.refreshMetadata();
          throw e;
        }
        if (
          staleMetadata(e) ||
          e.name === 'KafkaJSMetadataNotLoaded' ||
          e.name === 'KafkaJSConnectionError' ||
          e.name === 'KafkaJSConnectionClosedError' ||
          (e.name === 'KafkaJSProtocolError' && e.retriable) ||
          (e.name === 'KafkaJSError' && e.retriable)
        ) {
          logger.error(`Failed to send messages: ${e.message}`, { retryCount, retryTime });
          await cluster.refreshMetadata();
          throw e;
        }
        logger.error(`${e.message}`, { retryCount, retryTime });
        if (e.retriable) throw e;
        bail(e);
      }
    });
  };
}

/** Puts createSendMessages in place of kafkajs' own; must run before kafkajs loads its producer. */
export function installSendFix(): void {
  const producerModule = require.resolve('kafkajs/src/producer/messageProducer');
  const target = require.resolve('kafkajs/src/producer/sendMessages');
  if (require.cache[target]?.exports === createSendMessages) return;
  if (require.cache[producerModule]) throw new Error('kafkajs loaded its producer before the send fix was installed');
  require(target);
  require.cache[target]!.exports = createSendMessages;
}

installSendFix();
