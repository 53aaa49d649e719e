// Migration 010 (the writer's offset projections) applied to a database that already holds data keeps the data,
// summarises the existing parts, and the writer's maxima query reads the projection.
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, queryRows, sql, trusted, param } from '@groupscope/clickhouse';
import { MIGRATIONS_DIR } from '@groupscope/schema';
import { silentLogger } from '@groupscope/logger';
import { testClickHouse, waitFor, type TestClickHouse } from '@groupscope/testing';
import { readWatermarks } from './watermarks';

let ch: TestClickHouse;
let dir: string;

beforeAll(async () => {
  ch = await testClickHouse({ migrate: false });
  dir = mkdtempSync(join(tmpdir(), 'gs-writer-mig-'));
  for (const f of readdirSync(MIGRATIONS_DIR).filter((f) => Number(f.split('_')[0]) < 10)) cpSync(join(MIGRATIONS_DIR, f), join(dir, f));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await ch?.cleanup();
});

it('adds the offset projections to tables that already hold rows, keeping them', async () => {
  expect(await migrate(ch, silentLogger, dir)).toEqual([1]);
  // 3 months x 2 partitions, offsets 0..299
  await ch.client.command({
    query: `INSERT INTO ${ch.table('events')} (project_id, event_time, event_type, uuid, user_id, device_id, insert_id, event_properties,
              user_properties, groups, context, receive_time, kafka_partition, kafka_offset)
            SELECT 1, toDateTime64('2026-09-01 00:00:00', 3, 'UTC') + toIntervalDay(intDiv(number, 100) * 31), 'x', generateUUIDv4(number),
              'u', '', '', map(), map(), map(), map(), now64(3), number % 2, number FROM numbers(300)`,
  });
  await ch.client.command({
    query: `INSERT INTO ${ch.table('group_property_history')} (project_id, group_type, property, value, group_value, event_time, receive_time,
              kafka_partition, kafka_offset)
            SELECT 1, 'company', 'plan', 'pro', toString(number), now64(3), now64(3), number % 2, number FROM numbers(50)`,
  });

  const applied = await migrate(ch, silentLogger);
  expect(applied).toContain(10);
  const counts = await queryRows<{ e: number; h: number }>(
    ch,
    sql`SELECT (SELECT count() FROM ${trusted(ch.table('events'))}) AS e, (SELECT count() FROM ${trusted(ch.table('group_property_history'))}) AS h`,
  );
  expect(counts).toEqual([{ e: 300, h: 50 }]);

  // the MATERIALIZE mutations summarise the parts written before the projection existed
  await waitFor(async () => {
    const r = await queryRows<{ table: string }>(
      ch,
      sql`SELECT DISTINCT table AS table FROM system.projection_parts
          WHERE database = ${param(ch.database, 'String')} AND name = 'writer_offsets' AND active ORDER BY table`,
    );
    return r.map((x) => x.table).join(',') === 'events,group_property_history';
  }, { timeoutMs: 30000 });

  const plan = await (await ch.client.query({
    query: `EXPLAIN SELECT kafka_partition AS p, toYYYYMM(event_time) AS m, max(kafka_offset) AS o FROM ${ch.table('events')}
            WHERE kafka_partition IN [0, 1] GROUP BY p, m`,
    format: 'TabSeparatedRaw',
  })).text();
  expect(plan).toContain('ReadFromMergeTree (writer_offsets)');

  const events = await readWatermarks(ch, 'events', [0, 1, 2]);
  expect(events).toEqual(new Map([
    [0, new Map([[202609, 98], [202610, 198], [202611, 298]])],
    [1, new Map([[202609, 99], [202610, 199], [202611, 299]])],
    [2, new Map()],
  ]));
  const history = await readWatermarks(ch, 'group_property_history', [0, 1]);
  expect(history).toEqual(new Map([[0, new Map([[0, 48]])], [1, new Map([[0, 49]])]]));
}, 60000);
