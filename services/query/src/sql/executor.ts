// The one place the query service runs SQL. Stores and chart builders only build statements (Sql, or rows to insert);
// this executor runs them, every call under the query time limit: ClickHouse's own max_execution_time stops the
// work on the server, and a deadline a little later gives up the wait (a stalled connection), both answered 504.
// The limit goes into each statement's SETTINGS clause rather than the client's per-call settings: the embedded
// engine turns those into a SET that outlives the call, and in local mode the writer shares that session.
import { exec, insertRows, queryRows, sql, trusted, type ClickHouse, type Sql } from '@groupscope/clickhouse';
import { queryTimeout } from '../http/errors';

/** Qualifies a table name (table names come from code, never from requests). */
export type TableRef = (name: string) => string;

/** Rows to insert as JSONEachRow: values travel as data, never as SQL text. */
export interface Insert {
  table: string;
  rows: readonly object[];
}

export interface Db {
  table: TableRef;
  rows<T>(q: Sql): Promise<T[]>;
  /** a statement without a result (INSERT ... SELECT, DELETE) */
  exec(q: Sql): Promise<void>;
  insert(i: Insert): Promise<void>;
}

/** How long after ClickHouse's own limit the wait is given up: ClickHouse's error is the better answer. */
const GRACE_MS = 2000;

export function createDb(ch: ClickHouse, timeoutMs: number): Db {
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const limited = (q: Sql) => sql`${q} SETTINGS max_execution_time = ${trusted(String(seconds))}`;
  const deadline = <T>(work: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(queryTimeout()), seconds * 1000 + GRACE_MS);
    });
    return Promise.race([work, late]).finally(() => clearTimeout(timer));
  };
  return {
    table: (name) => ch.table(name),
    rows: <T>(q: Sql) => deadline(queryRows<T>(ch, limited(q))),
    exec: (q) => deadline(exec(ch, limited(q))),
    // rows sent as data run no query that could take long: the deadline alone guards the wait
    insert: (i) => (i.rows.length === 0 ? Promise.resolve() : deadline(insertRows(ch, i.table, i.rows))),
  };
}
