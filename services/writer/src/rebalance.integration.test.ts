// Two writers in one consumer group while records flow: a second one joins (partitions move), then the first
// leaves (they move back). Buffered batches of moved partitions are dropped and come again from the last commit;
// every row must still be written exactly once.
import { param, queryRows, sql, trusted } from '@groupscope/clickhouse';
import { committedOffsets, withAdmin } from '@groupscope/kafka';
import { silentLogger } from '@groupscope/logger';
import { testClickHouse, testKafka, uniqueName, waitFor, type TestClickHouse, type TestKafka, InputProducer, enrichedEvent, eventMessage } from '@groupscope/testing';
import { startWriter } from './index';
import { testWriterConfig } from '../test/config';

jest.setTimeout(90000);

let t: TestKafka;
let ch: TestClickHouse;

beforeAll(async () => {
  t = testKafka();
  await t.ensureTopics(4);
  ch = await testClickHouse();
});
afterAll(async () => {
  await ch?.cleanup();
});

it('writes every record once while partitions move between two writers', async () => {
  const groupId = uniqueName('writer');
  const start = () =>
    startWriter({
      config: testWriterConfig({ TOPIC_PREFIX: t.prefix, KAFKA_PARTITIONS: '4', WRITER_GROUP_ID: groupId, WRITER_BATCH_MS: '150', WRITER_SESSION_TIMEOUT_MS: '6000' }),
      logger: silentLogger,
      ch,
      kafka: t.kafka,
    });
  const input = new InputProducer(t.kafka, t.topics);
  await input.connect();
  let n = 0;
  const send = async (k: number) => {
    await input.send('enriched', Array.from({ length: k }, () => eventMessage(enrichedEvent(n++, { project_id: 60 }))), 50);
  };
  const events = async () =>
    (await queryRows<{ n: number }>(ch, sql`SELECT count() AS n FROM ${trusted(ch.table('events'))} WHERE project_id = ${param(60, 'UInt32')}`))[0]!.n;
  const a = await start();
  let b: Awaited<ReturnType<typeof start>> | null = null;
  try {
    await send(300);
    await waitFor(async () => (await events()) > 0);
    b = await start(); // joins: a rebalance while a is writing
    await send(300);
    await waitFor(async () => (await events()) >= 450, { timeoutMs: 60000 });
    await a.stop(); // leaves: its partitions go to b
    await send(200);
    await waitFor(async () => {
      const committed = await committedOffsets(t.kafka, groupId, t.topics.enriched);
      const ends = await withAdmin(t.kafka, (adm) => adm.fetchTopicOffsets(t.topics.enriched));
      return ends.every((e) => committed.get(e.partition) === Number(e.high));
    }, { timeoutMs: 60000, message: 'caught up' });
    const totals = await queryRows<{ e: number; ue: number; g: number; ug: number }>(
      ch,
      sql`SELECT (SELECT count() FROM ${trusted(ch.table('events'))}) AS e, (SELECT uniqExact(uuid) FROM ${trusted(ch.table('events'))}) AS ue,
                 (SELECT count() FROM ${trusted(ch.table('event_groups'))}) AS g,
                 (SELECT uniqExact(uuid, group_type, group_value) FROM ${trusted(ch.table('event_groups'))}) AS ug`,
    );
    expect(totals).toEqual([{ e: 800, ue: 800, g: 1600, ug: 1600 }]);
  } finally {
    await a.stop();
    await b?.stop();
    await input.disconnect();
  }
});
