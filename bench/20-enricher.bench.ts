// Enricher throughput: input records/s through one enricher instance (decode, de-duplicate, apply operations,
// stamp groups and snapshots, encode; outputs + changelogs + offsets in one Kafka transaction per batch), beside
// a plain consume-and-produce pass-through of the same pre-filled topic in the same run (the shared batch
// consumer, an idempotent producer, acks=all, offsets committed after each batch; no groupscope logic). Both start from offset 0 of a full topic (the enricher's
// clock starts once it has joined its group, the pass-through's at its first batch) and stop when the group's
// committed offsets reach the end. The machine is shared, so the two alternate over two rounds (fresh topics each)
// and the best of each is kept. The enricher runs twice per round: on records without receive positions (as any
// producer but the gateway writes them: nothing waits) and on the same records with positions and a gateway's marks
// on the group-identify topic (receive-order stamping: watermarks, versions, waits). Then the heap held by the
// state structures for 1M users and 100k groups (100k/10k in quick mode), and per de-duplication key.
import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { markMessage, recordMessage, topicNames, topicSpecs, userKey, type GroupIdentifyRecord, type IngestRecord } from '@groupscope/events';
import { consumerLag, createKafka, createProducer, ensureTopics, retryTransient, runBatchConsumer, withAdmin, type Kafka, type Message } from '@groupscope/kafka';
import { DedupWindow, GroupStore, dedupHash, loadEnricherConfig, startEnricher, type UserStore } from '@groupscope/enricher';
import type { Bench, BenchContext, BenchResult } from './harness';
import { rate, round } from './harness';
import { kafkaBaselinesOnce, kafkaRatios } from './baselines';

const PARTITIONS = 4;
const ROUNDS = 2;
/** receive positions of the ordered input: one gateway, 10 microseconds apart, a mark every MARK_EVERY records */
const POS0 = 1_762_000_000_000_000;
const POS_STEP = 10;
const MARK_EVERY = 1000;
const PRODUCER = 'bench-gateway';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Record i of the stream: 1 in 10 is an identify ($set, $add, a user-level group); events carry properties. With
 * `ordered`, it has a gateway's receive position.
 */
function ingestRecord(i: number, users: number, ordered: boolean): Message {
  const u = i % users;
  const identify = i % 10 === 0;
  const now = 1_762_000_000_000 + i;
  const rec: IngestRecord = {
    kind: identify ? 'identify' : 'event',
    project_id: 1,
    uuid: randomUUID(),
    receive_time: now,
    event_time: now,
    event_type: identify ? '$identify' : ['Page Viewed', 'Invoice Sent', 'Payment Received', 'Report Run'][i % 4]!,
    user_id: `user-${u}`,
    device_id: `device-${u}`,
    insert_id: `ins-${i}`,
    session_id: now,
    event_id: null,
    event_properties: JSON.stringify({ amount: i % 500, page: `/p/${i % 50}` }),
    user_properties: identify ? JSON.stringify({ $set: { plan: ['free', 'pro', 'ent'][u % 3], org: `org-${u % 1000}` }, $add: { logins: 1 } }) : '{}',
    groups: identify ? { org: [`org-${u % 1000}`] } : i % 3 === 0 ? { project: [`p-${i % 200}`] } : {},
    context: { platform: 'Web', os_name: 'Chrome', country: 'France' },
    revenue: null,
    price: null,
    quantity: null,
    location_lat: null,
    location_lng: null,
    extra: '{"library":"amplitude-node/1.5.73"}',
    ...(ordered ? { receive_pos: POS0 + i * POS_STEP, producer_id: PRODUCER } : {}),
  };
  return recordMessage.ingest(rec);
}

/** Group identify i (ordered: received just before the stream's first record). */
function groupIdentify(i: number, ordered: boolean): Message {
  const rec: GroupIdentifyRecord = {
    project_id: 1, uuid: randomUUID(), receive_time: 1_762_000_000_000, event_time: 1_762_000_000_000, group_type: 'org', group_value: `org-${i}`,
    group_properties: JSON.stringify({ plan: 'enterprise', seats: i % 100, industry: 'software' }), source: 'api', user_id: null, device_id: null, insert_id: null,
    ...(ordered ? { receive_pos: POS0 - 2000 + i, producer_id: PRODUCER } : {}),
  };
  return recordMessage.groupIdentify(rec);
}

/** The group-identify topic of the ordered input: the identifies, then the gateway's marks along the stream. */
function orderedGroupTopic(count: number): Message[] {
  const out = Array.from({ length: 1000 }, (_, i) => groupIdentify(i, true));
  for (let k = MARK_EVERY; k <= count; k += MARK_EVERY) {
    for (let q = 0; q < PARTITIONS; q++) out.push(markMessage({ producer_id: PRODUCER, pos: POS0 + k * POS_STEP, leave: false }, q));
  }
  return out;
}

