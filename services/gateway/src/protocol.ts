// Request-level rules of the four ingestion endpoints, as pure functions from a parsed body to either a reply
// (in Amplitude's shapes, always with `code`) or the Kafka messages to send. The HTTP layer only reads bodies,
// calls these, and sends.
import type { Project } from '@groupscope/projects';
import {
  EventErrors,
  isPlainObject,
  minIdLength,
  normalizeEvent,
  normalizeGroupIdentify,
  repairStrings,
  timeWindow,
  type NormalizedEvent,
  type NormalizedGroupIdentify,
} from './validate';
import { eventMessages, groupIdentifyMessages, type OutMessage, type RecordContext } from './records';
import type { Positions } from './positions';
import type { Throttle, ThrottledEndpoint } from './throttle';

export interface Reply {
  status: number;
  body: Record<string, unknown> & { code: number };
}

/** Stable reason labels for the rejects metric. */
export type RejectReason =
  | 'invalid_json'
  | 'bad_body_encoding'
  | 'unsupported_encoding'
  | 'missing_api_key'
  | 'invalid_api_key'
  | 'missing_events'
  | 'invalid_events'
  | 'payload_too_large'
  | 'too_many_events'
  | 'throttled'
  | 'kafka_unavailable'
  | 'missing_identification'
  | 'invalid_identification'
  | 'internal_error';

export interface Rejected {
  ok: false;
  reason: RejectReason;
  reply: Reply;
}

export const replies = {
  invalidJson: (): Reply => ({ status: 400, body: { code: 400, error: 'Invalid JSON request body' } }),
  missingField: (field: string): Reply => ({ status: 400, body: { code: 400, error: 'Request missing required field', missing_field: field } }),
  invalidApiKey: (key: string): Reply => ({
    status: 400,
    body: { code: 400, error: `Invalid API key: ${key.length > 64 ? `${key.slice(0, 64)}...` : key}` },
  }),
  tooLarge: (): Reply => ({ status: 413, body: { code: 413, error: 'Payload too large' } }),
  badEncoding: (): Reply => ({ status: 400, body: { code: 400, error: 'Invalid request body encoding' } }),
  unsupportedEncoding: (): Reply => ({ status: 415, body: { code: 415, error: 'Unsupported Content-Encoding' } }),
  unavailable: (detail: string): Reply => ({ status: 503, body: { code: 503, error: `Service unavailable: ${detail}` } }),
  internal: (): Reply => ({ status: 500, body: { code: 500, error: 'Internal server error' } }),
  notFound: (): Reply => ({ status: 404, body: { code: 404, error: 'Not found' } }),
  invalidEvents: (errors: EventErrors, error = 'Invalid field values on some events'): Reply => ({
    status: 400,
    body: {
      code: 400,
      error,
      events_with_invalid_fields: errors.invalid,
      events_with_missing_fields: errors.missing,
      events_with_invalid_id_lengths: errors.idLengths,
    },
  }),
};

const reject = (reason: RejectReason, reply: Reply): Rejected => ({ ok: false, reason, reply });

export interface Limits {
  maxEvents: number;
  maxIdentifications: number;
  maxRecordBytes: number;
  /** how far past the receive time an event's time may be (GATEWAY_MAX_FUTURE_MS; default 1 day) */
  maxFutureMs?: number;
}

export interface RequestContext {
  lookup(apiKey: string): Project | undefined;
  throttle: Throttle;
  limits: Limits;
  receiveTime: number;
  /** receive positions, taken one per record in request order */
  position: Positions;
  uuid(): string;
  remoteIp?: string;
}

export interface Accepted {
  ok: true;
  project: Project;
  messages: OutMessage[];
  kinds: { event: number; identify: number; group_identify: number };
  /** what the reply reports as ingested (events or identifications) */
  count: number;
  /** extra reply fields (e.g. truncated groups) */
  notes: Record<string, unknown>;
}

function recordContext(project: Project, ctx: RequestContext): RecordContext {
  return { projectId: project.id, receiveTime: ctx.receiveTime, position: ctx.position, uuid: ctx.uuid, maxRecordBytes: ctx.limits.maxRecordBytes };
}

function projectOf(apiKey: unknown, ctx: RequestContext): Project | Rejected {
  if (apiKey === undefined || apiKey === null || apiKey === '') return reject('missing_api_key', replies.missingField('api_key'));
  if (typeof apiKey !== 'string') return reject('invalid_api_key', replies.invalidApiKey(String(apiKey)));
  const project = ctx.lookup(apiKey);
  return project ?? reject('invalid_api_key', replies.invalidApiKey(apiKey));
}

const isRejected = (x: unknown): x is Rejected => isPlainObject(x) && x.ok === false;

function truncatedNote(events: NormalizedEvent[]): Record<string, unknown> {
  const byType: Record<string, number[]> = {};
  for (const e of events) {
    for (const t of e.truncated_groups) (Object.hasOwn(byType, t) ? byType[t]! : (byType[t] = [])).push(e.index);
  }
  return Object.keys(byType).length > 0 ? { events_with_truncated_groups: byType } : {};
}

