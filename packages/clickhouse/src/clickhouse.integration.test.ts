// The ClickHouse server over HTTP: migrations, inserts and bound-parameter queries.
import { silentLogger } from '@groupscope/logger';
import { testClickHouse, type TestClickHouse } from '@groupscope/testing';
import { mkdtempSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS_DIR } from '@groupscope/schema';
import { migrate, loadMigrations, sql, param, trusted, queryRows, insertRows, streamRows, killQuery } from './index';

let ch: TestClickHouse;

beforeAll(async () => {
  ch = await testClickHouse({ migrate: false });
});
afterAll(async () => {
  await ch.cleanup();
});

describe('ClickHouse', () => {
  it('applies every migration once; a second run applies nothing', async () => {
    const first = await migrate(ch, silentLogger);
    expect(first).toEqual(loadMigrations().map((m) => m.version));
    expect(await migrate(ch, silentLogger)).toEqual([]);
    const tables = await queryRows<{ name: string }>(
      ch,
      sql`SELECT name FROM system.tables WHERE database = ${param(ch.database, 'String')} ORDER BY name`,
    );
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['events', 'event_groups', 'groups', 'group_property_history', 'schema_migrations']));
  });

  it('inserts rows and reads them back with bound parameters, hostile text staying data', async () => {
    const hostile = "x'); DROP TABLE events; --\\ ünïcødé";
    await insertRows(ch, 'events', [
      { project_id: 1, event_time: '2026-11-01 10:00:00.000', event_type: 'Signed Up', uuid: '00000000-0000-0000-0000-000000000001', user_id: 'alice', device_id: '', insert_id: 'a', event_properties: { plan: hostile }, user_properties: {}, groups: { company: ['acme'] }, context: {}, receive_time: '2026-11-01 10:00:01.000', kafka_partition: 0, kafka_offset: 1 },
      { project_id: 1, event_time: '2026-11-02 10:00:00.000', event_type: 'Signed Up', uuid: '00000000-0000-0000-0000-000000000002', user_id: '', device_id: 'dev-1', insert_id: 'b', event_properties: {}, user_properties: {}, groups: {}, context: {}, receive_time: '2026-11-02 10:00:01.000', kafka_partition: 0, kafka_offset: 2 },
      { project_id: 2, event_time: '2026-11-02 10:00:00.000', event_type: 'Signed Up', uuid: '00000000-0000-0000-0000-000000000003', user_id: 'bob', device_id: '', insert_id: 'c', event_properties: {}, user_properties: {}, groups: {}, context: {}, receive_time: '2026-11-02 10:00:01.000', kafka_partition: 0, kafka_offset: 3 },
    ]);
    const rows = await queryRows<{ user_key: string; plan: string }>(
      ch,
      sql`SELECT user_key, event_properties['plan'] AS plan FROM ${trusted(ch.table('events'))}
          WHERE project_id = ${param(1, 'UInt32')} AND event_type = ${param('Signed Up', 'String')} ORDER BY event_time`,
    );
    expect(rows).toEqual([
      { user_key: 'alice', plan: hostile },
      { user_key: '$device:dev-1', plan: '' },
    ]);
    const byHostile = await queryRows<{ n: number }>(
      ch,
      sql`SELECT count() AS n FROM ${trusted(ch.table('events'))} WHERE event_properties['plan'] = ${param(hostile, 'String')}`,
    );
    expect(byHostile).toEqual([{ n: 1 }]);
  });

  it('keeps data when a later migration is added to an existing database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gs-mig-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    writeFileSync(join(dir, '999_test_extra_column.sql'), 'ALTER TABLE {db}.events ADD COLUMN IF NOT EXISTS test_extra String DEFAULT \'x\';\n');
    expect(await migrate(ch, silentLogger, dir)).toEqual([999]);
    const rows = await queryRows<{ n: number; x: string }>(ch, sql`SELECT count() AS n, any(test_extra) AS x FROM ${trusted(ch.table('events'))}`);
    expect(rows).toEqual([{ n: 3, x: 'x' }]);
  });

  it('ends a read whose reply stalls midway when the caller gives up', async () => {
    // 2 MB of incompressible rows arrive at once, then a row a second for two minutes: the compressed reply holds
    // those back, so the read stalls; only the client's idle-socket timeout (a minute) would end it
    const queryId = `stall-${Date.now()}`;
    const slow = sql`SELECT number, if(number < 20, randomString(100000), '') AS pad FROM system.numbers
      WHERE number < 20 OR sleepEachRow(1) = 0 LIMIT 140 SETTINGS max_block_size = 1`;
    const abort = new AbortController();
    const started = Date.now();
    let rows = 0;
    const read = (async () => {
      for await (const chunk of streamRows<{ number: number }>(ch, slow, undefined, { signal: abort.signal, queryId })) {
        rows += chunk.length;
        // the reply has started: give up while it is being read
        abort.abort(new Error('given up by the caller'));
      }
    })();
    await expect(read).rejects.toThrow('given up by the caller');
    expect(rows).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(50_000);
    await killQuery(ch, queryId);
  });
});
