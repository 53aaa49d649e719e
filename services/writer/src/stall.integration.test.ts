// An operator must see a stall: while ClickHouse refuses every insert (a table DETACHed: an infrastructure failure,
// retried forever) and records wait, the writer's /ready turns 503 with the reason once it has failed for
// CONSUMER_STALL_AFTER_MS without a commit, and groupscope_writer_stalled{reason} says which stage fails. When the
// table is back, the batch is written and the writer is ready again.
import { param, queryRows, sql, trusted } from '@groupscope/clickhouse';
import { silentLogger } from '@groupscope/logger';
import { enrichedEvent, eventMessage, InputProducer, testClickHouse, testKafka, uniqueName, waitFor, type TestClickHouse, type TestKafka } from '@groupscope/testing';
import { startWriter } from './index';
import { testWriterConfig } from '../test/config';

jest.setTimeout(120_000);

let t: TestKafka;
let ch: TestClickHouse;

beforeAll(async () => {
  t = testKafka();
  await t.ensureTopics(1);
  ch = await testClickHouse();
});
afterAll(async () => {
  await ch?.cleanup();
});

const table = () => ch.table('events');
const ready = async (url: string) => {
  const res = await fetch(`${url}/ready`);
  return { status: res.status, body: (await res.json()) as { checks: Record<string, boolean>; reasons?: Record<string, string> } };
};
const stalledGauge = async (url: string) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(/^groupscope_writer_stalled\{reason="([^"]+)"\} 1$/gm)].map((m) => m[1]);
};

it('reports a stall in /ready and groupscope_writer_stalled, and recovers when ClickHouse takes writes again', async () => {
  const w = await startWriter({
    config: testWriterConfig({
      TOPIC_PREFIX: t.prefix, KAFKA_PARTITIONS: '1', WRITER_GROUP_ID: uniqueName('writer'), WRITER_BATCH_MS: '100', WRITER_RETRY_MAX_MS: '300', CONSUMER_STALL_AFTER_MS: '2000',
    }),
    logger: silentLogger,
    ch,
    kafka: t.kafka,
  });
  const input = new InputProducer(t.kafka, t.topics);
  await input.connect();
  let detached = false;
  try {
    expect((await ready(w.url)).status).toBe(200);
    await ch.client.command({ query: `DETACH TABLE ${table()}`, clickhouse_settings: { check_table_dependencies: 0 } });
    detached = true;
    await input.send('enriched', Array.from({ length: 20 }, (_, i) => eventMessage(enrichedEvent(i, { project_id: 88 }))));
    const stalled = await waitFor(async () => {
      const r = await ready(w.url);
      return r.status === 503 && r;
    }, { timeoutMs: 60_000, message: '/ready turns 503' });
    expect(stalled.body.checks).toMatchObject({ clickhouse: true, kafka: true, progress: false });
    expect(stalled.body.reasons?.progress).toMatch(/^stalled: \d+ failed attempts \(clickhouse\) and no progress for \d+ s/);
    expect(await stalledGauge(w.url)).toEqual(['clickhouse']);

    await ch.client.command({ query: `ATTACH TABLE ${table()}`, clickhouse_settings: { check_table_dependencies: 0 } });
    detached = false;
    await waitFor(async () => (await ready(w.url)).status === 200, { timeoutMs: 60_000, message: 'ready again' });
    expect(await stalledGauge(w.url)).toEqual([]);
    const [row] = await queryRows<{ n: number }>(ch, sql`SELECT count() AS n FROM ${trusted(table())} WHERE project_id = ${param(88, 'UInt32')}`);
    expect(Number(row!.n)).toBe(20);
  } finally {
    if (detached) await ch.client.command({ query: `ATTACH TABLE ${table()}`, clickhouse_settings: { check_table_dependencies: 0 } });
    await w.stop();
    await input.disconnect();
  }
});
