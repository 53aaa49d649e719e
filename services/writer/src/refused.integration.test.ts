// Rows ClickHouse itself refuses (here: a property name holding a lone surrogate escape, which ClickHouse cannot
// parse, in records produced straight to the writer's topics, past the gateway that repairs them). The writer must
// not stall on them: it isolates exactly the refused records, dead-letters each with ClickHouse's reason and its
// source, stores every other record of the same batch once, and keeps writing later batches.
import { queryRows, sql, trusted, param } from '@groupscope/clickhouse';
import { committedOffsets, runBatchConsumer, withAdmin, type KafkaMessage, type RunningConsumer } from '@groupscope/kafka';
import { silentLogger } from '@groupscope/logger';
import {
  changeMessage, enrichedEvent, eventMessage, groupChange, header, InputProducer, testClickHouse, testKafka, uniqueName, waitFor, type TestClickHouse, type TestKafka,
} from '@groupscope/testing';
import { startWriter } from './index';
import { testWriterConfig } from '../test/config';

jest.setTimeout(120_000);

const PROJECT = 77;
/** JSON text whose property name is a lone high surrogate: valid JSON, not storable text */
const REFUSED_PROPS = '{"\\ud800":"x","ok":1}';

let t: TestKafka;
let ch: TestClickHouse;
let input: InputProducer;
let writer: Awaited<ReturnType<typeof startWriter>> | undefined;
let dlqReader: RunningConsumer | undefined;
const dlq: KafkaMessage[] = [];
const groupId = uniqueName('writer');

const count = async (table: string, where = sql`1`) =>
  Number((await queryRows<{ n: number }>(ch, sql`SELECT count() AS n FROM ${trusted(ch.table(table))} WHERE project_id = ${param(PROJECT, 'UInt32')} AND ${where}`))[0]!.n);

beforeAll(async () => {
  t = testKafka();
  // one partition: the refused records sit between good ones of the same partition and batch
  await t.ensureTopics(1);
  ch = await testClickHouse();
  input = new InputProducer(t.kafka, t.topics);
  await input.connect();
  dlqReader = await runBatchConsumer({
    kafka: t.kafka,
    groupId: uniqueName('dlq-reader'),
    topics: [t.topics.dlq],
    logger: silentLogger,
    maxWaitTimeInMs: 100,
    handle: async (b) => {
      dlq.push(...b.messages);
    },
  });
  writer = await startWriter({
    // a batch is written when 60 records are buffered: the refused ones share it with 56 good ones
    config: testWriterConfig({ TOPIC_PREFIX: t.prefix, KAFKA_PARTITIONS: '1', WRITER_GROUP_ID: groupId, WRITER_BATCH_ROWS: '60', WRITER_BATCH_MS: '600000' }),
    logger: silentLogger,
    ch,
    kafka: t.kafka,
  });
});

afterAll(async () => {
  await writer?.stop();
  await dlqReader?.stop();
  await input?.disconnect();
  await ch?.cleanup();
});

