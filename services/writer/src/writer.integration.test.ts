// The writer against a real broker and embedded ClickHouse: rows and columns, batching by rows and by time,
// dead letters, and the operational endpoints.
import { randomUUID } from 'node:crypto';
import { queryRows, sql, trusted, param } from '@groupscope/clickhouse';
import { committedOffsets, createProducer, runBatchConsumer, withAdmin, type KafkaMessage, type RunningConsumer } from '@groupscope/kafka';
import { silentLogger } from '@groupscope/logger';
import { testClickHouse, testKafka, uniqueName, waitFor, type TestClickHouse, type TestKafka, InputProducer, changeMessage, enrichedEvent, eventMessage, groupChange } from '@groupscope/testing';
import { startWriter } from './index';
import { testWriterConfig } from '../test/config';

jest.setTimeout(60000);

let t: TestKafka;
let ch: TestClickHouse;
let input: InputProducer;
let writer: { url: string; stop(): Promise<void> } | null = null;
const groupId = uniqueName('writer');

const count = async (table: string, where = sql`1`) =>
  (await queryRows<{ n: number }>(ch, sql`SELECT count() AS n FROM ${trusted(ch.table(table))} WHERE ${where}`))[0]!.n;

beforeAll(async () => {
  t = testKafka();
  await t.ensureTopics(2);
  ch = await testClickHouse();
  input = new InputProducer(t.kafka, t.topics);
  await input.connect();
  writer = await startWriter({
    config: testWriterConfig({ TOPIC_PREFIX: t.prefix, WRITER_GROUP_ID: groupId, WRITER_BATCH_MS: '200', WRITER_BATCH_ROWS: '50000' }),
    logger: silentLogger,
    ch,
    kafka: t.kafka,
  });
});

afterAll(async () => {
  await writer?.stop();
  await input?.disconnect();
  await ch?.cleanup();
});

