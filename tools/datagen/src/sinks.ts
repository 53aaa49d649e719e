// Where generated records go: the gateway's HTTP API (/batch, as an SDK would send them), Kafka directly
// (IngestRecord / GroupIdentifyRecord, as the gateway would write them; for volumes HTTP is too slow for), or
// ClickHouse directly (rows as the writer would insert them; for benchmarks).
import { insertEventLines, insertLines, type ClickHouse } from '@groupscope/clickhouse';
import { recordMessage, topicNames } from '@groupscope/events';
import { createKafka, createProducer, type Message } from '@groupscope/kafka';
import type { Logger } from '@groupscope/logger';
import { COLUMNS } from '@groupscope/schema';
import type { GenRecord } from './model';
import { groupIdentifyRecord, ingestRecord } from './records';
import { emptyBatch, Stamper, type Batch } from './stamp';

export { groupIdentifyRecord, ingestRecord } from './records';

export interface Counts {
  events: number;
  identifies: number;
  groupIdentifies: number;
}

const count = (c: Counts, r: GenRecord) => {
  if (r.kind === 'event') c.events++;
  else if (r.kind === 'identify') c.identifies++;
  else c.groupIdentifies++;
};

/** The record as an Amplitude HTTP API event (what an SDK sends to /batch). */
export function httpEvent(r: GenRecord): Record<string, unknown> {
  switch (r.kind) {
    case 'event':
      return { event_type: r.eventType, user_id: r.userId, time: r.time, insert_id: r.insertId, event_properties: r.eventProperties, platform: 'Web', ...(r.groups ? { groups: r.groups } : {}) };
    case 'identify':
      return { event_type: '$identify', user_id: r.userId, time: r.time, user_properties: { $set: r.userProperties }, groups: r.groups };
    case 'group':
      return { event_type: '$groupidentify', device_id: 'groupscope-generator', time: r.time, groups: { [r.groupType]: r.groupValue }, group_properties: { $set: r.properties } };
  }
}

export interface GatewayOptions {
  /** the gateway's base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  apiKey: string;
  /** events per /batch request (the API allows 2000) */
  batchSize?: number;
  /**
   * Pause after sending group identifies, before the records after them. Group identifies and events travel on
   * different topics, and a group change applies to events the enricher processes after it: when a whole month
   * is sent in seconds, a pause keeps later events from overtaking the change that precedes them.
   */
  pauseAfterGroupsMs?: number;
  logger?: Logger;
}

/** Sends records to the gateway in /batch requests, in order; retries 429 and 5xx replies with back-off. */
export async function toGateway(records: Iterable<GenRecord>, opts: GatewayOptions): Promise<Counts> {
  const counts: Counts = { events: 0, identifies: 0, groupIdentifies: 0 };
  const size = Math.min(2000, opts.batchSize ?? 1000);
  let batch: Record<string, unknown>[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const body = JSON.stringify({ api_key: opts.apiKey, events: batch });
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${opts.url.replace(/\/$/, '')}/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).catch((err: Error) => err);
      if (!(res instanceof Error) && res.ok) break;
      const status = res instanceof Error ? 0 : res.status;
      const detail = res instanceof Error ? res.message : (await res.text()).slice(0, 300);
      if ((status !== 0 && status !== 429 && status < 500) || attempt >= 8) throw new Error(`gateway replied ${status || 'nothing'}: ${detail}`);
      opts.logger?.warn({ status, attempt }, 'generator_batch_retry');
      await new Promise((r) => setTimeout(r, Math.min(10_000, 250 * 2 ** attempt)));
    }
    batch = [];
  };
  let groupsPending = false;
  for (const r of records) {
    // group identifies travel on their own topic: send them in a request before the records that follow them
    if (groupsPending && r.kind !== 'group') {
      await flush();
      if (opts.pauseAfterGroupsMs) await new Promise((res) => setTimeout(res, opts.pauseAfterGroupsMs));
    }
    groupsPending = r.kind === 'group';
    batch.push(httpEvent(r));
    count(counts, r);
    if (batch.length >= size) await flush();
  }
  await flush();
  return counts;
}

export interface KafkaOptions {
  brokers: string[];
  topicPrefix: string;
  projectId: number;
  logger: Logger;
  batchSize?: number;
}

/** Produces records straight to the ingest and group-identify topics, keyed as the gateway keys them. */
export async function toKafka(records: Iterable<GenRecord>, opts: KafkaOptions): Promise<Counts> {
  const counts: Counts = { events: 0, identifies: 0, groupIdentifies: 0 };
  const topics = topicNames(opts.topicPrefix);
  const kafka = createKafka({ brokers: opts.brokers, clientId: 'groupscope-generator', logger: opts.logger });
  const producer = createProducer(kafka);
  await producer.connect();
  const size = opts.batchSize ?? 2000;
  let ingest: Message[] = [];
  let groups: Message[] = [];
  // group identifies go first when both are pending, so a change is in Kafka before the events after it
  const flush = async () => {
    if (groups.length > 0) await producer.send({ topic: topics.groupIdentify, acks: -1, messages: groups });
    if (ingest.length > 0) await producer.send({ topic: topics.ingest, acks: -1, messages: ingest });
    ingest = [];
    groups = [];
  };
  try {
    for (const r of records) {
      const now = Date.now();
      count(counts, r);
      if (r.kind === 'group') groups.push(recordMessage.groupIdentify(groupIdentifyRecord(r, opts.projectId, now)));
      else ingest.push(recordMessage.ingest(ingestRecord(r, opts.projectId, now)));
      if (ingest.length + groups.length >= size) await flush();
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  return counts;
}

export interface ClickHouseSinkOptions {
  projectId: number;
  /** events per insert */
  batchEvents?: number;
  onBatch?(counts: Counts): void;
}

/**
 * Inserts the rows the pipeline would have written: events, event_groups, groups, group_property_history, encoded
 * by the writer's mapping and inserted with the writer's statements.
 */
export async function toClickHouse(ch: ClickHouse, records: Iterable<GenRecord>, opts: ClickHouseSinkOptions): Promise<Counts> {
  const counts: Counts = { events: 0, identifies: 0, groupIdentifies: 0 };
  const stamper = new Stamper(opts.projectId);
  const size = opts.batchEvents ?? 200_000;
  const flush = async (b: Batch) => {
    const events = b.events.body();
    await insertEventLines(ch, 'events', events);
    await insertEventLines(ch, 'event_groups', events);
    await insertLines(ch, 'groups', COLUMNS.groups, b.groups.body());
    await insertLines(ch, 'group_property_history', COLUMNS.group_property_history, b.history.body());
  };
  let batch = emptyBatch();
  // one batch is inserted while the next is built
  let inFlight: Promise<void> = Promise.resolve();
  for (const r of records) {
    stamper.add(r, batch);
    count(counts, r);
    if (batch.events.count >= size) {
      await inFlight;
      const full = batch;
      const done = { ...counts };
      inFlight = flush(full).then(() => opts.onBatch?.(done));
      batch = emptyBatch();
    }
  }
  await inFlight;
  await flush(batch);
  opts.onBatch?.({ ...counts });
  return counts;
}
