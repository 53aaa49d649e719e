// ClickHouse refusing writes, then back. With chDB in this process the server cannot be killed, so the table the
// second INSERT of each flush goes to (event_groups) is DETACHed: ClickHouse answers that INSERT with a real error
// (UNKNOWN_TABLE) after the first INSERT (events) of the same flush succeeded. That is the hardest case: a batch
// half written. The writer must stall without committing, retry with back-off, skip the half already written when
// it retries, and write everything once the table is ATTACHed again.
import { queryRows, sql, trusted } from '@groupscope/clickhouse';
import { withAdmin } from '@groupscope/kafka';
import { silentLogger } from '@groupscope/logger';
import { testClickHouse, testKafka, uniqueName, waitFor, type TestClickHouse, type TestKafka } from '@groupscope/testing';
import { startWriter } from './index';
import { InputProducer, committedOffsets, enrichedEvent, eventMessage, testWriterConfig } from './test-helpers';

jest.setTimeout(60000);

let t: TestKafka;
let ch: TestClickHouse;

beforeAll(async () => {
  t = testKafka();
  await t.ensureTopics(2);
  ch = await testClickHouse();
});
afterAll(async () => {
  await ch?.cleanup();
});

it('stalls while ClickHouse refuses an insert, retries with back-off, then writes everything exactly once', async () => {
  const groupId = uniqueName('writer');
  const writer = await startWriter({
    config: testWriterConfig({ TOPIC_PREFIX: t.prefix, WRITER_GROUP_ID: groupId, WRITER_BATCH_MS: '100', WRITER_RETRY_MAX_MS: '400' }),
    logger: silentLogger,
    ch,
    kafka: t.kafka,
  });
  const input = new InputProducer(t.kafka, t.topics);
  await input.connect();
  const count = async (table: string, project: number) =>
    (await queryRows<{ n: number }>(ch, sql`SELECT count() AS n FROM ${trusted(ch.table(table))} WHERE project_id = ${trusted(String(project))}`))[0]!.n;
  const metric = async (name: string) => {
    const text = await (await fetch(`${writer.url}/metrics`)).text();
    return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'gm'))].reduce((s, m) => s + Number(m[1]), 0);
  };
  const send = (project: number, n: number) => input.send('enriched', Array.from({ length: n }, (_, i) => eventMessage(enrichedEvent(i, { project_id: project }))));
  try {
    await send(50, 50);
    await waitFor(async () => (await count('event_groups', 50)) === 100);
    await waitFor(async () => [...(await committedOffsets(t.kafka, groupId, t.topics.enriched)).values()].reduce((a, b) => a + b, 0) === 50);

    await ch.client.command({ query: `DETACH TABLE ${ch.table('event_groups')}`, clickhouse_settings: { check_table_dependencies: 0 } });
    await send(51, 40);
    // the events half of the flush lands, the event_groups half fails, again and again
    await waitFor(async () => (await count('events', 51)) === 40);
    await waitFor(async () => (await metric('groupscope_writer_flush_failures_total')) >= 3, { message: 'repeated failures' });
    await send(52, 30);
    const during = await committedOffsets(t.kafka, groupId, t.topics.enriched);
    expect([...during.values()].reduce((a, b) => a + b, 0)).toBe(50); // nothing committed past the failing batch

    await ch.client.command({ query: `ATTACH TABLE ${ch.table('event_groups')}`, clickhouse_settings: { check_table_dependencies: 0 } });
    await waitFor(async () => (await count('event_groups', 51)) === 80 && (await count('event_groups', 52)) === 60, { timeoutMs: 30000 });
    await waitFor(async () => {
      const committed = await committedOffsets(t.kafka, groupId, t.topics.enriched);
      const ends = await withAdmin(t.kafka, (a) => a.fetchTopicOffsets(t.topics.enriched));
      return ends.every((e) => committed.get(e.partition) === Number(e.high));
    });
    const totals = await queryRows<{ table: string; rows: number; distinct: number }>(
      ch,
      sql`SELECT * FROM (
            SELECT 'events' AS table, count() AS rows, uniqExact(uuid) AS distinct FROM ${trusted(ch.table('events'))}
            UNION ALL
            SELECT 'event_groups' AS table, count() AS rows, uniqExact(uuid, group_type, group_value) AS distinct FROM ${trusted(ch.table('event_groups'))}
          ) ORDER BY table`,
    );
    // the events half written before the failure was skipped when the batch was written again
    expect(await metric('groupscope_writer_rows_skipped_total')).toBeGreaterThanOrEqual(40);
    expect(totals).toEqual([
      { table: 'event_groups', rows: 240, distinct: 240 },
      { table: 'events', rows: 120, distinct: 120 },
    ]);
  } finally {
    await writer.stop();
    await input.disconnect();
  }
});
