// Parsing of the chart parameters shared by every chart: event definitions (`e`), filters, group-bys (`e.group_by`,
// `g`), segments (`s`), countGroup, gpMode, limit. Pure: turns request text into typed definitions
// (domain/properties.ts) or throws a 400 naming the parameter. Whether names exist in the project is checked
// afterwards (domain/catalog.ts).
import { z } from 'zod';
import {
  BUILTIN_COLUMNS, EVENT_COLUMNS, NONE, NUMERIC_OPS, OPS, type BuiltinColumn, type Condition, type EventDef, type GpMode, type Op, type PropCondition,
  type PropRef,
} from '../domain/properties';
import { badParam } from '../http/errors';

/** Built-in user properties kept in the row's `context` map (device and location fields), and their aliases. */
export const BUILTIN_CONTEXT = [
  'platform', 'os_name', 'os_version', 'device_brand', 'device_manufacturer', 'device_model', 'device_family', 'device_type',
  'carrier', 'country', 'region', 'city', 'dma', 'language', 'app_version', 'library', 'ip', 'start_version', 'paying',
] as const;
const BUILTIN_ALIASES: Record<string, string> = { version: 'app_version', os: 'os_name' };

const MAX_NAME = 1024;
const MAX_VALUES = 1000;
const name = z.string().min(1).max(MAX_NAME);
const scalar = z.union([z.string().max(MAX_NAME), z.number(), z.boolean()]).transform((v) => String(v));

const filterSchema = z.object({
  subprop_type: z.enum(['event', 'user', 'group']),
  subprop_key: name.optional(),
  subprop_op: z.string().max(64),
  subprop_value: z.array(scalar).max(MAX_VALUES).optional(),
  group_type: name.optional(),
});
const groupBySchema = z.object({
  type: z.enum(['event', 'user', 'group']),
  value: name.optional(),
  group_type: name.optional(),
});
const eventSchema = z.object({
  event_type: name,
  filters: z.array(filterSchema).max(50).optional(),
  group_by: z.array(groupBySchema).max(2).optional(),
});
const segmentSchema = z.array(
  z.object({
    prop: name,
    op: z.string().max(64),
    values: z.array(scalar).max(MAX_VALUES),
  }),
).max(50);

function zodMessage(err: z.ZodError): { message: string; path: string } {
  const issue = err.issues[0]!;
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  return { message: issue.message, path };
}

/** Parses a JSON parameter, naming it when it is malformed. */
export function parseJsonParam(param: string, raw: unknown): unknown {
  if (typeof raw !== 'string') throw badParam(param, `${param} must be given once, as JSON text`, 'invalid_json');
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw badParam(param, `${param} is not valid JSON: ${(err as Error).message}`, 'invalid_json');
  }
}

function parseOp(param: string, op: string): Op {
  if (!(OPS as readonly string[]).includes(op)) {
    throw badParam(param, `unknown operator "${op}"; expected one of: ${OPS.join(', ')}`, 'unknown_operator');
  }
  return op as Op;
}

/** Operators whose values are text patterns (one search or regular expression per value): at most 100 values. */
const PATTERN_OPS: readonly Op[] = ['contains', 'does not contain', 'starts with', 'does not start with', 'glob match', 'glob does not match'];
const MAX_PATTERNS = 100;

/**
 * Builds a property condition: checks the operator's values (numeric operators need one number; pattern operators
 * take at most 100 values). "(none)" in `is` / `is not` stands for "not set"; elsewhere it is plain text.
 */
export function propCondition(param: string, prop: PropRef, rawOp: string, values: string[]): PropCondition {
  const op = parseOp(param, rawOp);
  if (values.length === 0) throw badParam(param, `${param} needs at least one value`, 'missing_value');
  if (NUMERIC_OPS.includes(op)) {
    const n = Number(values[0]);
    if (values.length !== 1 || values[0]!.trim() === '' || !Number.isFinite(n)) {
      throw badParam(param, `operator "${op}" needs exactly one finite number, got ${JSON.stringify(values.slice(0, 3))}`, 'invalid_value');
    }
    return { kind: 'prop', prop, op, values, number: n, param };
  }
  if (PATTERN_OPS.includes(op) && values.length > MAX_PATTERNS) {
    throw badParam(param, `operator "${op}" takes at most ${MAX_PATTERNS} values`, 'invalid_value');
  }
  if ((op === 'is' || op === 'is not') && values.includes(NONE)) {
    return { kind: 'prop', prop, op, values: values.filter((v) => v !== NONE), none: true, param };
  }
  return { kind: 'prop', prop, op, values, param };
}

/** An event property by name: a built-in one kept in a column (`$revenue`), or a key of the event's properties. */
export function eventProp(key: string): PropRef {
  if (Object.hasOwn(EVENT_COLUMNS, key)) {
    const name = key as keyof typeof EVENT_COLUMNS;
    return { kind: 'eventColumn', name, column: EVENT_COLUMNS[name] };
  }
  return { kind: 'event', key };
}

/** A user property name as Amplitude writes it: `gp:name` for custom ones, a bare name for built-in ones. */
export function userProp(param: string, key: string): PropRef {
  if (key.startsWith('gp:')) {
    const k = key.slice(3);
    if (!k) throw badParam(param, `"${key}" names no property after gp:`);
    return { kind: 'user', key: k };
  }
  const k = BUILTIN_ALIASES[key] ?? key;
  if ((BUILTIN_COLUMNS as readonly string[]).includes(k)) return { kind: 'column', column: k as BuiltinColumn };
  if ((BUILTIN_CONTEXT as readonly string[]).includes(k)) return { kind: 'context', key: k };
  // a bare name that is not built in: a custom user property written without its prefix
  return { kind: 'user', key: k };
}

