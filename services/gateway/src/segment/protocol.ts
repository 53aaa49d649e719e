// Request-level rules of Segment's Tracking API as pure functions: the write key, Segment's limits, the batch
// shape. Each message is mapped (mapping.ts), validated by the gateway's own event rules and encoded by its
// record builders, exactly as an Amplitude request's events are; a message that cannot be used becomes a dead
// letter with its reason, sent to Kafka with the records, so nothing accepted is silently lost.
import type { Project } from '@groupscope/projects';
import { deadLetterMessage } from '@groupscope/kafka';
import { EventErrors, isPlainObject, normalizeEvent, timeWindow, type NormalizedEvent } from '../validate';
import { eventMessages, type OutMessage, type RecordContext } from '../records';
import type { RequestContext } from '../protocol';
import { mapMessage, type DeadReason, type Mapped, type SegmentType } from './mapping';

/** Segment's limits: 32 KB per message, 500 KB and 2500 messages per batch. */
export const SEGMENT_LIMITS = { messageBytes: 32 * 1024, batchBytes: 500 * 1024, batchMessages: 2500 } as const;

export interface SegmentRoute {
  /** the path, for metrics, logs and the dead letters' source header */
  path: string;
  /** the message type the path implies; absent for batches */
  type?: SegmentType;
  batch: boolean;
  /** a browser library's path: a message without context.ip gets the request's address, as Segment does */
  browser: boolean;
}