it('dead-letters exactly the records ClickHouse refuses, stores the rest of their batch once, and writes later batches', async () => {
  const events = Array.from({ length: 50 }, (_, i) => enrichedEvent(i, { project_id: PROJECT, insert_id: `e-${i}` }));
  // refused: an event property name, a user property name, and a group snapshot (event_groups only)
  events[0] = enrichedEvent(0, { project_id: PROJECT, insert_id: 'bad-first', event_properties: REFUSED_PROPS });
  events[23] = enrichedEvent(23, { project_id: PROJECT, insert_id: 'bad-middle', user_properties: REFUSED_PROPS });
  events[49] = enrichedEvent(49, {
    project_id: PROJECT,
    insert_id: 'bad-snapshot',
    groups: { company: ['acme'] },
    group_properties: [{ group_type: 'company', group_value: 'acme', properties: REFUSED_PROPS }],
  });
  const changes = Array.from({ length: 10 }, (_, i) => groupChange(i, { project_id: PROJECT }));
  changes[4] = groupChange(4, { project_id: PROJECT, properties: REFUSED_PROPS, changed: ['\ud800', 'ok'] });
  await input.send('enriched', events.map(eventMessage));
  await input.send('groupChanges', changes.map(changeMessage));

  await waitFor(() => dlq.length >= 4, { timeoutMs: 60_000, message: 'four dead letters' });
  const letters = dlq.map((m) => ({
    reason: header(m, 'dlq-reason'),
    table: header(m, 'dlq-table'),
    code: header(m, 'dlq-clickhouse-code'),
    topic: header(m, 'dlq-source-topic'),
    partition: header(m, 'dlq-source-partition'),
    offset: Number(header(m, 'dlq-source-offset')),
  }));
  expect(letters.sort((a, b) => `${a.topic}${a.offset}`.localeCompare(`${b.topic}${b.offset}`))).toEqual(
    [
      { reason: 'storage_refused', table: 'events', code: '25', topic: t.topics.enriched, partition: '0', offset: 0 },
      { reason: 'storage_refused', table: 'events', code: '25', topic: t.topics.enriched, partition: '0', offset: 23 },
      // one line feeds both tables and ClickHouse parses all of it for either: the snapshot refuses the events row too
      { reason: 'storage_refused', table: 'events', code: '25', topic: t.topics.enriched, partition: '0', offset: 49 },
      { reason: 'storage_refused', table: 'groups', code: '25', topic: t.topics.groupChanges, partition: '0', offset: 4 },
    ].sort((a, b) => `${a.topic}${a.offset}`.localeCompare(`${b.topic}${b.offset}`)),
  );
  for (const m of dlq) expect(header(m, 'dlq-error')).toMatch(/ClickHouse refused the \w+ row: CANNOT_PARSE_ESCAPE_SEQUENCE/);
  // each letter carries its record as consumed, so it can be inspected or replayed
  const first = dlq.find((m) => header(m, 'dlq-source-offset') === '0' && header(m, 'dlq-source-topic') === t.topics.enriched)!;
  expect(first.value).toEqual(eventMessage(events[0]!).value);

  // the rest of the batch: every good record exactly once
  await waitFor(async () => (await count('events')) === 47, { message: 'good events stored' });
  const stored = await queryRows<{ insert_id: string; n: number }>(
    ch,
    sql`SELECT insert_id, count() AS n FROM ${trusted(ch.table('events'))} WHERE project_id = ${param(PROJECT, 'UInt32')} GROUP BY insert_id ORDER BY insert_id`,
  );
  expect(stored.map((r) => r.insert_id).sort()).toEqual([...events.slice(1, 23), ...events.slice(24, 49)].map((e) => e.insert_id!).sort());
  expect(stored.every((r) => Number(r.n) === 1)).toBe(true);
  expect(await count('event_groups', sql`insert_id = 'bad-snapshot'`)).toBe(0);
  expect(await count('event_groups')).toBe(47 * 2); // two groups each (company, team) for the 47 fully good events
  await waitFor(async () => (await count('groups')) === 9, { message: 'good group changes stored' });

  // the partition moves on: a later batch is written and the offsets are committed to the end
  await input.send('enriched', Array.from({ length: 60 }, (_, i) => eventMessage(enrichedEvent(100 + i, { project_id: PROJECT, insert_id: `later-${i}` }))));
  await waitFor(async () => (await count('events', sql`startsWith(insert_id, 'later-')`)) === 60, { timeoutMs: 60_000, message: 'later batch stored' });
  await waitFor(async () => {
    const committed = await committedOffsets(t.kafka, groupId, t.topics.enriched);
    const ends = await withAdmin(t.kafka, (a) => a.fetchTopicOffsets(t.topics.enriched));
    return ends.every((e) => committed.get(e.partition) === Number(e.high));
  }, { timeoutMs: 60_000, message: 'committed to the end' });
  expect(dlq).toHaveLength(4);
  const metrics = await (await fetch(`${writer!.url}/metrics`)).text();
  expect(metrics).toMatch(/groupscope_writer_rows_refused_total\{table="events",code="25"\} 3/);
  expect(metrics).toMatch(/groupscope_dead_letters_total\{stage="writer",reason="storage_refused"\} 4/);
});
