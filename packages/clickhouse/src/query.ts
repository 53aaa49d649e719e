// Running statements. Services go through these (and the sql`` builder) rather than the client, so every
// statement is built from bound values and code-owned names.
import { Readable } from 'node:stream';
import type { ClickHouse } from './client';
import { fenceCondition, fencedQueryId, type WriterFence } from './fence';
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

/** How one call runs: its id in ClickHouse, a signal that abandons it, and a bound on the result read. */
export interface CallOptions {
  /** ClickHouse's query_id (system.processes, KILL QUERY); the client makes one up when absent */
  queryId?: string;
  /** aborts the HTTP request; on a server the statement itself keeps running until killQuery stops it */
  signal?: AbortSignal;
  /** the most rows the caller reads: more rows throw ResultTooLarge (and the reply is abandoned) */
  maxRows?: number;
  /** the most bytes of JSON the caller reads: more throw ResultTooLarge */
  maxBytes?: number;
}

/** A result larger than the caller's bound (CallOptions.maxRows / maxBytes): nothing of it is returned. */
export class ResultTooLarge extends Error {
  constructor(
    readonly limit: 'rows' | 'bytes',
    readonly max: number,
  ) {
    super(`the result has more than ${max} ${limit}`);
    this.name = 'ResultTooLarge';
  }
}

/**
 * Runs a built query and returns its rows. The reply is read as a stream, row by row, so a large result neither
 * blocks the event loop in one parse nor builds one giant string; with a bound it stops reading at the bound.
 */
export async function queryRows<T>(ch: ClickHouse, q: Sql, settings?: Settings, opts: CallOptions = {}): Promise<T[]> {
  const out: T[] = [];
  for await (const rows of streamRows<T>(ch, q, settings, opts)) for (const r of rows) out.push(r);
  return out;
}

/**
 * Runs a built query and yields its rows in the chunks they arrive in (for replies written as they are read, e.g.
 * a CSV download). Stopping the iteration early closes the reply.
 */
export async function* streamRows<T>(ch: ClickHouse, q: Sql, settings?: Settings, opts: CallOptions = {}): AsyncGenerator<T[]> {
  const { query, params } = q.build();
  const rs = await ch.client.query({
    query,
    query_params: params,
    format: 'JSONEachRow',
    clickhouse_settings: settings as never,
    query_id: opts.queryId,
    abort_signal: opts.signal,
  });
  const maxRows = opts.maxRows ?? Number.POSITIVE_INFINITY;
  const maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
  let rows = 0;
  let bytes = 0;
  const stream = rs.stream<T>();
  // The client follows the signal only until the reply's headers arrive; a reply that stalls while it is read
  // (a starved server, a half-open connection) is ended here, so the caller's wait ends when its signal fires.
  const onAbort = () => stream.destroy(opts.signal!.reason instanceof Error ? opts.signal!.reason : new Error('the read was abandoned'));
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream as AsyncIterable<{ text: string; json<R>(): R }[]>) {
      const parsed: T[] = [];
      for (const row of chunk) {
        rows++;
        bytes += row.text.length;
        if (rows > maxRows) throw new ResultTooLarge('rows', maxRows);
        if (bytes > maxBytes) throw new ResultTooLarge('bytes', maxBytes);
        parsed.push(row.json<T>());
      }
      yield parsed;
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    // ends the HTTP reply when the caller stopped early or a bound was hit
    if (!stream.readableEnded) rs.close();
  }
}

/** Runs a statement without a result (DDL, INSERT ... SELECT). */
export async function exec(ch: ClickHouse, q: Sql, settings?: Settings, opts: Pick<CallOptions, 'queryId' | 'signal'> = {}): Promise<void> {
  const { query, params } = q.build();
  await ch.client.command({ query, query_params: params, clickhouse_settings: settings as never, query_id: opts.queryId, abort_signal: opts.signal });
}

/** Stops a statement running on the server (an abandoned HTTP request does not stop it there), if it still runs. */
export async function killQuery(ch: ClickHouse, queryId: string): Promise<void> {
  await ch.client.command({ query: 'KILL QUERY WHERE query_id = {id:String} ASYNC', query_params: { id: queryId } });
}

/**
 * Runs a statement whose input rows follow it, already encoded in the format the statement names (an INSERT ...
 * FORMAT, or an INSERT ... SELECT FROM input() ... FORMAT): the server reads them as the request body. Nothing
 * re-encodes them on the way.
 */
export async function execWithBody(
  ch: ClickHouse,
  q: Sql,
  body: Buffer | readonly (Buffer | string)[],
  settings?: Settings,
  opts: Pick<CallOptions, 'queryId'> = {},
): Promise<void> {
  const { query, params } = q.build();
  const chunks = Buffer.isBuffer(body) ? [body] : body.map((c) => (typeof c === 'string' ? Buffer.from(c) : c));
  const res = await ch.client.exec({
    query,
    query_params: params,
    values: Readable.from(chunks, { objectMode: false }),
    clickhouse_settings: settings as never,
    query_id: opts.queryId,
  });
  // the (empty) response must be read, or a server connection stays busy
  res.stream.resume();
  await new Promise<void>((resolve, reject) => {
    res.stream.once('end', resolve);
    res.stream.once('close', resolve);
    res.stream.once('error', reject);
  });
}

/**
 * Inserts pre-encoded lines (JSONCompactEachRow unless `format` says otherwise) into `columns` of `table`. With a
 * writer's `fence` the lines go through `INSERT ... SELECT * FROM input()` (its structure is the columns' own) under
 * the fence's condition and a query_id naming its partitions, as the event lines do.
 */
export async function insertLines(
  ch: ClickHouse,
  table: string,
  columns: readonly string[],
  lines: Buffer | readonly (Buffer | string)[],
  opts: { format?: 'JSONCompactEachRow' | 'JSONEachRow'; settings?: Settings; fence?: WriterFence } = {},
): Promise<void> {
  if (Buffer.isBuffer(lines) ? lines.length === 0 : lines.length === 0) return;
  const format = trusted(opts.format ?? 'JSONCompactEachRow');
  const into = sql`INSERT INTO ${tableRef(ch, table)} (${columnList(columns)})`;
  if (!opts.fence) return execWithBody(ch, sql`${into} FORMAT ${format}`, lines, opts.settings);
  const q = sql`${into} SELECT * FROM input() WHERE ${fenceCondition(ch, opts.fence)} FORMAT ${format}`;
  await execWithBody(ch, q, lines, opts.settings, { queryId: fencedQueryId(ch, opts.fence) });
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
