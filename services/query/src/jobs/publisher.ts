// Publishes group identifies written by the query service's jobs (dynamic group properties, the Salesforce sync) to
// the groupIdentify topic: the same path as an API group identify, so the enricher applies the operations, stamps
// later events and emits the change for property history. publish() resolves only once Kafka acknowledged every
// record (acks from all in-sync replicas), so a job may then record its progress.
// The producer connects lazily; if Kafka does not answer within the deadline the caller gets KafkaUnavailableError
// (the HTTP layer turns it into 503) and the next publish starts from a fresh producer.
import { recordMessage, topicNames, type GroupIdentifyRecord } from '@groupscope/events';
import { createKafka, createProducer, type Kafka, type Producer } from '@groupscope/kafka';
import type { Logger } from '@groupscope/logger';
import { Counter } from 'prom-client';

export class KafkaUnavailableError extends Error {}

export interface GroupIdentifyPublisher {
  publish(records: readonly GroupIdentifyRecord[]): Promise<void>;
  close(): Promise<void>;
}

const published = new Counter({
  name: 'groupscope_query_group_identifies_published_total',
  help: 'Group identifies published by the query service, by source (dynamic_property, salesforce)',
  labelNames: ['source'] as const,
});

export interface KafkaPublisherOptions {
  brokers: string[];
  clientId: string;
  topicPrefix: string;
  logger: Logger;
  /** how long a publish may wait for Kafka before giving up (ms) */
  timeoutMs?: number;
  /** messages per produce request */
  chunk?: number;
}

export function kafkaPublisher(opts: KafkaPublisherOptions): GroupIdentifyPublisher {
  const log = opts.logger.child({ module: 'group_identify_publisher' });
  const topic = topicNames(opts.topicPrefix).groupIdentify;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const chunk = opts.chunk ?? 1000;
  let kafka: Kafka | undefined;
  let producer: Promise<Producer> | undefined;

  const discard = () => {
    const p = producer;
    producer = undefined;
    p?.then((x) => x.disconnect()).catch(() => undefined);
  };

  const connected = (): Promise<Producer> => {
    if (!producer) {
      kafka ??= createKafka({ brokers: opts.brokers, clientId: `${opts.clientId}-query`, logger: log, connectionTimeout: 3000, requestTimeout: timeoutMs });
      const p = createProducer(kafka, { retry: { initialRetryTime: 200, maxRetryTime: 2000 } });
      producer = p.connect().then(() => p);
      producer.catch(() => undefined); // observed by the caller's race
    }
    return producer;
  };

  async function withDeadline<T>(what: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new KafkaUnavailableError(`Kafka did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([what, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async publish(records) {
      if (records.length === 0) return;
      try {
        const p = await withDeadline(connected());
        for (let i = 0; i < records.length; i += chunk) {
          const messages = records.slice(i, i + chunk).map((r) => recordMessage.groupIdentify(r));
          await withDeadline(p.send({ topic, messages, acks: -1 }));
          const bySource = new Map<string, number>();
          for (const r of records.slice(i, i + chunk)) bySource.set(r.source, (bySource.get(r.source) ?? 0) + 1);
          for (const [source, n] of bySource) published.inc({ source }, n);
        }
      } catch (err) {
        discard();
        log.warn({ err, topic }, 'group_identify_publish_failed');
        if (err instanceof KafkaUnavailableError) throw err;
        throw new KafkaUnavailableError(`Kafka unavailable: ${(err as Error).message}`);
      }
    },
    async close() {
      const p = producer;
      producer = undefined;
      if (p) await p.then((x) => x.disconnect()).catch(() => undefined);
    },
  };
}
