// The one place the query service runs SQL. Stores and chart builders only build statements (Sql, or rows to insert);
// this executor runs them, every call within the query's limits:
// - time: ClickHouse's own max_execution_time stops the work on the server, and a deadline a little later gives up
//   the wait (a stalled connection) and kills the statement; both are answered 504. Inside an API request the limit
//   is what is left of the request's budget (QUERY_TIMEOUT_MS for the whole request), so a request of several calls
//   cannot run longer than one call may;
// - memory: max_memory_usage per statement (a 422 naming the limit);
// - result size: rows are read as a stream and the read stops at QUERY_MAX_RESULT_ROWS / _BYTES (a 413); exports
//   stream instead (stream()), holding one chunk at a time;
// - cancellation: when the request's client goes away (its scope's signal), the wait is given up and the statement
//   killed in ClickHouse by its query_id.
// The limits go into each statement's SETTINGS clause rather than the client's per-call settings: the embedded
// engine turns those into a SET that outlives the call.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import {
  exec, insertRows, killQuery, queryRows, ResultTooLarge, sql, streamRows, trusted, type CallOptions, type ClickHouse, type Sql,
} from '@groupscope/clickhouse';
import { clientClosed, queryTimeout, resultTooLarge } from '../http/errors';

/** Qualifies a table name (table names come from code, never from requests). */
export type TableRef = (name: string) => string;

/** Rows to insert as JSONEachRow: values travel as data, never as SQL text. */
export interface Insert {
  table: string;
  rows: readonly object[];
}

export interface Db {
  table: TableRef;
  /** a result read whole (bounded by QUERY_MAX_RESULT_ROWS / _BYTES) */
  rows<T>(q: Sql): Promise<T[]>;
  /** a result read in chunks as it arrives, for replies written while they are read (CSV exports) */
  stream<T>(q: Sql): AsyncGenerator<T[]>;
  /** a statement without a result (INSERT ... SELECT, DELETE), with ClickHouse settings of its own */
  exec(q: Sql, settings?: Record<string, string | number>): Promise<void>;
  insert(i: Insert): Promise<void>;
}

export interface QueryLimits {
  /** time limit of one call, and of all calls of one API request together */
  timeoutMs: number;
  /** time limit of a streamed export (Db.stream) */
  exportTimeoutMs?: number;
  /** max_memory_usage of every statement (0: ClickHouse's own default) */
  maxMemoryBytes?: number;
  /** the most rows and bytes (of JSON) read for one Db.rows call */
  maxResultRows?: number;
  maxResultBytes?: number;
}

/** What the calls made while serving one API request share: its cancellation and its time budget. */
export interface RequestScope {
  /** aborted when the client went away */
  signal: AbortSignal;
  /** ms since epoch by which every call of the request must be done */
  deadline: number;
  /** tells the request's watchdog that a call (an export) may run until `t` (ms since epoch) */
  extendTo?(t: number): void;
  /** the calls of the request not done yet: query_id -> when it started (ms since epoch), for the watchdog's log */
  pending?: Map<string, number>;
}

const scopes = new AsyncLocalStorage<RequestScope>();

/** The scope of the request being served, if any. */
export const currentScope = (): RequestScope | undefined => scopes.getStore();

