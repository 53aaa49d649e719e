// Test helper run as its own process (a chDB folder opens in one process only): prints, as JSON, how many rows
// and how many distinct rows each writer table of CLICKHOUSE_URL (else CHDB_PATH) / CLICKHOUSE_DATABASE holds.
import { createClickHouse, queryRows, sql, trusted } from '@groupscope/clickhouse';
import { silentLogger } from '@groupscope/logger';

async function main() {
  const ch = createClickHouse({
    url: process.env.CLICKHOUSE_URL,
    username: process.env.CLICKHOUSE_USER,
    password: process.env.CLICKHOUSE_PASSWORD,
    database: process.env.CLICKHOUSE_DATABASE ?? 'groupscope',
    chdbPath: process.env.CHDB_PATH!,
    logger: silentLogger,
  });
  const distinct: Record<string, string> = {
    events: 'uuid',
    event_groups: 'uuid, group_type, group_value',
    groups: 'project_id, group_type, group_value',
    group_property_history: 'group_value, property, kafka_offset',
  };
  const out: Record<string, { rows: number; distinct: number }> = {};
  for (const [table, key] of Object.entries(distinct)) {
    const [r] = await queryRows<{ rows: number; distinct: number }>(
      ch,
      sql`SELECT count() AS rows, uniqExact(${trusted(key)}) AS distinct FROM ${trusted(ch.table(table))}`,
    );
    out[table] = r!;
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  await ch.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
