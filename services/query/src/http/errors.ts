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

/** Maps any error to the API's error reply: ClickHouse's own time limit is a 504, an unreachable server a 503. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { code?: unknown; type?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (String(e?.code) === '159' || e?.type === 'TIMEOUT_EXCEEDED' || /TIMEOUT_EXCEEDED|Timeout exceeded/i.test(message)) return queryTimeout();
  if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|socket hang up/i.test(message)) {
    return new ApiError(503, 'unavailable', 'ClickHouse is not reachable');
  }
  return new ApiError(500, 'internal', 'internal error');
}
