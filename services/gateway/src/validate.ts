// Amplitude's per-event validation rules, as pure functions: an event in, a normalized event or the names of
// its failing fields out. No I/O, no clock: the caller passes the receive time and the request's address.

export const MAX_STRING = 1024;
export const MAX_DEPTH = 40;
export const MAX_GROUP_VALUES = 10;
export const DEFAULT_MIN_ID_LENGTH = 5;

/**
 * Event times the gateway accepts: from 2000-01-01 (earlier is a device whose clock was never set) up to a margin
 * after the receive time (GATEWAY_MAX_FUTURE_MS, 1 day by default: later is a wrong clock or a unit mix-up, e.g.
 * microseconds). Outside, the event is refused under `time` rather than stored at a time no chart would show it.
 */
export const MIN_EVENT_TIME = Date.UTC(2000, 0, 1);
/** Without a receive time to measure from, the latest time storage holds (the writer's bound, DateTime64). */
export const MAX_STORABLE_TIME = Date.UTC(2200, 0, 1) - 1;

export interface TimeWindow {
  min: number;
  max: number;
}

export const DEFAULT_MAX_FUTURE_MS = 86_400_000;

export const timeWindow = (receiveTime: number, maxFutureMs = DEFAULT_MAX_FUTURE_MS): TimeWindow => ({ min: MIN_EVENT_TIME, max: Math.min(receiveTime + maxFutureMs, MAX_STORABLE_TIME) });

const inWindow = (v: unknown, w: TimeWindow = { min: MIN_EVENT_TIME, max: MAX_STORABLE_TIME }): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= w.min && v <= w.max;

/**
 * A UTF-16 code unit of a surrogate pair standing alone. JSON allows one as a `\ud800` escape, but it is no
 * character: UTF-8 cannot encode it and ClickHouse refuses the row that holds one.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const hasLoneSurrogate = (s: string): boolean => {
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(s);
};

/** `s` with every lone surrogate replaced by U+FFFD, the replacement character (what a UTF-8 decoder does with bad bytes). */
export function wellFormed(s: string): string {
  return hasLoneSurrogate(s) ? s.replace(LONE_SURROGATE, '\uFFFD') : s;
}

/**
 * Repairs every string and key of a parsed JSON value in place (U+FFFD for lone surrogates), without recursion; a
 * repaired key that now equals another key of its object replaces it. Returns the value (a string is returned
 * repaired). Keys are (re)defined as own properties, so "__proto__" stays an ordinary key.
 */
export function repairStrings<T>(root: T): T {
  if (typeof root === 'string') return wellFormed(root) as T;
  const stack: unknown[] = [root];
  const fix = (v: unknown): unknown => {
    if (typeof v === 'string') return wellFormed(v);
    if (v !== null && typeof v === 'object') stack.push(v);
    return v;
  };
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) node[i] = fix(node[i]);
    } else if (node !== null && typeof node === 'object') {
      const obj = node as Record<string, unknown>;
      for (const k of Object.keys(obj)) {
        const before = obj[k];
        const v = fix(before);
        const key = wellFormed(k);
        if (key !== k) delete obj[k];
        if (key !== k || v !== before) Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
      }
    }
  }
  return root;
}

/** Ids that mean "no id" (compared trimmed and case-insensitively); removed from the event before validation. */
export const BLOCKED_IDS = new Set([
  'anonymous', 'nil', 'none', 'null', 'n/a', 'na', 'undefined', 'unknown', '',
  '00000000-0000-0000-0000-000000000000', '{}', 'lmy47d', '0', '-1',
]);

/** Device, location and app fields: stored as strings in the record's `context`. */
export const CONTEXT_FIELDS = [
  'app_version', 'platform', 'os_name', 'os_version', 'device_brand', 'device_manufacturer', 'device_model', 'carrier',
  'country', 'region', 'city', 'dma', 'language', 'ip', 'idfa', 'idfv', 'adid', 'android_id', 'user_agent',
  'productId', 'revenueType', 'currency', 'version_name',
] as const;
const CONTEXT_SET = new Set<string>(CONTEXT_FIELDS);

/** Keys with a home in IngestRecord; every other key of an event travels as JSON in `extra`. */
const MODELLED = new Set<string>([
  ...CONTEXT_FIELDS, 'user_id', 'device_id', 'event_type', 'time', 'insert_id', 'session_id', 'event_id', 'quantity', 'price',
  'revenue', 'location_lat', 'location_lng', 'event_properties', 'user_properties', 'group_properties', 'groups', 'plan',
]);