/** POST /2/httpapi and POST /batch: `{api_key, events, options}`. */
export function processEvents(body: unknown, endpoint: ThrottledEndpoint, ctx: RequestContext): Accepted | Rejected {
  if (!isPlainObject(body)) return reject('invalid_json', replies.invalidJson());
  const project = projectOf(body.api_key, ctx);
  if (isRejected(project)) return project;
  const events = body.events;
  if (!Array.isArray(events)) return reject('missing_events', replies.missingField('events'));
  if (events.length > ctx.limits.maxEvents) return reject('too_many_events', replies.tooLarge());

  const errors = new EventErrors();
  const opts = { minIdLength: minIdLength(body.options), remoteIp: ctx.remoteIp, times: timeWindow(ctx.receiveTime, ctx.limits.maxFutureMs) };
  const valid: NormalizedEvent[] = [];
  events.forEach((raw, i) => {
    const e = normalizeEvent(raw, i, opts, errors);
    if (e) valid.push(e);
  });
  if (errors.any) return reject('invalid_events', replies.invalidEvents(errors));

  const { messages, kinds } = eventMessages(valid, recordContext(project, ctx), errors);
  if (errors.any) return reject('invalid_events', replies.invalidEvents(errors));

  const throttled = ctx.throttle.check(project.id, endpoint, project.throttle, valid);
  if (throttled) {
    return reject('throttled', { status: 429, body: { code: 429, error: 'Too many requests for some devices and users', ...throttled } });
  }
  return { ok: true, project, messages, kinds, count: events.length, notes: truncatedNote(valid) };
}

/** The fields of a form-encoded /identify or /groupidentify request (or its GET query string). */
export interface FormFields {
  api_key?: string;
  identification?: string;
  options?: string;
}

function parseIdentification(text: string | undefined, max: number): unknown[] | Rejected {
  if (text === undefined || text === '') return reject('missing_identification', { status: 400, body: { code: 400, error: 'missing_event', missing_field: 'identification' } });
  let parsed: unknown;
  try {
    // form fields may hold any text: repair every string, not only where the text shows an escape
    parsed = repairStrings(JSON.parse(text));
  } catch {
    return reject('invalid_identification', { status: 400, body: { code: 400, error: 'invalid_event: identification is not valid JSON' } });
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  if (list.length === 0) return reject('missing_identification', { status: 400, body: { code: 400, error: 'missing_event', missing_field: 'identification' } });
  if (list.length > max) return reject('too_many_events', replies.tooLarge());
  return list;
}

/** `options` may be JSON, or the literal string "undefined" that Segment sends: anything unparseable is ignored. */
function parseOptions(text: string | undefined): unknown {
  if (!text || text === 'undefined') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** POST/GET /identify: identification objects become IngestRecords of kind 'identify'. */
export function processIdentify(fields: FormFields, ctx: RequestContext): Accepted | Rejected {
  const project = projectOf(fields.api_key, ctx);
  if (isRejected(project)) return project;
  const list = parseIdentification(fields.identification, ctx.limits.maxIdentifications);
  if (isRejected(list)) return list;
  const errors = new EventErrors();
  const opts = {
    minIdLength: minIdLength(parseOptions(fields.options)),
    remoteIp: ctx.remoteIp,
    forceEventType: '$identify',
    times: timeWindow(ctx.receiveTime, ctx.limits.maxFutureMs),
  };
  const valid: NormalizedEvent[] = [];
  list.forEach((raw, i) => {
    const e = normalizeEvent(raw, i, opts, errors);
    if (e) valid.push(e);
  });
  if (errors.any) return reject('invalid_identification', replies.invalidEvents(errors, 'invalid_event: invalid values on some identifications'));
  const { messages, kinds } = eventMessages(valid, recordContext(project, ctx), errors, true);
  if (errors.any) return reject('invalid_identification', replies.invalidEvents(errors, 'invalid_event: invalid values on some identifications'));
  return { ok: true, project, messages, kinds, count: list.length, notes: truncatedNote(valid) };
}

/** POST/GET /groupidentify: one GroupIdentifyRecord per object. */
export function processGroupIdentify(fields: FormFields, ctx: RequestContext): Accepted | Rejected {
  const project = projectOf(fields.api_key, ctx);
  if (isRejected(project)) return project;
  const list = parseIdentification(fields.identification, ctx.limits.maxIdentifications);
  if (isRejected(list)) return list;
  const errors = new EventErrors();
  const valid: NormalizedGroupIdentify[] = [];
  list.forEach((raw, i) => {
    const g = normalizeGroupIdentify(raw, i, errors, timeWindow(ctx.receiveTime, ctx.limits.maxFutureMs));
    if (g) valid.push(g);
  });
  if (errors.any) return reject('invalid_identification', replies.invalidEvents(errors, 'invalid_event: invalid values on some identifications'));
  const messages = groupIdentifyMessages(valid, recordContext(project, ctx), errors);
  if (errors.any) return reject('invalid_identification', replies.invalidEvents(errors, 'invalid_event: invalid values on some identifications'));
  return { ok: true, project, messages, kinds: { event: 0, identify: 0, group_identify: messages.length }, count: list.length, notes: {} };
}

/** A `\uD800`..`\uDFFF` escape in JSON text: the only way a lone surrogate gets into a string decoded from UTF-8. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * Parses a JSON body (a leading byte-order mark is tolerated); undefined when it is not JSON. Every string in the
 * result is valid Unicode, so storable as UTF-8: decoding replaced invalid bytes with U+FFFD, and lone surrogates
 * written as escapes are replaced the same way (the walk runs only when the text has such an escape).
 */
export function parseJson(buf: Buffer): unknown {
  let text = buf.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return SURROGATE_ESCAPE.test(text) ? repairStrings(parsed) : parsed;
}