/**
 * A property named in `s`, `g` or a cohort-free segment: `gp:x` (custom user property), `group:<type>:<prop>`
 * (group property), `group:<type>` (the group value itself), or a built-in user property.
 */
export function parsePropName(param: string, raw: string): PropRef {
  if (raw.startsWith('group:')) {
    const rest = raw.slice('group:'.length);
    const i = rest.indexOf(':');
    const groupType = i < 0 ? rest : rest.slice(0, i);
    const key = i < 0 ? '' : rest.slice(i + 1);
    if (!groupType) throw badParam(param, `"${raw}" names no group type; write group:<type> or group:<type>:<property>`);
    return i < 0 ? { kind: 'groupValue', groupType } : key ? { kind: 'group', groupType, key } : badPropName(param, raw);
  }
  if (raw.startsWith('event:')) {
    const key = raw.slice('event:'.length);
    return key ? eventProp(key) : badPropName(param, raw);
  }
  return userProp(param, raw);
}

function badPropName(param: string, raw: string): never {
  throw badParam(param, `"${raw}" is not a valid property name`);
}

export function parseEventDef(param: string, raw: unknown): EventDef {
  const json = parseJsonParam(param, raw);
  if (typeof json === 'string') return { eventType: json, filters: [], groupBy: [], param };
  const parsed = eventSchema.safeParse(json);
  if (!parsed.success) {
    const { message, path } = zodMessage(parsed.error);
    throw badParam(param, `${param}${path ? `.${path}` : ''}: ${message}`, 'invalid_definition', { path });
  }
  const e = parsed.data;
  const filters = (e.filters ?? []).map((f, i) => {
    const where = `${param}.filters[${i}]`;
    let prop: PropRef;
    if (f.subprop_type === 'group') {
      if (!f.group_type) throw badParam(param, `${where}: a group filter needs group_type`, 'invalid_definition', { path: `filters[${i}].group_type` });
      prop = f.subprop_key ? { kind: 'group', groupType: f.group_type, key: f.subprop_key } : { kind: 'groupValue', groupType: f.group_type };
    } else {
      if (!f.subprop_key) throw badParam(param, `${where}: subprop_key is required`, 'invalid_definition', { path: `filters[${i}].subprop_key` });
      prop = f.subprop_type === 'event' ? eventProp(f.subprop_key) : userProp(param, f.subprop_key);
    }
    try {
      return propCondition(param, prop, f.subprop_op, f.subprop_value ?? []);
    } catch (err) {
      throw withPath(err, `filters[${i}]`, where);
    }
  });
  const groupBy = (e.group_by ?? []).map((g, i): PropRef => {
    if (g.type === 'group') {
      if (!g.group_type) throw badParam(param, `${param}.group_by[${i}]: a group group-by needs group_type`, 'invalid_definition', { path: `group_by[${i}].group_type` });
      return g.value ? { kind: 'group', groupType: g.group_type, key: g.value } : { kind: 'groupValue', groupType: g.group_type };
    }
    if (!g.value) throw badParam(param, `${param}.group_by[${i}]: value is required`, 'invalid_definition', { path: `group_by[${i}].value` });
    return g.type === 'event' ? eventProp(g.value) : userProp(param, g.value);
  });
  return { eventType: e.event_type, filters, groupBy, param };
}

function withPath(err: unknown, path: string, where: string): unknown {
  if (err && typeof err === 'object' && 'details' in err && Array.isArray((err as { details: unknown[] }).details)) {
    const e = err as { details: Record<string, unknown>[]; message: string };
    e.details[0] = { ...e.details[0], path };
    e.message = `${where}: ${e.message}`;
  }
  return err;
}

/** Segment conditions that are not properties, resolved by the handler registered under the name (sql/segments.ts). */
export const EXT_CONDITION_NAMES = new Set(['cohort']);

export function parseSegments(param: string, raw: unknown): Condition[] {
  if (raw === undefined || raw === '') return [];
  const json = parseJsonParam(param, raw);
  const parsed = segmentSchema.safeParse(json);
  if (!parsed.success) {
    const { message, path } = zodMessage(parsed.error);
    throw badParam(param, `${param}${path ? path.startsWith('[') ? path : `.${path}` : ''}: ${message}`, 'invalid_definition', { path });
  }
  return parsed.data.map((c, i): Condition => {
    const where = `${param}[${i}]`;
    if (EXT_CONDITION_NAMES.has(c.prop)) return { kind: 'ext', name: c.prop, op: c.op, values: c.values, param: where };
    try {
      return propCondition(param, parsePropName(param, c.prop), c.op, c.values);
    } catch (err) {
      throw withPath(err, `[${i}]`, where);
    }
  });
}

/** countGroup: absent or "User" -> users; anything else names a group type. */
export function parseCountGroup(raw: unknown): string | null {
  if (raw === undefined || raw === '' || raw === 'User' || raw === 'user') return null;
  if (typeof raw !== 'string' || raw.length > MAX_NAME) throw badParam('countGroup', 'countGroup must be "User" or a group type');
  return raw;
}

export function parseGpMode(raw: unknown): GpMode {
  if (raw === undefined || raw === '' || raw === 'event') return 'event';
  if (raw === 'current') return 'current';
  throw badParam('gpMode', 'gpMode must be "event" or "current"');
}

export function parseLimit(raw: unknown, def = 100, max = 1000): number {
  if (raw === undefined || raw === '') return def;
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw badParam('limit', `limit must be an integer from 1 to ${max}`);
  return n;
}

/** `g`: one group-by property named like a segment property. */
export function parseG(raw: unknown): PropRef | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || raw.length > MAX_NAME) throw badParam('g', 'g must be one property name');
  return parsePropName('g', raw);
}