export type GroupsMap = Record<string, string[]>;

/** A valid event, fields cleaned and typed; property bags already as JSON text. */
export interface NormalizedEvent {
  index: number;
  event_type: string;
  user_id: string | null;
  device_id: string | null;
  /** ms since epoch, or null when the event had none (the caller uses the receive time) */
  time: number | null;
  insert_id: string | null;
  session_id: number | null;
  event_id: number | null;
  quantity: number | null;
  price: number | null;
  revenue: number | null;
  location_lat: number | null;
  location_lng: number | null;
  event_properties: string;
  user_properties: string;
  /** only meaningful on $groupidentify; kept in extra for other events */
  group_properties: string;
  groups: GroupsMap;
  /** group types whose value list was cut to MAX_GROUP_VALUES */
  truncated_groups: string[];
  context: Record<string, string>;
  extra: string;
}

/** Index lists per field, in Amplitude's 400 reply shape. */
export class EventErrors {
  readonly invalid: Record<string, number[]> = {};
  readonly missing: Record<string, number[]> = {};
  readonly idLengths: Record<string, number[]> = {};
  count = 0;

  private add(map: Record<string, number[]>, field: string, index: number): void {
    const list = Object.hasOwn(map, field) ? map[field]! : (map[field] = []);
    if (list[list.length - 1] !== index) {
      list.push(index);
      this.count++;
    }
  }
  invalidField(field: string, index: number): void {
    this.add(this.invalid, field, index);
  }
  missingField(field: string, index: number): void {
    this.add(this.missing, field, index);
  }
  invalidIdLength(field: string, index: number): void {
    this.add(this.idLengths, field, index);
  }
  get any(): boolean {
    return this.count > 0;
  }
}

/** Characters (code points) of s exceed max; cheap for the common short string. */
export function tooLong(s: string, max = MAX_STRING): boolean {
  if (s.length <= max) return false;
  if (s.length > 2 * max) return true;
  let n = 0;
  for (const _ of s) if (++n > max) return true;
  return false;
}

export type Inspection = 'ok' | 'too_deep' | 'too_long';

/**
 * Walks a JSON value without recursion (a hostile body may nest thousands of levels): nesting deeper than
 * maxDepth (an object or array counts one level) or any string or key longer than MAX_STRING fails.
 */
export function inspect(value: unknown, maxDepth = MAX_DEPTH): Inspection {
  if (typeof value === 'string') return tooLong(value) ? 'too_long' : 'ok';
  if (value === null || typeof value !== 'object') return 'ok';
  const stack: [object, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > maxDepth) return 'too_deep';
    const children: unknown[] = Array.isArray(node) ? node : Object.values(node);
    if (!Array.isArray(node)) {
      for (const k of Object.keys(node)) if (tooLong(k)) return 'too_long';
    }
    for (const c of children) {
      if (typeof c === 'string') {
        if (tooLong(c)) return 'too_long';
      } else if (c !== null && typeof c === 'object') {
        stack.push([c, depth + 1]);
      }
    }
  }
  return 'ok';
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

type IdCheck = { id: string | null; problem?: 'type' | 'blocked' | 'short' };

export function checkId(v: unknown, minLength: number): IdCheck {
  if (v === undefined || v === null) return { id: null };
  if (typeof v !== 'string' || tooLong(v)) return { id: null, problem: 'type' };
  if (BLOCKED_IDS.has(v.trim().toLowerCase())) return { id: null, problem: 'blocked' };
  let n = 0;
  for (const _ of v) if (++n >= minLength) break;
  if (n < minLength) return { id: null, problem: 'short' };
  return { id: v };
}

/** Reads options.min_id_length (a positive integer), else the default. */
export function minIdLength(options: unknown): number {
  if (!isPlainObject(options)) return DEFAULT_MIN_ID_LENGTH;
  const v = options.min_id_length;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= MAX_STRING ? v : DEFAULT_MIN_ID_LENGTH;
}

const NUMERIC = /^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

