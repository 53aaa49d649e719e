// ClickHouse refusing writes, then back. The test server is shared by every test file and cannot be stopped, so
// the table the second INSERT of each flush goes to (event_groups) is DETACHed: ClickHouse answers that INSERT with
// a real error (UNKNOWN_TABLE) after the first INSERT (events) of the same flush succeeded. That is the hardest
// case: a batch half written. The writer must stall without committing, retry with back-off, skip the half already
// written when it retries, and write everything once the table is ATTACHed again.
import { param, queryRows, sql, trusted } from '@groupscope/clickhouse';
import { committedOffsets, withAdmin } from '@groupscope/kafka';
import { silentLogger } from '@groupscope/logger';
import { testClickHouse, testKafka, uniqueName, waitFor, type TestClickHouse, type TestKafka, InputProducer, enrichedEvent, eventMessage } from '@groupscope/testing';
import { startWriter } from './index';
import { testWriterConfig } from '../test/config';

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

const count = async (table: string, project: number) =>
  (await queryRows<{ n: number }>(ch, sql`SELECT count() AS n FROM ${trusted(ch.table(table))} WHERE project_id = ${param(project, 'UInt32')}`))[0]!.n;
const committedTotal = async (groupId: string) => [...(await committedOffsets(t.kafka, groupId, t.topics.enriched)).values()].reduce((a, b) => a + Math.max(0, b), 0);
const caughtUp = async (groupId: string) => {
  const committed = await committedOffsets(t.kafka, groupId, t.topics.enriched);
  const ends = await withAdmin(t.kafka, (a) => a.fetchTopicOffsets(t.topics.enriched));
  return ends.every((e) => committed.get(e.partition) === Number(e.high));
};
const detach = () => ch.client.command({ query: `DETACH TABLE ${ch.table('event_groups')}`, clickhouse_settings: { check_table_dependencies: 0 } });
const attach = () => ch.client.command({ query: `ATTACH TABLE ${ch.table('event_groups')}`, clickhouse_settings: { check_table_dependencies: 0 } });
const start = (groupId: string, retryMaxMs = 400) =>
  startWriter({
    config: testWriterConfig({ TOPIC_PREFIX: t.prefix, WRITER_GROUP_ID: groupId, WRITER_BATCH_MS: '100', WRITER_RETRY_MAX_MS: String(retryMaxMs) }),
    logger: silentLogger,
    ch,
    kafka: t.kafka,
  });
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'gm'))].reduce((s, m) => s + Number(m[1]), 0);
}
/** Every record below each committed offset is in both tables (the records of this file are all valid). */
async function committedAreWritten(groupId: string): Promise<void> {
  const committed = await committedOffsets(t.kafka, groupId, t.topics.enriched);
  for (const [partition, offset] of committed) {
    const [r] = await queryRows<{ e: number; g: number }>(
      ch,
      sql`SELECT (SELECT count() FROM ${trusted(ch.table('events'))} WHERE kafka_partition = ${param(partition, 'UInt32')} AND kafka_offset < ${param(offset, 'UInt64')}) AS e,
                 (SELECT count() FROM ${trusted(ch.table('event_groups'))} WHERE kafka_partition = ${param(partition, 'UInt32')} AND kafka_offset < ${param(offset, 'UInt64')}) AS g`,
    );
    expect({ partition, ...r }).toEqual({ partition, e: Math.max(0, offset), g: 2 * Math.max(0, offset) });
  }
}

async function totals() {
  return queryRows<{ table: string; rows: number; distinct: number }>(
    ch,
    sql`SELECT * FROM (
          SELECT 'events' AS table, count() AS rows, uniqExact(uuid) AS distinct FROM ${trusted(ch.table('events'))}
          UNION ALL
          SELECT 'event_groups' AS table, count() AS rows, uniqExact(uuid, group_type, group_value) AS distinct FROM ${trusted(ch.table('event_groups'))}
        ) ORDER BY table`,
  );
}

it('stalls while ClickHouse refuses an insert, retries with back-off, then writes everything exactly once', async () => {
  const groupId = uniqueName('writer');
  const writer = await start(groupId);
  const input = new InputProducer(t.kafka, t.topics);
  await input.connect();
  const send = (project: number, n: number) => input.send('enriched', Array.from({ length: n }, (_, i) => eventMessage(enrichedEvent(i, { project_id: project }))));
  try {
    await send(50, 50);
    await waitFor(async () => (await count('event_groups', 50)) === 100);
    await waitFor(async () => (await committedTotal(groupId)) === 50);

    await detach();
    await send(51, 40);
    // the events half of the flush lands, the event_groups half fails, again and again
    await waitFor(async () => (await count('events', 51)) === 40);
    await waitFor(async () => (await metric(writer.url, 'groupscope_writer_flush_failures_total')) >= 3, { message: 'repeated failures' });
    await send(52, 30);
    expect(await committedTotal(groupId)).toBe(50); // nothing committed past the failing batch

    await attach();
    await waitFor(async () => (await count('event_groups', 51)) === 80 && (await count('event_groups', 52)) === 60, { timeoutMs: 30000 });
    await waitFor(() => caughtUp(groupId));
    // the events half written before the failure was skipped when the batch was written again
    expect(await metric(writer.url, 'groupscope_writer_rows_skipped_total')).toBeGreaterThanOrEqual(40);
    expect(await totals()).toEqual([
      { table: 'event_groups', rows: 240, distinct: 240 },
      { table: 'events', rows: 120, distinct: 120 },
    ]);
  } finally {
    await writer.stop();
    await input.disconnect();
  }
});

it('a writer stopped while ClickHouse refuses commits nothing it did not write; the next one writes it', async () => {
  const groupId = uniqueName('writer');
  const input = new InputProducer(t.kafka, t.topics);
  await input.connect();
  const first = await start(groupId, 10_000); // long back-off: the stop lands while the failed batch waits
  try {
    await waitFor(() => caughtUp(groupId), { message: 'first writer caught up' }); // the 120 events of the first test
    const failures = await metric(first.url, 'groupscope_writer_flush_failures_total'); // counters are per process
    await detach();
    await input.send('enriched', Array.from({ length: 25 }, (_, i) => eventMessage(enrichedEvent(i, { project_id: 53 }))));
    await waitFor(async () => (await metric(first.url, 'groupscope_writer_flush_failures_total')) >= failures + 2);
    await input.send('enriched', Array.from({ length: 15 }, (_, i) => eventMessage(enrichedEvent(i, { project_id: 54 }))));
    await waitFor(async () => (await metric(first.url, 'groupscope_writer_records_buffered')) === 15, { message: 'second batch buffered' });
    // ClickHouse is back, but the failed batch is still waiting for its next attempt when the writer stops: the
    // later batch must not be written-and-committed past it
    await attach();
    await first.stop();
    await committedAreWritten(groupId);
  } finally {
    await first.stop();
  }
  const second = await start(groupId);
  try {
    await waitFor(() => caughtUp(groupId));
    expect(await count('events', 53)).toBe(25);
    expect(await count('event_groups', 54)).toBe(30);
    expect(await totals()).toEqual([
      { table: 'event_groups', rows: 320, distinct: 320 },
      { table: 'events', rows: 160, distinct: 160 },
    ]);
    await committedAreWritten(groupId);
  } finally {
    await second.stop();
    await input.disconnect();
  }
});
