// The query API's error shape: {"error": {"code", "message", "details"}}. Handlers throw ApiError; the app's error
// handler turns it (or anything else, through toApiError) into a reply and never leaks internals.
export interface ErrorDetail {
  /** the request parameter at fault (e.g. "e", "e[1].filters[0].subprop_op", "start") */
  param?: string;
  [key: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }

  toJSON(): { error: { code: string; message: string; details: ErrorDetail[] } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/** A 400 naming the bad parameter (and anything else that locates the fault, e.g. a path inside a JSON value). */
export function badParam(param: string, message: string, code = 'invalid_parameter', extra: Record<string, unknown> = {}): ApiError {
  return new ApiError(400, code, message, [{ param, ...extra }]);
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);

export function unauthorized(message = 'HTTP Basic auth with the project api_key:secret_key, or a session, is required'): ApiError {
  return new ApiError(401, 'unauthorized', message);
}

export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);

/** A ClickHouse call that ran past QUERY_TIMEOUT_MS (ClickHouse stopped it, or the wait for it was given up). */
export const queryTimeout = () => new ApiError(504, 'timeout', 'the query took longer than the configured limit (QUERY_TIMEOUT_MS)');

/** A result larger than the service reads for one JSON reply (QUERY_MAX_RESULT_ROWS / QUERY_MAX_RESULT_BYTES). */
export const resultTooLarge = (limit: 'rows' | 'bytes', max: number) =>
  new ApiError(
    413,
    'result_too_large',
    `the result has more than ${max} ${limit} (QUERY_MAX_RESULT_${limit === 'rows' ? 'ROWS' : 'BYTES'}); narrow the query: a shorter range, fewer group-by values, a smaller page, or a CSV export`,
    [{ limit: limit === 'rows' ? 'QUERY_MAX_RESULT_ROWS' : 'QUERY_MAX_RESULT_BYTES', max }],
  );

/** A query that needed more memory in ClickHouse than QUERY_MAX_MEMORY_BYTES allows one query. */
export const memoryLimit = () =>
  new ApiError(422, 'memory_limit', 'the query needs more memory than one query may use (QUERY_MAX_MEMORY_BYTES); narrow it: a shorter range or fewer group-by values', [
    { limit: 'QUERY_MAX_MEMORY_BYTES' },
  ]);

/** The client went away before the reply: its query was cancelled (nginx's 499; no one reads it). */
export const clientClosed = () => new ApiError(499, 'client_closed_request', 'the client closed the connection; the query was cancelled');

/** More queries of this project (or in all) than the service runs at once, and none finished in the queue's time. */
export const tooBusy = (scope: 'project' | 'service', retryAfterS: number) =>
  new ApiError(
    429,
    'too_many_queries',
    scope === 'project'
      ? 'this project already runs as many queries as it may at once (QUERY_MAX_CONCURRENT_PER_PROJECT); retry later'
      : 'the service already runs as many queries as it may at once (QUERY_MAX_CONCURRENT); retry later',
    [{ limit: scope === 'project' ? 'QUERY_MAX_CONCURRENT_PER_PROJECT' : 'QUERY_MAX_CONCURRENT', retry_after_s: retryAfterS }],
  );

/**
 * Maps any error to the API's error reply: ClickHouse's own time limit is a 504, its memory limit a 422, an
 * unreachable server a 503.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { code?: unknown; type?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (String(e?.code) === '159' || e?.type === 'TIMEOUT_EXCEEDED' || /TIMEOUT_EXCEEDED|Timeout exceeded/i.test(message)) return queryTimeout();
  if (String(e?.code) === '241' || e?.type === 'MEMORY_LIMIT_EXCEEDED') return memoryLimit();
  if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|socket hang up/i.test(message)) {
    return new ApiError(503, 'unavailable', 'ClickHouse is not reachable');
  }
  return new ApiError(500, 'internal', 'internal error');
}
