// Two workers for the same input partition, as after a rebalance that one instance missed: the new owner fences
// the old one, whose transaction then fails and leaves nothing visible; input an owner already applied is skipped.
import { recordMessage, type IngestRecord } from '@groupscope/events';
import type { BatchContext, KafkaMessage } from '@groupscope/kafka';
import { ChangelogTail, createAdmin, withAdmin } from '@groupscope/kafka';
import { silentLogger } from '@groupscope/logger';
import { testKafka, uniqueName, waitFor, OutputReader, identifyRecord, ingestRecord } from '@groupscope/testing';
import { DEFAULT_LIMITS } from './enrich';
import { DEFAULT_STAMP, IngestWorker, type WorkerContext } from './partition-workers';
import { GroupStore } from './state';

jest.setTimeout(60_000);
const t = testKafka(silentLogger);
const admin = createAdmin(t.kafka);
const output = new OutputReader(t.kafka, t.topics);
let ctx: WorkerContext;

beforeAll(async () => {
  await t.ensureTopics(1);
  await admin.connect();
  await output.start();
  const groups = new GroupStore();
  const tail = new ChangelogTail({ kafka: t.kafka, admin, topic: t.topics.groupsChangelog, groupIdPrefix: 'unused', logger: silentLogger, onRecord: () => undefined });
  const groupId = uniqueName('enricher');
  ctx = {
    kafka: t.kafka, admin, topics: t.topics, groupId, groupsGroupId: `${groupId}.groups`, limits: DEFAULT_LIMITS, stamp: DEFAULT_STAMP,
    dedupCapacity: 1000, groups, groupsTail: tail, logger: silentLogger,
  };
});

afterAll(async () => {
  await output.stop();
  await admin.disconnect();
  await withAdmin(t.kafka, (a) => a.deleteTopics({ topics: Object.values(t.topics) })).catch(() => undefined);
});

/** A batch as the consumer would hand it over: records at consecutive offsets of partition 0. */
function batch(first: number, records: IngestRecord[]): BatchContext {
  const messages = records.map((r, i) => {
    const m = recordMessage.ingest(r);
    const consumed: KafkaMessage = { key: Buffer.from(m.key), value: m.value, headers: m.headers, offset: String(first + i), timestamp: String(Date.now()) };
    return consumed;
  });
  return { topic: t.topics.ingest, partition: 0, messages, heartbeat: async () => undefined, isRunning: () => true };
}

const counter = (e: { user_properties: string }) => (JSON.parse(e.user_properties) as { n?: number }).n;

it('fences a zombie owner and skips input already applied', async () => {
  const first = new IngestWorker(ctx, t.topics.ingest, 0);
  const second = new IngestWorker(ctx, t.topics.ingest, 0);
  const round = (n: number) => [identifyRecord({ user_id: 'z', user_properties: '{"$add":{"n":1}}' }), ingestRecord({ user_id: 'z', event_type: `Round ${n}` })];

  await first.handle(batch(0, round(1)));
  await waitFor(() => output.byType('Round 1').length === 1, { message: 'round 1' });

  // the partition moves: the new owner fences the old one and restores n=1 from the changelog
  const batch2 = batch(2, round(2));
  await second.handle(batch2);
  await waitFor(() => output.byType('Round 2').length === 1, { message: 'round 2' });
  expect(counter(output.byType('Round 2')[0]!)).toBe(2);

  // the old owner, unaware, processes the same input: its transaction is refused
  await expect(first.handle(batch2)).rejects.toThrow();

  // taken over again (fencing the second owner), the first worker restores n=2 and its checkpoint: the replayed
  // batch is skipped, the next one applied once
  await first.handle(batch2);
  await first.handle(batch(4, round(3)));
  await waitFor(() => output.byType('Round 3').length === 1, { message: 'round 3' });
  expect(counter(output.byType('Round 3')[0]!)).toBe(3);
  const batch4 = batch(6, round(4));
  await expect(second.handle(batch4)).rejects.toThrow();
  await first.handle(batch4);

  // one output partition, read committed, in order: once round 4 is visible, anything before it would be too
  await waitFor(() => output.byType('Round 4').length === 1, { message: 'round 4' });
  expect(output.enriched.map((e) => `${e.event_type}:${counter(e)}`)).toEqual(['Round 1:1', 'Round 2:2', 'Round 3:3', 'Round 4:4']);
  await first.close();
  await second.close();
});