async function produce(kafka: Kafka, topic: string, messages: Message[]): Promise<void> {
  const producer = createProducer(kafka);
  await producer.connect();
  for (let i = 0; i < messages.length; i += 1000) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1000) });
  await producer.disconnect();
}

/** Polls the group's committed offsets until nothing is left on `topic`; returns when that happened. */
async function drained(kafka: Kafka, groupId: string, topic: string, timeoutMs = 600_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  return withAdmin(kafka, async (admin) => {
    for (;;) {
      if ((await consumerLag(admin, groupId, topic)) === 0) return performance.now();
      if (Date.now() > deadline) throw new Error(`group ${groupId} did not drain ${topic}`);
      await sleep(50);
    }
  });
}

/** Consume a batch, produce its records unchanged, commit the offsets; records/s. */
async function passThrough(ctx: BenchContext, kafka: Kafka, from: string, to: string, count: number): Promise<number> {
  const groupId = `bench-pass-${randomUUID()}`;
  const producer = createProducer(kafka);
  await producer.connect();
  let t0 = 0;
  const consumer = await runBatchConsumer({
    kafka,
    groupId,
    topics: [from],
    logger: ctx.logger,
    maxBytesPerPartition: 1024 * 1024,
    maxWaitTimeInMs: 100,
    partitionsConsumedConcurrently: 4,
    handle: async (batch) => {
      if (t0 === 0) t0 = performance.now();
      await producer.send({ topic: to, acks: -1, messages: batch.messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers, partition: batch.partition })) });
    },
  });
  const t1 = await drained(kafka, groupId, from);
  await consumer.stop();
  await producer.disconnect();
  return rate(count, t1 - t0);
}

async function enricherRate(ctx: BenchContext, kafka: Kafka, prefix: string, count: number): Promise<{ rate: number; ms: number }> {
  const groupId = `bench-enricher-${randomUUID()}`;
  const config = loadEnricherConfig({ KAFKA_BROKERS: ctx.brokers.join(','), TOPIC_PREFIX: prefix, KAFKA_PARTITIONS: String(PARTITIONS), ENRICHER_PORT: '0', ENRICHER_GROUP_ID: groupId, LOG_LEVEL: 'warn' });
  const enricher = await startEnricher({ config, logger: ctx.logger });
  const t0 = performance.now();
  try {
    const t1 = await drained(kafka, groupId, topicNames(prefix).ingest);
    return { rate: rate(count, t1 - t0), ms: t1 - t0 };
  } finally {
    await enricher.stop();
  }
}

/** A callable gc even without --expose-gc. */
function gcFn(): () => void {
  setFlagsFromString('--expose_gc');
  return runInNewContext('gc') as () => void;
}

function heapAfterGc(gc: () => void): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Heap held by user state, group state and de-duplication keys shaped like the enricher's. */
function stateMemory(users: number, groups: number, dedupKeys: number) {
  const gc = gcFn();
  const base = heapAfterGc(gc);
  const store: UserStore = new Map();
  for (let i = 0; i < users; i++) {
    store.set(userKey(1, `user-${i}`, null), {
      g: JSON.stringify({ org: [`org-${i % groups}`] }),
      p: JSON.stringify({ plan: ['free', 'pro', 'ent'][i % 3], org: `org-${i % groups}`, logins: i % 97, country: 'France', role: 'admin' }),
    });
  }
  const withUsers = heapAfterGc(gc);
  const gs = new GroupStore();
  for (let i = 0; i < groups; i++) {
    gs.putVersion(1, 'org', `org-${i}`, { e: 1_762_000_000_000_000 + i, n: 1, p: JSON.stringify({ plan: 'enterprise', seats: i % 1000, industry: 'software', arr: i * 10, name: `Org ${i}` }) });
  }
  const withGroups = heapAfterGc(gc);
  const dw = new DedupWindow(7 * 24 * 3600 * 1000, dedupKeys);
  for (let s = 0; s < dedupKeys / 1000; s++) {
    const entries: [string, number][] = Array.from({ length: 1000 }, (_, i) => [dedupHash([1, `device-${i}`, `ins-${s}-${i}`]), 1_762_000_000_000 + s]);
    dw.apply(dw.plan(`seg-${s}`, entries, 1_762_000_000_000 + s));
  }
  const withDedup = heapAfterGc(gc);
  const held = [store.size, gs.size, dw.size]; // keep them alive until measured
  void held;
  return { users: withUsers - base, groups: withGroups - withUsers, dedup: withDedup - withGroups };
}