export interface SegmentReply {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

export type SegmentRejectReason =
  | 'invalid_json'
  | 'missing_write_key'
  | 'invalid_write_key'
  | 'missing_batch'
  | 'too_many_messages'
  | 'throttled';

export interface SegmentRejected {
  ok: false;
  reason: SegmentRejectReason;
  reply: SegmentReply;
}

export interface MessageOutcome {
  type: SegmentType | 'unknown';
  /** set when the message was dead-lettered */
  dead?: DeadReason;
}

export interface SegmentAccepted {
  ok: true;
  project: Project;
  /** records for the ingest and group-identify topics, then the dead letters */
  messages: OutMessage[];
  kinds: { event: number; identify: number; group_identify: number };
  /** one per message of the request, in order */
  outcomes: MessageOutcome[];
  /** group types on some event that had more than 10 values (the first 10 are kept) */
  truncatedGroups: number;
}

export const segmentReplies = {
  ok: (): SegmentReply => ({ status: 200, body: { success: true } }),
  error: (status: number, message: string, extra: Record<string, unknown> = {}): SegmentReply => ({
    status,
    body: { success: false, code: status, message, ...extra },
  }),
};

const reject = (reason: SegmentRejectReason, reply: SegmentReply): SegmentRejected => ({ ok: false, reason, reply });

/** The write key: the user name of HTTP Basic auth (password empty), else `writeKey` in the body. */
export function writeKeyOf(authorization: string | undefined, body: unknown): string | undefined {
  const m = authorization ? /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(authorization) : null;
  if (m) {
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon >= 0 ? decoded.slice(0, colon) : decoded;
    if (user !== '') return user;
  }
  const key = isPlainObject(body) ? body.writeKey : undefined;
  return typeof key === 'string' && key !== '' ? key : undefined;
}

/** A batch's own `context` and `integrations` apply to each of its messages; the message's keys win. */
function withBatchDefaults(msg: unknown, batch: Record<string, unknown>): unknown {
  if (!isPlainObject(msg)) return msg;
  let out = msg;
  for (const key of ['context', 'integrations'] as const) {
    const shared = batch[key];
    if (!isPlainObject(shared)) continue;
    const own = Object.hasOwn(msg, key) ? msg[key] : undefined;
    if (own !== undefined && !isPlainObject(own)) continue;
    out = { ...out, [key]: { ...shared, ...own } };
  }
  return out;
}

/** Segment's names for the Amplitude event fields a validation error names. */
const SEGMENT_FIELD: Record<string, string> = {
  user_id: 'userId',
  device_id: 'anonymousId',
  event_type: 'event',
  time: 'timestamp',
  insert_id: 'messageId',
  event_properties: 'properties',
  user_properties: 'traits',
  group_properties: 'traits',
  groups: 'integrations.Amplitude.groups',
  session_id: 'integrations.Amplitude.session_id',
  event_id: 'integrations.Amplitude.event_id',
};

function describeErrors(errors: EventErrors): string {
  const parts: string[] = [];
  for (const [label, map] of [['invalid', errors.invalid], ['missing', errors.missing], ['too short', errors.idLengths]] as const) {
    const fields = Object.keys(map).map((f) => (Object.hasOwn(SEGMENT_FIELD, f) ? SEGMENT_FIELD[f]! : `context (${f})`));
    if (fields.length > 0) parts.push(`${label}: ${[...new Set(fields)].join(', ')}`);
  }
  return parts.join('; ');
}

/** A dead letter: the message as received, with the reason and where it came from in the headers. */
export function deadLetterOf(projectId: number, route: SegmentRoute, index: number, text: string, reason: DeadReason, error: string): OutMessage {
  const m = deadLetterMessage({
    reason,
    error,
    stage: 'gateway',
    source: { topic: `http:${route.path}`, partition: -1, offset: String(index) },
    key: JSON.stringify([projectId, 'segment']),
    value: text,
  });
  const headers: Record<string, string> = { 'dlq-project-id': String(projectId) };
  for (const [k, v] of Object.entries(m.headers)) if (typeof v === 'string') headers[k] = v;
  return { role: 'dlq', key: m.key as string, value: Buffer.from(text), headers };
}

/** JSON text of a parsed message; undefined when it nests too deeply for JSON.stringify's recursion. */
function textOf(msg: unknown): string | undefined {
  try {
    return JSON.stringify(msg) ?? 'null';
  } catch {
    return undefined;
  }
}
const UNSERIALIZABLE = '{"error":"message nested too deeply to be serialized"}';

interface Pending {
  index: number;
  text: string;
  mapped: Mapped;
  /** the normalized events of a usable message */
  events: NormalizedEvent[];
}

/** Sends a message to the dead letters instead of the topics. */
function kill(p: Pending, reason: DeadReason, error: string): void {
  p.mapped = { ok: false, type: p.mapped.type, reason, error };
  p.events = [];
}

/**
 * One request of the Tracking API (`/v1/batch`, `/v1/track`, ..., analytics-next's `/v1/t`, ..., `/v1/b`):
 * a rejection for the request as a whole, or every message's records and dead letters.
 */
export function processSegment(route: SegmentRoute, body: unknown, authorization: string | undefined, ctx: RequestContext): SegmentAccepted | SegmentRejected {
  if (!isPlainObject(body)) return reject('invalid_json', segmentReplies.error(400, 'Invalid JSON: the body must be a JSON object'));
  const key = writeKeyOf(authorization, body);
  if (key === undefined) return reject('missing_write_key', segmentReplies.error(400, 'Missing write key: send it as the Basic auth user name or as writeKey'));
  const project = ctx.lookup(key);
  if (!project) return reject('invalid_write_key', segmentReplies.error(400, 'Invalid write key'));

  let list: unknown[];
  if (route.batch) {
    if (!Array.isArray(body.batch)) return reject('missing_batch', segmentReplies.error(400, 'Missing batch: the body must hold a "batch" array'));
    if (body.batch.length > SEGMENT_LIMITS.batchMessages) {
      return reject('too_many_messages', segmentReplies.error(400, `Too many messages: at most ${SEGMENT_LIMITS.batchMessages} per batch`));
    }
    list = body.batch.map((m) => withBatchDefaults(m, body));
  } else {
    list = [body];
  }

  const env = { receiveTime: ctx.receiveTime, batchSentAt: route.batch ? body.sentAt : undefined, remoteIp: route.browser ? ctx.remoteIp : undefined, settings: project.segment };
  const pending: Pending[] = [];
  let eventIndex = 0;
  const owner: number[] = [];
  list.forEach((msg, index) => {
    const text = textOf(msg);
    const p: Pending = { index, text: text ?? UNSERIALIZABLE, mapped: mapMessage(msg, env, route.type), events: [] };
    pending.push(p);
    if (text === undefined) return kill(p, 'invalid_message', 'message nested too deeply to be serialized');
    const bytes = Buffer.byteLength(text);
    if (bytes > SEGMENT_LIMITS.messageBytes) return kill(p, 'message_too_large', `message of ${bytes} bytes exceeds ${SEGMENT_LIMITS.messageBytes}`);
    if (!p.mapped.ok) return;
    const errors = new EventErrors();
    for (const raw of p.mapped.events) {
      owner[eventIndex] = index;
      const e = normalizeEvent(raw, eventIndex++, { minIdLength: 1, times: timeWindow(ctx.receiveTime, ctx.limits.maxFutureMs) }, errors);
      if (e) p.events.push(e);
    }
    if (errors.any) kill(p, 'invalid_fields', describeErrors(errors));
  });

  const valid = () => pending.flatMap((p) => p.events);
  const throttled = ctx.throttle.check(project.id, 'batch', project.throttle, valid());
  if (throttled) {
    return reject('throttled', { ...segmentReplies.error(429, 'Too many events for some users or devices', throttled as unknown as Record<string, unknown>), headers: { 'Retry-After': '1' } });
  }

  const rctx: RecordContext = { projectId: project.id, receiveTime: ctx.receiveTime, position: ctx.position, uuid: ctx.uuid, maxRecordBytes: ctx.limits.maxRecordBytes };
  let errors = new EventErrors();
  let encoded = eventMessages(valid(), rctx, errors);
  if (errors.any) {
    // a record that cannot be encoded or is too large: its message goes to the dead letters, the rest is stored
    const failed = new Set([...Object.values(errors.invalid), ...Object.values(errors.missing)].flat().map((i) => owner[i]!));
    for (const p of pending) if (failed.has(p.index)) kill(p, 'invalid_fields', 'record cannot be encoded or exceeds the record size limit');
    errors = new EventErrors();
    encoded = eventMessages(valid(), rctx, errors);
  }

  const messages = encoded.messages;
  const outcomes: MessageOutcome[] = [];
  let truncatedGroups = 0;
  for (const p of pending) {
    if (p.mapped.ok) {
      outcomes.push({ type: p.mapped.type });
      for (const e of p.events) truncatedGroups += e.truncated_groups.length;
    } else {
      outcomes.push({ type: p.mapped.type, dead: p.mapped.reason });
      messages.push(deadLetterOf(project.id, route, p.index, p.text, p.mapped.reason, p.mapped.error));
    }
  }
  return { ok: true, project, messages, kinds: encoded.kinds, outcomes, truncatedGroups };
}
