import type { ClickHouse } from './client';
import type { Sql } from './sql';

/** Runs a built query and returns its rows. */
export async function queryRows<T>(ch: ClickHouse, q: Sql, settings?: Record<string, unknown>): Promise<T[]> {
  const { query, params } = q.build();
  const rs = await ch.client.query({ query, query_params: params, format: 'JSONEachRow', clickhouse_settings: settings as never });
  return rs.json<T>();
}

/** Runs a statement without a result (DDL, INSERT ... SELECT). */
export async function exec(ch: ClickHouse, q: Sql): Promise<void> {
  const { query, params } = q.build();
  await ch.client.command({ query, query_params: params });
}

/** Inserts rows as JSONEachRow. */
export async function insertRows(ch: ClickHouse, table: string, rows: readonly object[], settings?: Record<string, unknown>): Promise<void> {
  if (rows.length === 0) return;
  await ch.client.insert({ table: ch.table(table), values: rows as object[], format: 'JSONEachRow', clickhouse_settings: settings as never });
}
