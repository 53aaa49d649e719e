export * from './types';
export * from './retry';
export { createKafka, createAdmin, withAdmin, consumerLag, committedOffsets, ensureTopics, isTransient, partitionCount, retryTransient } from './client';
export type { Kafka, KafkaOptions, Admin, PartitionOffsets, TopicConfig, TopicMetadata, EnsureTopicsOptions } from './client';
export * from './producer';
export * from './consumer';
export * from './changelog-reader';
export * from './dlq';