describe('writer', () => {
  it('writes enriched events to events and event_groups with the right columns', async () => {
    const e = enrichedEvent(1, {
      project_id: 42,
      user_id: null,
      device_id: 'dev-12345',
      event_properties: JSON.stringify({ amount: 120, paid: true, tags: ['a'], note: "it's" }),
      groups: { company: ['acme', 'globex'] },
      group_properties: [{ group_type: 'company', group_value: 'acme', properties: JSON.stringify({ plan: 'enterprise', seats: 40 }) }],
      session_id: 1_762_000_000_000,
      revenue: 12.5,
      quantity: 2,
    });
    await input.send('enriched', [eventMessage(e)]);
    const rows = await waitFor(async () => {
      const r = await queryRows<Record<string, unknown>>(
        ch,
        sql`SELECT *, toUnixTimestamp64Milli(event_time) AS t_ms, toUnixTimestamp64Milli(receive_time) AS r_ms
            FROM ${trusted(ch.table('events'))} WHERE project_id = ${param(42, 'UInt32')}`,
      );
      return r.length > 0 && r;
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      project_id: 42,
      t_ms: e.event_time,
      r_ms: e.receive_time,
      event_type: e.event_type,
      uuid: e.uuid,
      user_id: '',
      device_id: 'dev-12345',
      user_key: '$device:dev-12345',
      insert_id: e.insert_id,
      session_id: 1_762_000_000_000,
      event_id: 1,
      event_properties: { amount: '120', paid: 'true', tags: '["a"]', note: "it's" },
      user_properties: { role: 'admin' },
      groups: { company: ['acme', 'globex'] },
      context: { platform: 'Web' },
      revenue: 12.5,
      price: null,
      quantity: 2,
      extra: '{}',
    });
    expect(JSON.parse(rows[0]!.group_properties as string)).toEqual({ company: { acme: { plan: 'enterprise', seats: 40 } } });
    const groups = await waitFor(async () => {
      const r = await queryRows<{ group_type: string; group_value: string; group_properties: Record<string, string>; user_key: string; kafka_offset: number }>(
        ch,
        sql`SELECT group_type, group_value, group_properties, user_key, kafka_offset FROM ${trusted(ch.table('event_groups'))}
            WHERE project_id = ${param(42, 'UInt32')} ORDER BY group_value`,
      );
      return r.length === 2 && r;
    });
    expect(groups.map((g) => [g.group_type, g.group_value, g.group_properties, g.user_key])).toEqual([
      ['company', 'acme', { plan: 'enterprise', seats: '40' }, '$device:dev-12345'],
      ['company', 'globex', {}, '$device:dev-12345'],
    ]);
    // the materialized view keeps first/last activity per group (its part is committed after event_groups' own, so
    // a reader may see the event_groups rows first)
    const activity = async () =>
      Number(
        (await queryRows<{ n: number }>(ch, sql`SELECT count() AS n FROM ${trusted(ch.table('group_activity'))} WHERE project_id = ${param(42, 'UInt32')}`))[0]!.n,
      );
    await waitFor(async () => (await activity()) >= 2, { message: 'group_activity has both groups' });
    expect(await activity()).toBe(2);
  });

  it('writes group changes to groups (current) and group_property_history (every value)', async () => {
    const key = { project_id: 43, group_type: 'company', group_value: 'acme' };
    const t0 = Date.UTC(2026, 10, 1);
    await input.send('groupChanges', [
      changeMessage(groupChange(0, { ...key, event_time: t0, properties: '{"plan":"free"}', changed: ['plan'] })),
      changeMessage(groupChange(0, { ...key, event_time: t0 + 1000, properties: '{"plan":"pro","region":"EU"}', changed: ['plan', 'region'] })),
    ]);
    await waitFor(async () => (await count('group_property_history', sql`project_id = 43`)) === 3);
    await input.send('groupChanges', [
      changeMessage(groupChange(0, { ...key, event_time: t0 + 2000, properties: '{"plan":"enterprise"}', changed: ['plan'], removed: ['region'] })),
    ]);
    await waitFor(async () => (await count('group_property_history', sql`project_id = 43`)) === 5);
    const current = await queryRows<{ properties: Record<string, string>; properties_json: string; updated: number; first: number }>(
      ch,
      sql`SELECT properties, properties_json, toUnixTimestamp64Milli(updated_at) AS updated, toUnixTimestamp64Milli(first_identified) AS first
          FROM ${trusted(ch.table('groups'))} FINAL WHERE project_id = 43`,
    );
    // the newest change wins, and keeps the time the group was first identified
    expect(current).toEqual([{ properties: { plan: 'enterprise' }, properties_json: '{"plan":"enterprise"}', updated: t0 + 2000, first: t0 }]);
    const history = await queryRows<{ property: string; value: string; removed: number; t: number }>(
      ch,
      sql`SELECT property, value, removed, toUnixTimestamp64Milli(event_time) AS t FROM ${trusted(ch.table('group_property_history'))}
          WHERE project_id = 43 ORDER BY t, property`,
    );
    expect(history).toEqual([
      { property: 'plan', value: 'free', removed: 0, t: t0 },
      { property: 'plan', value: 'pro', removed: 0, t: t0 + 1000 },
      { property: 'region', value: 'EU', removed: 0, t: t0 + 1000 },
      { property: 'plan', value: 'enterprise', removed: 0, t: t0 + 2000 },
      { property: 'region', value: '', removed: 1, t: t0 + 2000 },
    ]);
  });

  it('writes many records once each and commits offsets only after the insert', async () => {
    const events = Array.from({ length: 600 }, (_, i) => enrichedEvent(i, { project_id: 44 }));
    await input.send('enriched', events.map(eventMessage), 200);
    // event_groups is a second INSERT after the events one: against a server it can lag the events by a moment
    await waitFor(async () => (await count('events', sql`project_id = 44`)) === 600 && (await count('event_groups', sql`project_id = 44`)) === 1200, {
      timeoutMs: 60000,
      message: '600 events and their 1200 group rows',
    });
    const uniq = await queryRows<{ n: number }>(ch, sql`SELECT uniqExact(uuid) AS n FROM ${trusted(ch.table('events'))} WHERE project_id = 44`);
    expect(uniq[0]!.n).toBe(600);
    // every partition's committed offset reaches its end
    await waitFor(async () => {
      const committed = await committedOffsets(t.kafka, groupId, t.topics.enriched);
      const ends = await withAdmin(t.kafka, (a) => a.fetchTopicOffsets(t.topics.enriched));
      return ends.length > 0 && ends.every((e) => committed.get(e.partition) === Number(e.high));
    });
  });

  it('reads only committed transactions and commits past their markers (no lag left behind)', async () => {
    const producer = createProducer(t.kafka, { transactionalId: uniqueName('txn') });
    await producer.connect();
    try {
      const aborted = await producer.transaction();
      await aborted.send({ topic: t.topics.enriched, messages: Array.from({ length: 5 }, (_, i) => eventMessage(enrichedEvent(i, { project_id: 46 }))) });
      await aborted.abort();
      const txn = await producer.transaction();
      await txn.send({ topic: t.topics.enriched, messages: Array.from({ length: 10 }, (_, i) => eventMessage(enrichedEvent(i, { project_id: 47 }))) });
      await txn.commit();
    } finally {
      await producer.disconnect();
    }
    await waitFor(async () => (await count('events', sql`project_id = 47`)) === 10);
    await waitFor(async () => {
      const committed = await committedOffsets(t.kafka, groupId, t.topics.enriched);
      const ends = await withAdmin(t.kafka, (a) => a.fetchTopicOffsets(t.topics.enriched));
      return ends.every((e) => committed.get(e.partition) === Number(e.high));
    }, { message: 'committed up to the high watermark, markers included' });
    expect(await count('events', sql`project_id = 46`)).toBe(0);
  });

  it('sends undecodable and invalid records to the DLQ with reason headers, and writes the rest', async () => {
    const dlq: KafkaMessage[] = [];
    const reader: RunningConsumer = await runBatchConsumer({
      kafka: t.kafka,
      groupId: uniqueName('dlq-reader'),
      topics: [t.topics.dlq],
      logger: silentLogger,
      handle: async (b) => {
        dlq.push(...b.messages);
      },
    });
    try {
      const good = enrichedEvent(5, { project_id: 45 });
      const badUuid = enrichedEvent(6, { project_id: 45, uuid: 'nope' });
      const badProps = enrichedEvent(7, { project_id: 45, event_properties: '[1,2]' });
      await input.send('enriched', [
        { key: 'k1', value: Buffer.from('definitely not avro') },
        eventMessage(badUuid),
        eventMessage(good),
        eventMessage(badProps),
        { key: 'k2', value: Buffer.from([1, 2, 3]), headers: { 'gs-schema': 'ffffffffffffffff' } },
      ]);
      await input.send('groupChanges', [{ key: 'k3', value: Buffer.from('{"json":"not avro"}') }, changeMessage(groupChange(1, { project_id: 45, properties: 'x' }))]);
      await waitFor(() => dlq.length >= 6, { timeoutMs: 30000, message: 'dead letters' });
      const byKey = (k: string) => dlq.find((m) => m.key?.toString() === k);
      const header = (m: KafkaMessage | undefined, h: string) => m?.headers?.[h]?.toString();
      expect(header(byKey('k1'), 'dlq-reason')).toBe('decode_error');
      expect(header(byKey('k1'), 'dlq-stage')).toBe('writer');
      expect(header(byKey('k1'), 'dlq-source-topic')).toBe(t.topics.enriched);
      expect(header(byKey('k1'), 'dlq-source-offset')).toMatch(/^\d+$/);
      expect(byKey('k1')?.value?.toString()).toBe('definitely not avro'); // published unchanged
      expect(header(byKey('k2'), 'dlq-reason')).toBe('decode_error');
      expect(header(byKey('k2'), 'dlq-error')).toMatch(/unknown writer schema/);
      expect(header(byKey('k3'), 'dlq-source-topic')).toBe(t.topics.groupChanges);
      const invalid = dlq.filter((m) => header(m, 'dlq-reason') === 'invalid_record').map((m) => header(m, 'dlq-error'));
      expect(invalid.sort()).toEqual(['event_properties is not a JSON object', 'properties is not JSON', 'uuid is not a UUID']);
      await waitFor(async () => (await count('events', sql`project_id = 45`)) === 1);
      const rows = await queryRows<{ uuid: string }>(ch, sql`SELECT uuid FROM ${trusted(ch.table('events'))} WHERE project_id = 45`);
      expect(rows).toEqual([{ uuid: good.uuid }]);
    } finally {
      await reader.stop();
    }
  });

  it('serves /health, /ready and /metrics', async () => {
    const health = await fetch(`${writer!.url}/health`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${writer!.url}/ready`);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { clickhouse: true, kafka: true } });
    const metrics = await (await fetch(`${writer!.url}/metrics`)).text();
    expect(metrics).toMatch(/groupscope_writer_rows_written_total\{table="events"\} \d+/);
    expect(metrics).toMatch(/groupscope_writer_batch_rows_bucket/);
    expect(metrics).toMatch(/groupscope_writer_insert_duration_seconds_bucket/);
    expect(metrics).toMatch(/groupscope_writer_consumer_lag/);
    expect(metrics).toMatch(/groupscope_dead_letters_total\{stage="writer",reason="decode_error"\} \d+/);
  });
});

describe('batching', () => {
  it('flushes as soon as WRITER_BATCH_ROWS records are buffered, long before WRITER_BATCH_MS', async () => {
    const t2 = testKafka();
    await t2.ensureTopics(1);
    const ch2 = await testClickHouse();
    const w = await startWriter({
      config: testWriterConfig({ TOPIC_PREFIX: t2.prefix, WRITER_GROUP_ID: uniqueName('writer'), WRITER_BATCH_MS: '600000', WRITER_BATCH_ROWS: '100' }),
      logger: silentLogger,
      ch: ch2,
      kafka: t2.kafka,
    });
    const p = new InputProducer(t2.kafka, t2.topics);
    await p.connect();
    const n = async () => (await queryRows<{ n: number }>(ch2, sql`SELECT count() AS n FROM ${trusted(ch2.table('events'))}`))[0]!.n;
    const buffered = async () => {
      const text = await (await fetch(`${w.url}/metrics`)).text();
      return Number(/^groupscope_writer_records_buffered (\d+)/m.exec(text)?.[1]);
    };
    const send = (from: number, k: number) =>
      p.send('enriched', Array.from({ length: k }, (_, i) => eventMessage(enrichedEvent(from + i, { uuid: randomUUID() }))));
    try {
      // 60 records: consumed and held (the time limit is ten minutes)
      await send(0, 60);
      await waitFor(async () => (await buffered()) === 60, { message: '60 buffered' });
      expect(await n()).toBe(0);
      // 50 more reach WRITER_BATCH_ROWS: all 110 are written at once
      await send(60, 50);
      await waitFor(async () => (await n()) === 110, { timeoutMs: 30000 });
      await waitFor(async () => (await buffered()) === 0);
      await send(110, 30);
      await waitFor(async () => (await buffered()) === 30, { message: '30 buffered' });
      expect(await n()).toBe(110);
      // stopping flushes the rest
      await w.stop();
      expect(await n()).toBe(140);
    } finally {
      await w.stop();
      await p.disconnect();
      await ch2.cleanup();
    }
  });
});
