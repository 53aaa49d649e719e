// One Segment message (track, identify, group, page, screen, alias) in, the Amplitude-shaped events that
// Segment's Amplitude destinations would send for it out, or the reason it cannot be used. The events then go
// through the gateway's own validation and record builders, exactly like an Amplitude request's events.
// Pure: no clock, no I/O.
import type { SegmentSettings } from '@groupscope/projects';
import { checkId, isPlainObject } from '../validate';

export type SegmentType = 'track' | 'identify' | 'group' | 'page' | 'screen' | 'alias';
const TYPES = new Set<string>(['track', 'identify', 'group', 'page', 'screen', 'alias']);

/** The group type of a `group` call whose traits do not name one (Segment's Amplitude Classic fallback). */
export const FALLBACK_GROUP_TYPE = '[Segment] Group';

/** Why a message was dead-lettered (a stable label for metrics and the DLQ's reason header). */
export type DeadReason =
  | 'invalid_message'
  | 'invalid_type'
  | 'missing_id'
  | 'missing_event'
  | 'missing_group_id'
  | 'invalid_timestamp'
  | 'alias_unsupported'
  | 'invalid_fields'
  | 'message_too_large';

export interface MappingEnv {
  /** when the gateway received the request (ms): Segment's receivedAt */
  receiveTime: number;
  /** the batch's own `sentAt`, for messages that carry none */
  batchSentAt?: unknown;
  /** the request's source address, used as `ip` when a browser message carries no context.ip */
  remoteIp?: string;
  settings?: SegmentSettings;
}

export type Mapped =
  | { ok: true; type: SegmentType; events: Record<string, unknown>[] }
  | { ok: false; type: SegmentType | 'unknown'; reason: DeadReason; error: string };

type Obj = Record<string, unknown>;

/** An own property only: keys come from users and settings, so `__proto__` or `constructor` must read as absent. */
const own = (o: Obj | undefined, k: string): unknown => (o && Object.hasOwn(o, k) ? o[k] : undefined);
const objAt = (o: Obj | undefined, k: string): Obj | undefined => {
  const v = own(o, k);
  return isPlainObject(v) ? v : undefined;
};

/** A non-empty string, or a finite number or boolean as text; undefined for anything else. */
function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') return String(v);
  return undefined;
}

/** Ids: numbers become text (Segment accepts them); other non-strings are left for checkId to refuse. */
const idValue = (v: unknown): unknown => (typeof v === 'number' && Number.isFinite(v) ? String(v) : v === '' ? undefined : v);

/**
 * A Segment timestamp: an ISO-8601 string (or epoch milliseconds). null when absent, undefined when unreadable.
 */
export function parseTimestamp(v: unknown): number | null | undefined {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.round(v) : undefined;
  if (typeof v !== 'string' || v.length > 64) return undefined;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : undefined;
}

/**
 * Segment's clock-skew correction: time = receivedAt - (sentAt - timestamp), when the sender said when it sent
 * (a device whose clock is an hour off stamps both with the same error). Without a readable sentAt the timestamp
 * is used as sent; without a timestamp the record takes the receive time.
 */
export function eventTime(msg: Obj, env: MappingEnv): number | null | undefined {
  const raw = own(msg, 'timestamp') ?? own(msg, 'originalTimestamp');
  const ts = parseTimestamp(raw);
  if (ts === null || ts === undefined) return ts;
  const sentAt = parseTimestamp(own(msg, 'sentAt') ?? env.batchSentAt);
  return typeof sentAt === 'number' ? env.receiveTime - (sentAt - ts) : ts;
}

/** Page and screen names as Segment's Amplitude destination writes them. */
export function viewedName(kind: 'Page' | 'Screen', name: string | undefined, category: string | undefined): string {
  const full = name && category ? `${category} ${name}` : name;
  return full ? `Viewed ${full} ${kind}` : `Loaded a ${kind}`;
}

/** Sets a context field from a scalar; objects, lists and empty strings are skipped rather than refused. */
function put(ev: Obj, key: string, v: unknown): void {
  const s = scalarText(v);
  if (s !== undefined) ev[key] = s;
}

function putNumber(ev: Obj, key: string, v: unknown): void {
  if (typeof v === 'number' && Number.isFinite(v)) ev[key] = v;
  else if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) ev[key] = Number(v);
}

/** Amplitude's platform names for the values Segment libraries report. */
function platform(deviceType: string | undefined, library: string | undefined): string | undefined {
  const t = deviceType?.toLowerCase();
  if (t === 'ios') return 'iOS';
  if (t === 'android') return 'Android';
  if (deviceType) return deviceType;
  const lib = library?.toLowerCase();
  if (lib === 'analytics.js' || lib === 'analytics-next') return 'Web';
  if (lib === 'analytics-ios') return 'iOS';
  if (lib === 'analytics-android') return 'Android';
  return undefined;
}

/** The Amplitude integration's per-message options (`integrations.Amplitude`, or the Actions destination's name). */
const amplitudeOptions = (msg: Obj): Obj | undefined =>
  objAt(objAt(msg, 'integrations'), 'Amplitude') ?? objAt(objAt(msg, 'integrations'), 'Actions Amplitude');

