// The query API's error shape: {"error": {"code", "message", "details"}}. Handlers throw ApiError; the app's error
// handler turns it (or anything else) into a reply and never leaks internals.
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

/** A 400 naming the bad parameter. */
export function badRequest(param: string, message: string, code = 'invalid_parameter', extra: Record<string, unknown> = {}): ApiError {
  return new ApiError(400, code, message, [{ param, ...extra }]);
}

export function unauthorized(message = 'HTTP Basic auth with the project api_key:secret_key is required'): ApiError {
  return new ApiError(401, 'unauthorized', message);
}