/** Runs `fn` (and everything it starts) in a request's scope: the executor's calls then follow its signal and budget. */
export function withRequestScope<T>(scope: RequestScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

/** How long after ClickHouse's own limit the wait is given up: ClickHouse's error is the better answer. */
const GRACE_MS = 2000;
/** ClickHouse checks max_execution_time between blocks; below this a call could not even start. */
const MIN_SECONDS = 0.05;

class Timeout extends Error {}

export function createDb(ch: ClickHouse, limitsOrTimeout: QueryLimits | number): Db {
  const limits: QueryLimits = typeof limitsOrTimeout === 'number' ? { timeoutMs: limitsOrTimeout } : limitsOrTimeout;

  /** The time a call may take: the per-call limit, or what is left of the request's budget. */
  const allowedMs = (limitMs: number, useBudget: boolean): number => {
    const scope = scopes.getStore();
    if (!scope || !useBudget) return limitMs;
    const left = scope.deadline - Date.now();
    if (left < MIN_SECONDS * 1000) throw queryTimeout();
    return Math.min(limitMs, left);
  };

  const limited = (q: Sql, ms: number) => {
    const settings = [`max_execution_time = ${Math.max(MIN_SECONDS, ms / 1000).toFixed(3)}`];
    if (limits.maxMemoryBytes) settings.push(`max_memory_usage = ${Math.floor(limits.maxMemoryBytes)}`);
    return sql`${q} SETTINGS ${trusted(settings.join(', '))}`;
  };

  /**
   * One call's guard: its query_id, and a signal that fires at its deadline or when the request's client goes away.
   * A call given up (deadline, client gone, result over its bound) is killed in ClickHouse, where it would otherwise
   * run on, and answered 504, 499 or 413.
   */
  function guard(ms: number) {
    const scope = scopes.getStore();
    if (scope?.signal.aborted) throw clientClosed();
    const queryId = randomUUID();
    const abort = new AbortController();
    const onClientGone = () => abort.abort(clientClosed());
    scope?.signal.addEventListener('abort', onClientGone, { once: true });
    const timer = setTimeout(() => abort.abort(new Timeout()), ms + GRACE_MS);
    const kill = () => void killQuery(ch, queryId).catch(() => undefined);
    scope?.pending?.set(queryId, Date.now());
    return {
      opts: { queryId, signal: abort.signal } satisfies CallOptions,
      kill,
      failure(err: unknown): unknown {
        if (abort.signal.aborted || err instanceof ResultTooLarge) kill();
        if (abort.signal.aborted) return abort.signal.reason instanceof Timeout ? queryTimeout() : clientClosed();
        if (err instanceof ResultTooLarge) return resultTooLarge(err.limit, err.max);
        return err;
      },
      end() {
        clearTimeout(timer);
        scope?.pending?.delete(queryId);
        scope?.signal.removeEventListener('abort', onClientGone);
      },
    };
  }

  async function call<T>(ms: number, work: (opts: CallOptions) => Promise<T>): Promise<T> {
    const g = guard(ms);
    try {
      return await work(g.opts);
    } catch (err) {
      throw g.failure(err);
    } finally {
      g.end();
    }
  }

  const bounds = { maxRows: limits.maxResultRows, maxBytes: limits.maxResultBytes };

  return {
    table: (name) => ch.table(name),
    async rows<T>(q: Sql) {
      const ms = allowedMs(limits.timeoutMs, true);
      return call(ms, (opts) => queryRows<T>(ch, limited(q, ms), undefined, { ...opts, ...bounds }));
    },
    async *stream<T>(q: Sql) {
      // an export has its own limit: it may outlast the request's budget for everything else
      const ms = allowedMs(limits.exportTimeoutMs ?? limits.timeoutMs, false);
      scopes.getStore()?.extendTo?.(Date.now() + ms + GRACE_MS);
      const g = guard(ms);
      let complete = false;
      try {
        yield* streamRows<T>(ch, limited(q, ms), undefined, g.opts);
        complete = true;
      } catch (err) {
        throw g.failure(err);
      } finally {
        g.end();
        // stopped early (the reader returned or failed): the statement may still run in ClickHouse
        if (!complete) g.kill();
      }
    },
    async exec(q, settings) {
      const ms = allowedMs(limits.timeoutMs, true);
      return call(ms, (opts) => exec(ch, limited(q, ms), settings, opts));
    },
    // rows sent as data run no query that could take long: the deadline alone guards the wait
    async insert(i) {
      if (i.rows.length === 0) return;
      return call(allowedMs(limits.timeoutMs, true), () => insertRows(ch, i.table, i.rows));
    },
  };
}
