// Running statements. Services go through these (and the sql`` builder) rather than the client, so every
// statement is built from bound values and code-owned names.
import { Readable } from 'node:stream';
import type { ClickHouse } from './client';
import { sql, trusted, type Sql, type SqlValue } from './sql';

type Settings = Record<string, unknown>;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A table of `ch`'s database, quoted, for sql``. Table names come from code, never from requests. */
export function tableRef(ch: ClickHouse, name: string): SqlValue {
  return trusted(ch.table(name));
}

/** A list of column names written in code, quoted and comma-separated, for sql``. */
export function columnList(names: readonly string[]): SqlValue {
  for (const n of names) if (!IDENT.test(n)) throw new Error(`invalid column name: ${n}`);
  return trusted(names.map((n) => `\`${n}\``).join(', '));
}

/** Runs a built query and returns its rows. */
export async function queryRows<T>(ch: ClickHouse, q: Sql, settings?: Settings): Promise<T[]> {
  const { query, params } = q.build();
  const rs = await ch.client.query({ query, query_params: params, format: 'JSONEachRow', clickhouse_settings: settings as never });
  return rs.json<T>();
}

/** Runs a statement without a result (DDL, INSERT ... SELECT). */
export async function exec(ch: ClickHouse, q: Sql, settings?: Settings): Promise<void> {
  const { query, params } = q.build();
  await ch.client.command({ query, query_params: params, clickhouse_settings: settings as never });
}

/**
 * Runs a statement whose input rows follow it, already encoded in the format the statement names (an INSERT ...
 * FORMAT, or an INSERT ... SELECT FROM input() ... FORMAT): the server reads them as the request body. Nothing
 * re-encodes them on the way.
 */
export async function execWithBody(ch: ClickHouse, q: Sql, body: Buffer | readonly (Buffer | string)[], settings?: Settings): Promise<void> {
  const { query, params } = q.build();
  const chunks = Buffer.isBuffer(body) ? [body] : body.map((c) => (typeof c === 'string' ? Buffer.from(c) : c));
  const res = await ch.client.exec({
    query,
    query_params: params,
    values: Readable.from(chunks, { objectMode: false }),
    clickhouse_settings: settings as never,
  });
  // the (empty) response must be read, or a server connection stays busy
  res.stream.resume();
  await new Promise<void>((resolve, reject) => {
    res.stream.once('end', resolve);
    res.stream.once('close', resolve);
    res.stream.once('error', reject);
  });
}

/** Inserts pre-encoded lines (JSONCompactEachRow unless `format` says otherwise) into `columns` of `table`. */
export async function insertLines(
  ch: ClickHouse,
  table: string,
  columns: readonly string[],
  lines: Buffer | readonly (Buffer | string)[],
  opts: { format?: 'JSONCompactEachRow' | 'JSONEachRow'; settings?: Settings } = {},
): Promise<void> {
  if (Buffer.isBuffer(lines) ? lines.length === 0 : lines.length === 0) return;
  const format = trusted(opts.format ?? 'JSONCompactEachRow');
  await execWithBody(ch, sql`INSERT INTO ${tableRef(ch, table)} (${columnList(columns)}) FORMAT ${format}`, lines, opts.settings);
}

/** Inserts rows as JSONEachRow. */
export async function insertRows(ch: ClickHouse, table: string, rows: readonly object[], settings?: Settings): Promise<void> {
  if (rows.length === 0) return;
  await ch.client.insert({ table: ch.table(table), values: rows as object[], format: 'JSONEachRow', clickhouse_settings: settings as never });
}

/** Creates `ch`'s database when it does not exist. */
export async function createDatabase(ch: ClickHouse): Promise<void> {
  await exec(ch, sql`CREATE DATABASE IF NOT EXISTS ${trusted(`\`${ch.database}\``)}`);
}

/** Drops `ch`'s database and everything in it. */
export async function dropDatabase(ch: ClickHouse): Promise<void> {
  await exec(ch, sql`DROP DATABASE IF EXISTS ${trusted(`\`${ch.database}\``)} SYNC`);
}
