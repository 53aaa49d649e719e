// Producing test input as the pipeline's own producers would, and reading the pipeline's output back.
import { codecs, recordMessage, type EnrichedEvent, type GroupChange, type GroupIdentifyRecord, type IngestRecord, type Topics } from '@groupscope/events';
import { createProducer, runBatchConsumer, type Kafka, type KafkaMessage, type Message, type Producer, type RunningConsumer } from '@groupscope/kafka';
import { silentLogger } from '@groupscope/logger';
import { uniqueName } from './names';

/** Publishes records with an idempotent producer, in batches, keyed and encoded by recordMessage. */
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
  /** Sends ready-made messages to one of the pipeline's topics, `batch` per request. */
  async send(topic: keyof Topics, messages: Message[], batch = 1000): Promise<void> {
    for (let i = 0; i < messages.length; i += batch) {
      await this.producer.send({ topic: this.topics[topic], acks: -1, messages: messages.slice(i, i + batch) });
    }
  }
  /** Ingest records, as the gateway publishes them. */
  ingest(records: IngestRecord[]): Promise<void> {
    return this.send('ingest', records.map((r) => recordMessage.ingest(r)), 500);
  }
  /** Group identify records, as the gateway publishes them. */
  groupIdentify(records: GroupIdentifyRecord[]): Promise<void> {
    return this.send('groupIdentify', records.map((r) => recordMessage.groupIdentify(r)), records.length || 1);
  }
  /** A record that is not a groupscope record at all (for dead-letter tests). */
  async raw(topic: string, key: string, value: Buffer): Promise<void> {
    await this.producer.send({ topic, acks: -1, messages: [{ key, value }] });
  }
}

/** A consumed record with where it came from. */
export interface ReadMessage extends KafkaMessage {
  topic: string;
  partition: number;
}

/**
 * Reads topics from their beginning in a consumer group of its own (outside any service's progress) and hands
 * every record to `onMessage`, in the order each partition delivered them; read committed, as the services read.
 */
export class TopicReader {
  private running?: RunningConsumer;
  constructor(
    private readonly kafka: Kafka,
    private readonly topics: string[],
    private readonly opts: { onMessage(m: ReadMessage): void },
  ) {}
  async start(): Promise<void> {
    this.running = await runBatchConsumer({
      kafka: this.kafka,
      groupId: uniqueName('reader'),
      topics: this.topics,
      logger: silentLogger,
      readCommitted: true,
      maxWaitTimeInMs: 100,
      handle: async (batch) => {
        for (const m of batch.messages) this.opts.onMessage({ ...m, topic: batch.topic, partition: batch.partition });
      },
    });
  }
  stop(): Promise<void> {
    return this.running?.stop() ?? Promise.resolve();
  }
}

/** Reads the enricher's outputs as the writer does: read committed, enriched events and changes decoded, dead letters as they are. */
export class OutputReader {
  readonly enriched: EnrichedEvent[] = [];
  readonly changes: GroupChange[] = [];
  readonly deadLetters: KafkaMessage[] = [];
  private readonly reader: TopicReader;
  constructor(kafka: Kafka, topics: Topics) {
    this.reader = new TopicReader(kafka, [topics.enriched, topics.groupChanges, topics.dlq], {
      onMessage: (m) => {
        if (m.topic === topics.enriched) this.enriched.push(codecs.enriched.decode(m.value!, m.headers));
        else if (m.topic === topics.groupChanges) this.changes.push(codecs.groupChange.decode(m.value!, m.headers));
        else this.deadLetters.push(m);
      },
    });
  }
  start(): Promise<void> {
    return this.reader.start();
  }
  stop(): Promise<void> {
    return this.reader.stop();
  }
  byType(eventType: string): EnrichedEvent[] {
    return this.enriched.filter((e) => e.event_type === eventType);
  }
}

/** A header's value as text. */
export const header = (m: KafkaMessage, name: string): string | undefined => m.headers?.[name]?.toString();
