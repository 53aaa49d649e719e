// Request helpers shared by the accounts, cohorts, microscope and dynamic-property routes: the query API's
// error shape, bounded integer parameters, and async handlers whose errors become that shape.
import type { Request, Response, NextFunction, RequestHandler } from 'express';
import type { Logger } from '@groupscope/logger';

// one error class for the whole service: the chart code's (its app-level error handler answers it too)
import { ApiError } from '../errors';
export { ApiError };

export const badParam = (param: string, message: string, code = 'invalid_parameter') => new ApiError(400, code, message, [{ param }]);
export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);

/** Wraps an async handler: its errors go to the app's error handler (the API's error shape, logs, metrics). A
 * failure after the reply started (a CSV download midway) can only cut the connection: logged here. */
export function handler(log: Logger, fn: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    fn(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        log.error({ err, path: req.path }, 'response_failed_midway');
        res.destroy();
        return;
      }
      next(err);
    });
  };
}

/** A single query-string value (repeated parameters are an error). */
export function queryString(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badParam(name, `${name} must be given once, as text`);
  return v;
}

export function intParam(req: Request, name: string, dflt: number, min: number, max: number): number {
  const raw = queryString(req, name);
  if (raw === undefined || raw === '') return dflt;
  if (!/^-?\d+$/.test(raw)) throw badParam(name, `${name} must be an integer between ${min} and ${max}`);
  const n = Number(raw);
  if (n < min || n > max) throw badParam(name, `${name} must be an integer between ${min} and ${max}`);
  return n;
}

export function enumParam<T extends string>(req: Request, name: string, allowed: readonly T[], dflt: T): T {
  const raw = queryString(req, name);
  if (raw === undefined || raw === '') return dflt;
  if (!(allowed as readonly string[]).includes(raw)) throw badParam(name, `${name} must be one of ${allowed.join(', ')}`);
  return raw as T;
}

/** ms since epoch -> ISO 8601 UTC; 0 (ClickHouse's default for a missing time) -> null */
export const isoOrNull = (ms: number | null | undefined): string | null => (ms ? new Date(Number(ms)).toISOString() : null);

/** RFC 4180 CSV line */
export function csvLine(values: readonly (string | number | null | undefined)[]): string {
  return (
    values
      .map((v) => {
        const s = v === null || v === undefined ? '' : String(v);
        return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
      })
      .join(',') + '\r\n'
  );
}