function toDouble(v: unknown): number | null | undefined {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && NUMERIC.test(v)) {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function toLong(v: unknown): number | null | undefined {
  const n = toDouble(v);
  if (n === null || n === undefined) return n;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** JSON text of a property bag, or undefined when it is not an object or breaks the depth/length rules. */
function propertyBag(v: unknown): string | undefined {
  if (v === undefined || v === null) return '{}';
  if (!isPlainObject(v)) return undefined;
  return inspect(v) === 'ok' ? JSON.stringify(v) : undefined;
}

/** Coerces a scalar group value to a string; undefined for anything else. */
function groupValue(v: unknown): string | null | undefined {
  if (typeof v === 'string') return tooLong(v) ? undefined : v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined;
  if (typeof v === 'boolean') return String(v);
  if (v === null) return null;
  return undefined;
}

export interface GroupsResult {
  groups: GroupsMap;
  truncated: string[];
}

/**
 * `groups`: type -> string or array of strings (numbers and booleans coerced). Null values and empty strings
 * are dropped; duplicates collapse; more than MAX_GROUP_VALUES values keep the first ones.
 */
export function parseGroups(v: unknown): GroupsResult | undefined {
  if (v === undefined || v === null) return { groups: {}, truncated: [] };
  if (!isPlainObject(v)) return undefined;
  const entries: [string, string[]][] = [];
  const truncated: string[] = [];
  for (const [type, raw] of Object.entries(v)) {
    if (type === '' || tooLong(type)) return undefined;
    const list = Array.isArray(raw) ? raw : [raw];
    const values: string[] = [];
    for (const item of list) {
      const s = groupValue(item);
      if (s === undefined) return undefined;
      if (s !== null && s !== '' && !values.includes(s)) values.push(s);
    }
    if (values.length === 0) continue;
    if (values.length > MAX_GROUP_VALUES) {
      truncated.push(type);
      values.length = MAX_GROUP_VALUES;
    }
    entries.push([type, values]);
  }
  // fromEntries defines own properties: a "__proto__" group type stays an ordinary key
  return { groups: Object.fromEntries(entries), truncated };
}

export interface NormalizeOptions {
  minIdLength: number;
  /** the request's source address, for ip = "$remote" */
  remoteIp?: string;
  /** replaces event_type (the /identify API has none: every object is an $identify) */
  forceEventType?: string;
  /** event times accepted (timeWindow of the receive time); default: 2000-01-01 up to what storage holds */
  times?: TimeWindow;
}

/**
 * Validates one event of /2/httpapi or /batch (or one /identify object). Failing fields are recorded in `errors`
 * under the event's index and null is returned.
 */
export function normalizeEvent(raw: unknown, index: number, opts: NormalizeOptions, errors: EventErrors): NormalizedEvent | null {
  if (!isPlainObject(raw)) {
    errors.invalidField('event', index);
    return null;
  }
  const before = errors.count;

  // ids: blocklisted and short ones are removed first; an event left with no id is invalid
  const uid = checkId(raw.user_id, opts.minIdLength);
  const did = checkId(raw.device_id, opts.minIdLength);
  if (uid.problem === 'type') errors.invalidField('user_id', index);
  if (did.problem === 'type') errors.invalidField('device_id', index);
  if (uid.problem !== 'type' && did.problem !== 'type' && !uid.id && !did.id) {
    if (!uid.problem && !did.problem) errors.missingField('user_id', index);
    for (const [field, c] of [['user_id', uid], ['device_id', did]] as const) {
      if (c.problem === 'short') errors.invalidIdLength(field, index);
      if (c.problem === 'blocked') errors.invalidField(field, index);
    }
  }

  let eventType: string | undefined = opts.forceEventType;
  if (eventType === undefined) {
    const et = raw.event_type;
    if (et === undefined || et === null || et === '') errors.missingField('event_type', index);
    else if (typeof et !== 'string' || tooLong(et)) errors.invalidField('event_type', index);
    else eventType = et;
  }

  const out: NormalizedEvent = {
    index,
    event_type: eventType ?? '',
    user_id: uid.id,
    device_id: did.id,
    time: null,
    insert_id: null,
    session_id: null,
    event_id: null,
    quantity: null,
    price: null,
    revenue: null,
    location_lat: null,
    location_lng: null,
    event_properties: '{}',
    user_properties: '{}',
    group_properties: '{}',
    groups: {},
    truncated_groups: [],
    context: {},
    extra: '{}',
  };
  let extra: [string, unknown][] | undefined;

  // one pass over the keys the event has (most events carry a dozen of the ~40 known ones)
  for (const k of Object.keys(raw)) {
    const v = raw[k];
    if (v === undefined) continue;
    if (v === null) {
      if (!MODELLED.has(k)) (extra ??= []).push([k, null]);
      continue;
    }
    switch (k) {
      case 'user_id':
      case 'device_id':
      case 'event_type':
        break;
      case 'time':
        if (inWindow(v, opts.times)) out.time = v;
        else errors.invalidField(k, index);
        break;
      case 'insert_id':
        if (typeof v === 'string' && !tooLong(v)) out.insert_id = v;
        else if (typeof v === 'number' && Number.isFinite(v)) out.insert_id = String(v);
        else errors.invalidField(k, index);
        break;
      case 'session_id':
      case 'event_id':
      case 'quantity': {
        const n = toLong(v);
        if (n === undefined) errors.invalidField(k, index);
        else out[k] = n;
        break;
      }
      case 'price':
      case 'revenue':
      case 'location_lat':
      case 'location_lng': {
        const n = toDouble(v);
        if (n === undefined) errors.invalidField(k, index);
        else out[k] = n;
        break;
      }
      case 'event_properties':
      case 'user_properties': {
        const s = propertyBag(v);
        if (s === undefined) errors.invalidField(k, index);
        else out[k] = s;
        break;
      }
      case 'group_properties': {
        const s = propertyBag(v);
        if (s === undefined) errors.invalidField(k, index);
        else if (eventType === '$groupidentify') out.group_properties = s;
        // on other events it is not modelled: kept as sent
        else (extra ??= []).push([k, v]);
        break;
      }
      case 'groups': {
        const g = parseGroups(v);
        if (!g) errors.invalidField(k, index);
        else {
          out.groups = g.groups;
          out.truncated_groups = g.truncated;
        }
        break;
      }
      case 'plan':
        if (isPlainObject(v) && inspect(v) === 'ok') out.context.plan = JSON.stringify(v);
        else if (typeof v === 'string' && !tooLong(v)) out.context.plan = v;
        else errors.invalidField(k, index);
        break;
      default:
        if (CONTEXT_SET.has(k)) {
          if (typeof v === 'string') {
            if (tooLong(v)) errors.invalidField(k, index);
            else if (k === 'ip' && v === '$remote') {
              if (opts.remoteIp) out.context.ip = opts.remoteIp;
            } else out.context[k] = v;
          } else if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') {
            out.context[k] = String(v);
          } else {
            errors.invalidField(k, index);
          }
        } else if (tooLong(k) || inspect(v) !== 'ok') {
          errors.invalidField(k, index);
        } else {
          // every key groupscope does not model is kept as sent
          (extra ??= []).push([k, v]);
        }
    }
  }

  if (errors.count > before || eventType === undefined) return null;
  // fromEntries defines own properties: a "__proto__" key stays an ordinary key
  if (extra) out.extra = JSON.stringify(Object.fromEntries(extra));
  return out;
}

/** One object of the /groupidentify API. */
export interface NormalizedGroupIdentify {
  index: number;
  group_type: string;
  group_value: string;
  group_properties: string;
  time: number | null;
  insert_id: string | null;
  user_id: string | null;
  device_id: string | null;
}

export function normalizeGroupIdentify(raw: unknown, index: number, errors: EventErrors, times?: TimeWindow): NormalizedGroupIdentify | null {
  if (!isPlainObject(raw)) {
    errors.invalidField('identification', index);
    return null;
  }
  const before = errors.count;
  const gt = raw.group_type;
  let groupType: string | undefined;
  if (gt === undefined || gt === null || gt === '') errors.missingField('group_type', index);
  else if (typeof gt !== 'string' || tooLong(gt)) errors.invalidField('group_type', index);
  else groupType = gt;

  let groupValue: string | undefined;
  const gv = raw.group_value;
  if (gv === undefined || gv === null || gv === '') errors.missingField('group_value', index);
  else if (typeof gv === 'string' && !tooLong(gv)) groupValue = gv;
  else if ((typeof gv === 'number' && Number.isFinite(gv)) || typeof gv === 'boolean') groupValue = String(gv);
  else errors.invalidField('group_value', index);

  const props = propertyBag(raw.group_properties);
  if (props === undefined) errors.invalidField('group_properties', index);

  let time: number | null = null;
  if (raw.time !== undefined && raw.time !== null) {
    if (inWindow(raw.time, times)) time = raw.time;
    else errors.invalidField('time', index);
  }
  const optString = (field: string): string | null => {
    const v = raw[field];
    if (v === undefined || v === null) return null;
    if (typeof v === 'string' && !tooLong(v)) return v;
    errors.invalidField(field, index);
    return null;
  };
  const insertId = optString('insert_id');
  const userId = optString('user_id');
  const deviceId = optString('device_id');

  if (errors.count > before || groupType === undefined || groupValue === undefined || props === undefined) return null;
  return { index, group_type: groupType, group_value: groupValue, group_properties: props, time, insert_id: insertId, user_id: userId, device_id: deviceId };
}
