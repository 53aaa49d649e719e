// The plain data this package hands in and out: what callers build to produce, and what they get when consuming.
// Declared here so no kafkajs type reaches a caller.

/** Record headers: a name to one value or several. */
export type Headers = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** A record to produce. */
export interface Message {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  /** an explicit partition; otherwise the key's hash chooses */
  partition?: number;
  headers?: Headers;
  timestamp?: string;
}

/** A record as consumed. */
export interface KafkaMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Headers;
  offset: string;
  timestamp: string;
}

/** Messages for one topic of a multi-topic send. */
export interface TopicMessages {
  topic: string;
  messages: Message[];
}

/** A position to commit: the offset of the next record to read. */
export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

/** Partitions of each topic, e.g. a consumer's assignment. */
export type Assignment = Record<string, number[]>;