const MB = 1024 * 1024;

const bench: Bench = {
  name: 'enricher',
  async run(ctx) {
    const kafkaBase = await kafkaBaselinesOnce(ctx);
    const count = ctx.quick ? 30_000 : 200_000;
    const users = ctx.quick ? 5_000 : 50_000;
    const kafka = createKafka({ brokers: ctx.brokers, clientId: 'bench-enricher', logger: ctx.logger });
    const input = Array.from({ length: count }, (_, i) => ingestRecord(i, users, false));
    const identifies = Array.from({ length: 1000 }, (_, i) => groupIdentify(i, false));
    const orderedInput = Array.from({ length: count }, (_, i) => ingestRecord(i, users, true));
    const orderedGroups = orderedGroupTopic(count);
    const results: BenchResult[] = [];
    const rawRates: number[] = [];
    const runs = { unordered: [] as { rate: number; ms: number }[], ordered: [] as { rate: number; ms: number }[] };
    for (let pass = 0; pass < ROUNDS; pass++) {
      const prefix = `bench.enr.${Date.now().toString(36)}.${pass}.`;
      const orderedPrefix = `${prefix}o.`;
      const topics = topicNames(prefix);
      const orderedTopics = topicNames(orderedPrefix);
      const passOut = `${prefix}pass-out`;
      const specs = [...topicSpecs(topics), ...topicSpecs(orderedTopics), { name: passOut, compacted: false }];
      await retryTransient(() => ensureTopics(kafka, specs, { partitions: PARTITIONS, replicationFactor: 1 }));
      try {
        await produce(kafka, topics.groupIdentify, identifies);
        await produce(kafka, topics.ingest, input);
        await produce(kafka, orderedTopics.groupIdentify, orderedGroups);
        await produce(kafka, orderedTopics.ingest, orderedInput);
        rawRates.push(await passThrough(ctx, kafka, topics.ingest, passOut, count));
        runs.unordered.push(await enricherRate(ctx, kafka, prefix, count));
        runs.ordered.push(await enricherRate(ctx, kafka, orderedPrefix, count));
      } finally {
        await withAdmin(kafka, (a) => a.deleteTopics({ topics: specs.map((x) => x.name) })).catch(() => undefined);
      }
    }
    const raw = Math.max(...rawRates);
    const best = (list: { rate: number; ms: number }[]) => list.reduce((a, b) => (b.rate > a.rate ? b : a));
    for (const [kind, list] of Object.entries(runs)) {
      const enr = best(list);
      results.push({
        name:
          kind === 'unordered'
            ? `enricher, one instance: input records/s (${count} records, ${users} users, 1 in 10 an identify, ${PARTITIONS} partitions; best of ${ROUNDS})`
            : `enricher, one instance, receive-ordered input (the same records with positions, a gateway mark every ${MARK_EVERY}): input records/s (best of ${ROUNDS})`,
        figure: { value: round(enr.rate, 0), unit: 'records/s' },
        baseline: { name: 'kafkajs consume-and-produce pass-through of the same topic', value: round(raw, 0), unit: 'records/s' },
        ratio: round(enr.rate / raw, 2),
        ratios: kafkaRatios(enr.rate, kafkaBase),
        goal: '>= 0.6 of baseline',
        extra: { enricher_ms: Math.round(enr.ms), rounds: ROUNDS, all_enricher: list.map((r) => Math.round(r.rate)).join(' '), all_raw: rawRates.map((r) => Math.round(r)).join(' ') },
      });
    }

    const nUsers = ctx.quick ? 100_000 : 1_000_000;
    const nGroups = ctx.quick ? 10_000 : 100_000;
    const nDedup = ctx.quick ? 100_000 : 1_000_000;
    const mem = stateMemory(nUsers, nGroups, nDedup);
    results.push(
      {
        name: `state heap: ${nUsers} users (1 group, 5 properties each)`,
        figure: { value: round(mem.users / MB, 1), unit: 'MB' },
        extra: { bytes_per_user: Math.round(mem.users / nUsers) },
      },
      {
        name: `state heap: ${nGroups} groups (5 properties each)`,
        figure: { value: round(mem.groups / MB, 1), unit: 'MB' },
        extra: { bytes_per_group: Math.round(mem.groups / nGroups) },
      },
      {
        name: `state heap: ${nDedup} de-duplication keys`,
        figure: { value: round(mem.dedup / MB, 1), unit: 'MB' },
        extra: { bytes_per_key: Math.round(mem.dedup / nDedup) },
      },
    );
    return results;
  },
};
export default bench;
