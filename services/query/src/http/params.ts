// Reading a request: single query-string values, bounded integers, enums and flags, and JSON / text bodies, each
// failing with a 400 that names the parameter.
import { express, type RequestHandler } from '@groupscope/http';
import { badParam } from './errors';

/** The query string as express parsed it (repeated parameters arrive as arrays). */
export type Query = Record<string, unknown>;

/** A single-valued string parameter (a repeated one is a 400). */
export function single(param: string, raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') throw badParam(param, `${param} must be given once`);
  return raw;
}

/** An integer in [min, max]; absent or empty gives `dflt`, and without a default the parameter is required. */
export function intParam(query: Query, name: string, dflt: number | undefined, min: number, max: number): number {
  const raw = single(name, query[name]);
  if (raw === undefined || raw === '') {
    if (dflt === undefined) throw badParam(name, `${name} is required`, 'missing_parameter');
    return dflt;
  }
  const n = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw badParam(name, `${name} must be an integer from ${min} to ${max}`);
  return n;
}

/**
 * `offset`, at most `max`: deeper pages cost ClickHouse a read and sort of everything before them, so past the limit
 * the client is told how to page further (`instead`).
 */
export function offsetParam(query: Query, max: number, instead: string): number {
  const offset = intParam(query, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  if (offset > max) throw badParam('offset', `offset may be at most ${max}; ${instead}`, 'offset_too_large', { max });
  return offset;
}

export function enumParam<T extends string>(query: Query, name: string, allowed: readonly T[], dflt: T): T {
  const raw = single(name, query[name]);
  if (raw === undefined || raw === '') return dflt;
  if (!(allowed as readonly string[]).includes(raw)) throw badParam(name, `${name} must be one of ${allowed.join(', ')}`);
  return raw as T;
}

export function boolParam(query: Query, name: string): boolean {
  const raw = single(name, query[name]);
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw badParam(name, `${name} must be true or false`);
}

/** A body parser whose failures (malformed, too large) answer in the API's error shape. */
function parser(p: RequestHandler): RequestHandler {
  return (req, res, next) =>
    p(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = err as { type?: string; message?: string };
      if (e.type === 'entity.too.large') return res.status(413).json({ error: { code: 'payload_too_large', message: 'the body is too large', details: [{ param: 'body' }] } });
      res.status(400).json({ error: { code: 'invalid_body', message: `malformed body: ${e.message ?? 'unreadable'}`, details: [{ param: 'body' }] } });
    });
}

export const jsonBody = parser(express.json({ limit: '64mb' }));
export const textBody = parser(express.text({ type: ['text/plain', 'text/csv'], limit: '64mb' }));