interface Ids {
  user_id: string | null;
  device_id: string | null;
}

/** Fields every record of a message shares: ids, time, insert_id, device, os, location and network context. */
function common(msg: Obj, ids: Ids, time: number | null, env: MappingEnv): Obj {
  const ctx = objAt(msg, 'context');
  const device = objAt(ctx, 'device');
  const os = objAt(ctx, 'os');
  const location = objAt(ctx, 'location');
  const ev: Obj = { library: 'segment' };
  if (ids.user_id) ev.user_id = ids.user_id;
  if (ids.device_id) ev.device_id = ids.device_id;
  if (time !== null) ev.time = time;
  const messageId = own(msg, 'messageId');
  if (messageId !== undefined && messageId !== null) ev.insert_id = typeof messageId === 'number' ? String(messageId) : messageId;

  put(ev, 'app_version', own(objAt(ctx, 'app'), 'version'));
  const p = platform(scalarText(own(device, 'type')), scalarText(own(objAt(ctx, 'library'), 'name')));
  if (p) ev.platform = p;
  put(ev, 'os_name', own(os, 'name'));
  put(ev, 'os_version', own(os, 'version'));
  put(ev, 'device_brand', own(device, 'brand'));
  put(ev, 'device_manufacturer', own(device, 'manufacturer'));
  put(ev, 'device_model', own(device, 'model'));
  put(ev, 'carrier', own(objAt(ctx, 'network'), 'carrier'));
  put(ev, 'country', own(location, 'country'));
  put(ev, 'region', own(location, 'region'));
  put(ev, 'city', own(location, 'city'));
  putNumber(ev, 'location_lat', own(location, 'latitude'));
  putNumber(ev, 'location_lng', own(location, 'longitude'));
  put(ev, 'language', own(ctx, 'locale'));
  put(ev, 'user_agent', own(ctx, 'userAgent'));
  put(ev, 'ip', own(ctx, 'ip'));
  if (ev.ip === undefined && env.remoteIp) ev.ip = env.remoteIp;
  const adId = scalarText(own(device, 'advertisingId')) ?? scalarText(own(device, 'idfa'));
  const osName = typeof ev.os_name === 'string' ? ev.os_name.toLowerCase() : '';
  if (adId && osName === 'ios') ev.idfa = adId;
  if (adId && osName === 'android') ev.adid = adId;

  const amp = amplitudeOptions(msg);
  const sessionId = own(amp, 'session_id') ?? own(amp, 'sessionId');
  if (sessionId !== undefined && sessionId !== null) ev.session_id = sessionId;
  const eventId = own(amp, 'event_id') ?? own(amp, 'eventId');
  if (eventId !== undefined && eventId !== null) ev.event_id = eventId;
  return ev;
}

/** A traits object as `$set` operations; other values are passed on unchanged for validation to refuse. */
function setOf(traits: unknown): unknown {
  if (traits === undefined || traits === null) return undefined;
  if (!isPlainObject(traits)) return traits;
  return Object.keys(traits).length > 0 ? { $set: traits } : undefined;
}

const dead = (type: Mapped['type'], reason: DeadReason, error: string): Mapped => ({ ok: false, type, reason, error });

/** The message's type: `forced` by the path it was posted to, else its own `type` field. */
export function messageType(msg: unknown, forced?: SegmentType): SegmentType | undefined {
  if (forced) return forced;
  const t = isPlainObject(msg) ? own(msg, 'type') : undefined;
  if (typeof t !== 'string') return undefined;
  const lower = t.toLowerCase();
  return TYPES.has(lower) ? (lower as SegmentType) : undefined;
}

/**
 * userId, and the device id of mobile libraries or else the anonymous id (as Segment's Amplitude destinations
 * choose). Segment accepts any non-empty id, so ids are not held to Amplitude's minimum length; the placeholder
 * values Amplitude refuses ("null", "anonymous", ...) still count as no id.
 */
function pickIds(msg: Obj): Ids | Extract<Mapped, { ok: false }> {
  const user = checkId(idValue(own(msg, 'userId')), 1);
  const anon = checkId(idValue(own(msg, 'anonymousId')), 1);
  const device = checkId(scalarText(own(objAt(objAt(msg, 'context'), 'device'), 'id')), 1);
  if (user.problem === 'type') return { ok: false, type: 'unknown', reason: 'invalid_fields', error: 'userId is not a string of at most 1024 characters' };
  if (anon.problem === 'type') return { ok: false, type: 'unknown', reason: 'invalid_fields', error: 'anonymousId is not a string of at most 1024 characters' };
  const ids = { user_id: user.id, device_id: device.id ?? anon.id };
  if (!ids.user_id && !ids.device_id) return { ok: false, type: 'unknown', reason: 'missing_id', error: 'neither userId nor anonymousId holds a usable id' };
  return ids;
}

