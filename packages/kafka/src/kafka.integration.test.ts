// Proves kafkajs against the real broker: topics, batched produce, commit-after-success consumption with
// resume from the committed offset, the idempotent producer, and a read-process-write transaction.
import { silentLogger } from '@groupscope/logger';
import { testKafka, uniqueName, waitFor } from '@groupscope/testing';
import { createAdmin, createProducer, ensureTopics, readPartitionToEnd, runBatchConsumer, withAdmin, consumerLag, type RunningConsumer } from './index';

const t = testKafka(silentLogger);
const topic = `${t.prefix}numbers`;
const out = `${t.prefix}numbers-out`;
const N = 10_000;

beforeAll(async () => {
  // as the services create theirs: a broker that has just started may not serve a new topic's metadata at once
  await ensureTopics(t.kafka, [{ name: topic, compacted: false }, { name: out, compacted: false }], { partitions: 3, replicationFactor: 1 });
});

afterAll(async () => {
  await withAdmin(t.kafka, (admin) => admin.deleteTopics({ topics: [topic, out] })).catch(() => undefined);
});

async function produceRange(from: number, to: number) {
  const producer = createProducer(t.kafka);
  await producer.connect();
  for (let start = from; start < to; start += 1000) {
    const messages = [];
    for (let i = start; i < Math.min(to, start + 1000); i++) messages.push({ key: `k${i % 97}`, value: String(i) });
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
}

async function endOffsets(name: string) {
  return withAdmin(t.kafka, (admin) => admin.fetchTopicOffsets(name));
}

describe('kafkajs against the local broker', () => {
  it('produces 10k messages in batches with the idempotent producer', async () => {
    await produceRange(0, N);
    const ends = await endOffsets(topic);
    expect(ends.reduce((s, p) => s + Number(p.high), 0)).toBe(N);
  });

  it('consumes, commits only after processing, and a restarted consumer resumes at the committed offset', async () => {
    const groupId = uniqueName('g');
    const seen: number[] = [];
    let failOnce = true;
    const run = (stopAt: number): Promise<RunningConsumer> =>
      runBatchConsumer({
        kafka: t.kafka,
        groupId,
        topics: [topic],
        logger: silentLogger,
        maxRetryDelayMs: 200,
        handle: async (batch) => {
          if (failOnce) {
            // the first batch fails once: it must be retried, not skipped or committed
            failOnce = false;
            throw new Error('simulated failure');
          }
          for (const m of batch.messages) seen.push(Number(m.value!.toString()));
          if (seen.length >= stopAt) await new Promise((r) => setTimeout(r, 10));
        },
      });
    const first = await run(N);
    await waitFor(() => seen.length >= N, { message: 'first consumer reads everything', timeoutMs: 90_000 });
    expect(new Set(seen).size).toBe(N);
    // each batch's offsets are committed once it was processed: the group's lag reaches 0 while the consumer runs
    await waitFor(async () => (await withAdmin(t.kafka, (admin) => consumerLag(admin, groupId, topic))) === 0, {
      message: 'offsets committed after processing',
      timeoutMs: 90_000,
    });
    await first.stop();

    // more data while no consumer runs; a new consumer of the same group reads only that
    await produceRange(N, N + 500);
    seen.length = 0;
    const second = await run(500);
    await waitFor(() => seen.length >= 500, { message: 'restarted consumer reads the new records', timeoutMs: 90_000 });
    await second.stop();
    expect(seen.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => N + i));
  });

  it('runs a read-process-write transaction that sends the consumer offsets with the output', async () => {
    const groupId = uniqueName('tx');
    const producer = createProducer(t.kafka, { transactionalId: uniqueName('txid') });
    await producer.connect();
    let processed = 0;
    const c = await runBatchConsumer({
      kafka: t.kafka,
      groupId,
      topics: [topic],
      logger: silentLogger,
      handlerCommits: true,
      handle: async (batch) => {
        const tx = await producer.transaction();
        try {
          await tx.send({
            topic: out,
            acks: -1,
            messages: batch.messages.map((m) => ({ key: m.key, value: String(Number(m.value!.toString()) * 2) })),
          });
          await tx.sendOffsets({
            consumerGroupId: groupId,
            topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(Number(batch.messages.at(-1)!.offset) + 1) }] }],
          });
          await tx.commit();
        } catch (err) {
          await tx.abort().catch(() => undefined);
          throw err;
        }
        processed += batch.messages.length;
      },
    });
    await waitFor(() => processed >= N + 500, { message: 'transactional pass-through', timeoutMs: 90_000 });
    await c.stop();
    await producer.disconnect();
    const committed = await withAdmin(t.kafka, (admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
    const ends = await endOffsets(topic);
    for (const p of committed[0]!.partitions) {
      expect(p.offset).toBe(ends.find((e) => e.partition === p.partition)!.high);
    }
    // the output holds exactly one record per input, readable by a read-committed consumer
    const readBack = new Set<string>();
    const reader = await runBatchConsumer({
      kafka: t.kafka,
      groupId: uniqueName('reader'),
      topics: [out],
      logger: silentLogger,
      handle: async (batch) => {
        for (const m of batch.messages) readBack.add(m.value!.toString());
      },
    });
    await waitFor(() => readBack.size >= N + 500, { message: 'read committed output' });
    await reader.stop();
    expect(readBack.size).toBe(N + 500);
    expect(readBack.has(String(2 * (N + 499)))).toBe(true);
  });

  it('reads an offset range of one partition, with headers, outside any group', async () => {
    const admin = createAdmin(t.kafka);
    await admin.connect();
    try {
      const seen: { offset: number; value: string }[] = [];
      const n = await readPartitionToEnd({
        kafka: t.kafka, admin, groupIdPrefix: uniqueName('range'), topics: [topic], partition: 1, from: 100, to: 150, logger: silentLogger,
        onRecord: (r) => seen.push({ offset: Number(r.offset), value: r.value!.toString() }),
      });
      expect(n).toBe(50);
      expect(seen.map((r) => r.offset)).toEqual(Array.from({ length: 50 }, (_, i) => 100 + i));
      // a range past the end stops at the end; an empty one reads nothing
      const high = Number((await endOffsets(topic)).find((p) => p.partition === 1)!.high);
      const tail = await readPartitionToEnd({ kafka: t.kafka, admin, groupIdPrefix: uniqueName('range'), topics: [topic], partition: 1, from: high - 3, to: high + 100, logger: silentLogger, onRecord: () => undefined });
      expect(tail).toBe(3);
      expect(await readPartitionToEnd({ kafka: t.kafka, admin, groupIdPrefix: 'x', topics: [topic], partition: 1, from: 10, to: 10, logger: silentLogger, onRecord: () => undefined })).toBe(0);
    } finally {
      await admin.disconnect();
    }
  });
});
