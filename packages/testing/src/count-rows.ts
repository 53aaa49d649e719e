import { queryRows, sql, tableRef, trusted, type ClickHouse } from '@groupscope/clickhouse';

/** What makes a row of each writer table distinct (a replayed row would repeat it). */
const DISTINCT_BY: Record<string, string> = {
  events: 'uuid',
  event_groups: 'uuid, group_type, group_value',
  groups: 'project_id, group_type, group_value',
  group_property_history: 'group_value, property, kafka_offset',
};

/** Rows and distinct rows of each table the writer fills: equal counts mean nothing was written twice. */
export async function writerTableCounts(ch: ClickHouse): Promise<Record<string, { rows: number; distinct: number }>> {
  const out: Record<string, { rows: number; distinct: number }> = {};
  for (const [table, key] of Object.entries(DISTINCT_BY)) {
    const [r] = await queryRows<{ rows: number; distinct: number }>(
      ch,
      sql`SELECT count() AS rows, uniqExact(${trusted(key)}) AS distinct FROM ${tableRef(ch, table)}`,
    );
    out[table] = r!;
  }
  return out;
}