/** Maps one message; `forced` is the type its path implies (`/v1/track`, `/v1/t`, ...). */
export function mapMessage(msg: unknown, env: MappingEnv, forced?: SegmentType): Mapped {
  if (!isPlainObject(msg)) return dead('unknown', 'invalid_message', 'message is not a JSON object');
  const type = messageType(msg, forced);
  if (!type) return dead('unknown', 'invalid_type', `unknown message type ${JSON.stringify(String(own(msg, 'type') ?? '')).slice(0, 80)}`);
  if (type === 'alias') {
    return dead(type, 'alias_unsupported', 'alias (merging two user ids) has no equivalent in the Amplitude ingestion APIs; stored here for replay');
  }

  const ids = pickIds(msg);
  if ('reason' in ids) return { ...ids, type };

  const time = eventTime(msg, env);
  if (time === undefined) return dead(type, 'invalid_timestamp', 'timestamp is not an ISO-8601 date');
  const base = common(msg, ids, time, env);
  const amp = amplitudeOptions(msg);

  switch (type) {
    case 'track': {
      const event = own(msg, 'event');
      if (typeof event !== 'string' || event.trim() === '') return dead(type, 'missing_event', 'track without an event name');
      return { ok: true, type, events: [withProps(base, event, msg, amp)] };
    }
    case 'page':
    case 'screen': {
      const name = scalarText(own(msg, 'name'));
      const category = scalarText(own(msg, 'category'));
      const ev = withProps(base, viewedName(type === 'page' ? 'Page' : 'Screen', name, category), msg, amp);
      if (isPlainObject(ev.event_properties)) {
        // the page's name and category become event properties, as the destination sends them
        ev.event_properties = { ...ev.event_properties, ...(category ? { category } : {}), ...(name ? { name } : {}) };
      }
      return { ok: true, type, events: [ev] };
    }
    case 'identify': {
      const ev: Obj = { ...base, event_type: '$identify' };
      const ops = setOf(own(msg, 'traits'));
      if (ops !== undefined) ev.user_properties = ops;
      // groups given for the Amplitude integration on an identify are user-level groups
      const groups = own(amp, 'groups');
      if (groups !== undefined) ev.groups = groups;
      return { ok: true, type, events: [ev] };
    }
    case 'group':
      return mapGroup(msg, base, env.settings);
  }
}

/** A track, page or screen event: properties, event-level groups, revenue fields, the user's context traits. */
function withProps(base: Obj, eventType: string, msg: Obj, amp: Obj | undefined): Obj {
  const ev: Obj = { ...base, event_type: eventType };
  const props = own(msg, 'properties');
  ev.event_properties = props === undefined || props === null ? {} : props;
  const groups = own(amp, 'groups');
  if (groups !== undefined) ev.groups = groups;
  // traits a library attaches to every call (mobile libraries do) update the user, as the destination sends them
  const ops = setOf(own(objAt(msg, 'context'), 'traits'));
  if (ops !== undefined) ev.user_properties = ops;
  if (isPlainObject(props) && own(props, 'revenue') !== undefined) {
    putNumber(ev, 'revenue', own(props, 'revenue'));
    putNumber(ev, 'price', own(props, 'price'));
    putNumber(ev, 'quantity', own(props, 'quantity'));
    put(ev, 'productId', own(props, 'productId'));
    put(ev, 'revenueType', own(props, 'revenueType'));
  }
  return ev;
}

/**
 * A group call: the user joins a user-level group whose type and value are the traits the project names
 * (Segment's "Amplitude Group Type Trait" / "Group Value Trait"), and the group gets every trait as a property.
 * When either is not configured or not in the call, the group is "[Segment] Group" = groupId, with no properties.
 * As with Amplitude's setGroup, the user also gets a user property named after the group type.
 */
function mapGroup(msg: Obj, base: Obj, settings: SegmentSettings | undefined): Mapped {
  const groupId = scalarText(own(msg, 'groupId'));
  if (!groupId) return dead('group', 'missing_group_id', 'group call without a groupId');
  const traits = own(msg, 'traits');
  const traitObj = isPlainObject(traits) ? traits : undefined;
  if (traits !== undefined && traits !== null && !traitObj) return dead('group', 'invalid_fields', 'traits is not an object');
  const type = settings?.group_type_trait ? scalarText(own(traitObj, settings.group_type_trait)) : undefined;
  const value = settings?.group_value_trait ? scalarText(own(traitObj, settings.group_value_trait)) : undefined;
  const resolved = type !== undefined && value !== undefined;
  const groupType = resolved ? type : FALLBACK_GROUP_TYPE;
  const groupValue = resolved ? value : groupId;
  // fromEntries defines own properties: a trait value of "__proto__" stays an ordinary key
  const membership = Object.fromEntries([[groupType, groupValue]]);
  const events: Obj[] = [{ ...base, event_type: '$identify', groups: membership, user_properties: { $set: membership } }];
  if (resolved) events.push({ ...base, event_type: '$groupidentify', groups: membership, group_properties: { $set: traitObj } });
  return { ok: true, type: 'group', events };
}
