// Shared by the writer's integration tests and bench: record builders, a producer of writer input, and config.
import { randomUUID } from 'node:crypto';
import { codecs, groupKey, userKey, type EnrichedEvent, type GroupChange, type Topics } from '@groupscope/events';
import { createProducer, withAdmin, type Kafka, type Message, type Producer } from '@groupscope/kafka';
import { loadWriterConfig, type WriterConfig } from './config';

const BASE = Date.UTC(2026, 10, 2, 9, 0, 0);

/** An enriched event of user u<i % users> with `groups` company values and their property snapshots. */
export function enrichedEvent(i: number, o: Partial<EnrichedEvent> = {}): EnrichedEvent {
  const company = `c${i % 7}`;
  const team = `t${i % 3}`;
  return {
    project_id: 1,
    uuid: randomUUID(),
    receive_time: BASE + i * 1000 + 50,
    event_time: BASE + i * 1000,
    event_type: ['Page Viewed', 'Invoice Sent', 'Report Exported'][i % 3]!,
    user_id: `u${i % 11}`,
    device_id: null,
    insert_id: `ins-${i}`,
    session_id: null,
    event_id: i,
    event_properties: JSON.stringify({ amount: i % 500, page: `/p/${i % 5}` }),
    user_properties: JSON.stringify({ role: i % 2 ? 'admin' : 'member' }),
    groups: { company: [company], team: [team] },
    group_properties: [
      { group_type: 'company', group_value: company, properties: JSON.stringify({ plan: ['free', 'pro'][i % 2], seats: i % 50 }) },
      { group_type: 'team', group_value: team, properties: '{}' },
    ],
    context: { platform: 'Web' },
    revenue: i % 4 === 0 ? i / 10 : null,
    price: null,
    quantity: null,
    location_lat: null,
    location_lng: null,
    extra: '{}',
    ...o,
  };
}

export function groupChange(i: number, o: Partial<GroupChange> = {}): GroupChange {
  return {
    project_id: 1,
    group_type: 'company',
    group_value: `g${i}`,
    event_time: BASE + i * 1000,
    receive_time: BASE + i * 1000 + 20,
    properties: JSON.stringify({ plan: 'pro', seats: i }),
    changed: ['plan', 'seats'],
    removed: [],
    source_uuid: randomUUID(),
    ...o,
  };
}

export function eventMessage(e: EnrichedEvent): Message {
  return { key: userKey(e.project_id, e.user_id, e.device_id), value: codecs.enriched.encode(e), headers: codecs.enriched.headers() };
}

export function changeMessage(c: GroupChange): Message {
  return { key: groupKey(c.project_id, c.group_type, c.group_value), value: codecs.groupChange.encode(c), headers: codecs.groupChange.headers() };
}

/** Publishes writer input as the enricher would (idempotent producer), in batches. */
export class InputProducer {
  private readonly producer: Producer;
  constructor(kafka: Kafka, private readonly topics: Topics) {
    this.producer = createProducer(kafka);
  }
  connect() {
    return this.producer.connect();
  }
  disconnect() {
    return this.producer.disconnect();
  }
  async send(topic: 'enriched' | 'groupChanges', messages: Message[], batch = 1000): Promise<void> {
    for (let i = 0; i < messages.length; i += batch) {
      await this.producer.send({ topic: this.topics[topic], acks: -1, messages: messages.slice(i, i + batch) });
    }
  }
}

/** Offsets the consumer group committed on a topic, by partition (-1: none). */
export async function committedOffsets(kafka: Kafka, groupId: string, topic: string): Promise<Map<number, number>> {
  return withAdmin(kafka, async (admin) => {
    const [res] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((res?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  });
}

export function testWriterConfig(env: Record<string, string>): WriterConfig {
  return loadWriterConfig({ WRITER_PORT: '0', LOG_LEVEL: 'silent', KAFKA_PARTITIONS: '2', ...env });
}
