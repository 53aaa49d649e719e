// Shared by the enricher's integration tests: record builders, a producer of input records, and a
// read-committed reader of everything the enricher publishes.
import { randomUUID } from 'node:crypto';
import {
  codecs,
  groupKey,
  newIngestRecord,
  userKey,
  type EnrichedEvent,
  type GroupChange,
  type GroupIdentifyRecord,
  type IngestRecord,
  type Topics,
} from '@groupscope/events';
import { createProducer, runBatchConsumer, type Kafka, type KafkaMessage, type Producer, type RunningConsumer } from '@groupscope/kafka';
import { silentLogger } from '@groupscope/logger';
import { uniqueName, type TestKafka } from '@groupscope/testing';
import { retrying } from './changelog-reader';

export function ingestRecord(o: Partial<IngestRecord> = {}): IngestRecord {
  const now = Date.now();
  return newIngestRecord({ project_id: 1, uuid: randomUUID(), receive_time: now, event_time: now, event_type: 'Page Viewed', user_id: 'alice', ...o });
}

export const identifyRecord = (o: Partial<IngestRecord>) => ingestRecord({ kind: 'identify', event_type: '$identify', ...o });

export function groupIdentifyRecord(o: Partial<GroupIdentifyRecord> = {}): GroupIdentifyRecord {
  const now = Date.now();
  return {
    project_id: 1,
    uuid: randomUUID(),
    receive_time: now,
    event_time: now,
    group_type: 'org',
    group_value: 'acme',
    group_properties: '{}',
    source: 'api',
    user_id: null,
    device_id: null,
    insert_id: null,
    ...o,
  };
}

/** Publishes input records as the gateway does (idempotent producer, key = user or group key). */
export class InputProducer {
  private readonly producer: Producer;
  constructor(
    kafka: Kafka,
    private readonly topics: Topics,
  ) {
    this.producer = createProducer(kafka);
  }
  connect() {
    return this.producer.connect();
  }
  disconnect() {
    return this.producer.disconnect();
  }
  async ingest(records: IngestRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += 500) {
      await this.producer.send({
        topic: this.topics.ingest,
        acks: -1,
        messages: records.slice(i, i + 500).map((r) => ({ key: userKey(r.project_id, r.user_id, r.device_id), value: codecs.ingest.encode(r), headers: codecs.ingest.headers() })),
      });
    }
  }
  async groupIdentify(records: GroupIdentifyRecord[]): Promise<void> {
    await this.producer.send({
      topic: this.topics.groupIdentify,
      acks: -1,
      messages: records.map((r) => ({ key: groupKey(r.project_id, r.group_type, r.group_value), value: codecs.groupIdentify.encode(r), headers: codecs.groupIdentify.headers() })),
    });
  }
  async raw(topic: string, key: string, value: Buffer): Promise<void> {
    await this.producer.send({ topic, acks: -1, messages: [{ key, value }] });
  }
}

/** Reads the enricher's outputs as the writer will: a read-committed consumer. */
export class OutputReader {
  readonly enriched: EnrichedEvent[] = [];
  readonly changes: GroupChange[] = [];
  readonly deadLetters: KafkaMessage[] = [];
  private running?: RunningConsumer;
  constructor(
    private readonly kafka: Kafka,
    private readonly topics: Topics,
  ) {}
  async start(): Promise<void> {
    this.running = await runBatchConsumer({
      kafka: this.kafka,
      groupId: uniqueName('reader'),
      topics: [this.topics.enriched, this.topics.groupChanges, this.topics.dlq],
      logger: silentLogger,
      readCommitted: true,
      maxWaitTimeInMs: 100,
      handle: async (batch) => {
        for (const m of batch.messages) {
          if (batch.topic === this.topics.enriched) this.enriched.push(codecs.enriched.decode(m.value!, m.headers));
          else if (batch.topic === this.topics.groupChanges) this.changes.push(codecs.groupChange.decode(m.value!, m.headers));
          else this.deadLetters.push(m);
        }
      },
    });
  }
  stop(): Promise<void> {
    return this.running?.stop() ?? Promise.resolve();
  }
  byType(eventType: string): EnrichedEvent[] {
    return this.enriched.filter((e) => e.event_type === eventType);
  }
}

export const header = (m: KafkaMessage, name: string): string | undefined => m.headers?.[name]?.toString();

/** Creates the test's topics; a broker busy with other suites' topics may need a second try. */
export const ensureTestTopics = (t: TestKafka, partitions: number) => retrying(() => t.ensureTopics(partitions));
