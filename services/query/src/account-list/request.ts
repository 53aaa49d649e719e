// Parsing of GET /api/2/groups/{group_type}/list: columns, sort, filters (the charts' filter shape and operators on
// the group's current properties, and numeric conditions on usage metrics), cohorts, the day the usage windows end
// on, paging and format. Pure: request text in, a typed request out, or a 400 naming the parameter. Whether the
// group type, properties and cohorts exist is checked afterwards.
import { z } from 'zod';
import { addDays, parseDay } from '../domain/time';
import type { PropCondition, PropRef } from '../domain/properties';
import { ApiError, badParam } from '../http/errors';
import type { PropertyConditionBuilder } from '../sql/event-match';
import { enumParam, intParam, single, type Query } from '../http/params';
import { NUMERIC_COLUMNS, USAGE_METRIC_NAMES, lastCompleteDay } from '../sql/usage';

export type Column =
  | { kind: 'group_value' }
  | { kind: 'seen'; name: 'first_seen' | 'last_seen' }
  /** a usage metric column (`active_users_7d`, `..._prev`, `..._change`) or days_since_last_seen */
  | { kind: 'number'; name: string }
  | { kind: 'property'; key: string };

export const NUMBER_OPS = ['less', 'less or equal', 'greater', 'greater or equal', 'is', 'is not'] as const;
export type NumberOp = (typeof NUMBER_OPS)[number];

export type ListFilter =
  | { kind: 'property'; cond: PropCondition }
  | { kind: 'number'; name: string; op: NumberOp; values: number[]; param: string };


export interface ListRequest {
  groupType: string;
  /** the columns after group_value, which always comes first */
  columns: Column[];
  /** whether the caller named property columns (otherwise the JSON reply carries every current property) */
  namedProperties: boolean;
  sort: Column;
  order: 'asc' | 'desc';
  filters: ListFilter[];
  /** member of any of these cohorts, and of none of `excludeCohorts` */
  cohorts: string[];
  excludeCohorts: string[];
  /** the last UTC day of every usage window, 'YYYY-MM-DD' */
  asOf: string;
  limit: number;
  offset: number;
  format: 'json' | 'csv';
}

export const MAX_COLUMNS = 50;
export const MAX_FILTERS = 20;
export const MAX_COHORTS = 20;
export const MAX_LIMIT = 1000;
/** the deepest page: the whole list is sorted for every page, so this bounds no work, only absurd requests */
export const MAX_OFFSET = 1_000_000;
/** what a request names when it asks for nothing: every usage metric with its change, and the activity span */
export const DEFAULT_COLUMNS: readonly string[] = [...USAGE_METRIC_NAMES.flatMap((m) => [m, `${m}_change`]), 'first_seen', 'last_seen'];
export const DEFAULT_SORT = 'active_users_30d';

const PROPERTY_PREFIX = 'property:';
const MAX_NAME = 1024;
const name = z.string().min(1).max(MAX_NAME);
const scalar = z.union([z.string().max(MAX_NAME), z.number(), z.boolean()]).transform((v) => String(v));
const filterSchema = z
  .array(
    z.object({
      subprop_type: z.enum(['group', 'metric']),
      subprop_key: name.optional(),
      subprop_op: z.string().max(64),
      subprop_value: z.array(scalar).max(1000).optional(),
      group_type: name.optional(),
    }),
  )
  .max(MAX_FILTERS);

function json(param: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw badParam(param, `${param} is not valid JSON: ${(err as Error).message}`, 'invalid_json');
  }
}

/**
 * A column by name: group_value, first_seen, last_seen, days_since_last_seen, a usage metric column, else a current
 * group property (`property:<name>` names a property that has one of those names).
 */
export function parseColumn(param: string, raw: string): Column {
  if (raw === '' || raw.length > MAX_NAME) throw badParam(param, `${param}: a column name must have 1 to ${MAX_NAME} characters`);
  if (raw.startsWith(PROPERTY_PREFIX)) {
    const key = raw.slice(PROPERTY_PREFIX.length);
    if (!key) throw badParam(param, `${param}: "${raw}" names no property`);
    return { kind: 'property', key };
  }
  if (raw === 'group_value') return { kind: 'group_value' };
  if (raw === 'first_seen' || raw === 'last_seen') return { kind: 'seen', name: raw };
  if (NUMERIC_COLUMNS.includes(raw)) return { kind: 'number', name: raw };
  return { kind: 'property', key: raw };
}

/** The name a column is asked for (and headed in CSV) by. */
export function columnName(c: Column): string {
  switch (c.kind) {
    case 'group_value':
      return 'group_value';
    case 'seen':
    case 'number':
      return c.name;
    case 'property':
      return parseColumn('', c.key).kind === 'property' ? c.key : `${PROPERTY_PREFIX}${c.key}`;
  }
}

function parseColumns(raw: string | undefined): Column[] {
  if (raw === undefined || raw === '') return DEFAULT_COLUMNS.map((c) => parseColumn('columns', c));
  const list = json('columns', raw);
  const parsed = z.array(z.string()).min(1).max(MAX_COLUMNS).safeParse(list);
  if (!parsed.success) throw badParam('columns', `columns must be a JSON array of 1 to ${MAX_COLUMNS} column names`);
  const out: Column[] = [];
  const seen = new Set<string>();
  for (const c of parsed.data) {
    const col = parseColumn('columns', c);
    const key = JSON.stringify(col);
    if (col.kind === 'group_value' || seen.has(key)) continue; // group_value always comes first, once
    seen.add(key);
    out.push(col);
  }
  return out;
}

function parseFilters(raw: string | undefined, groupType: string, propertyCondition: PropertyConditionBuilder): ListFilter[] {
  if (raw === undefined || raw === '') return [];
  const parsed = filterSchema.safeParse(json('filters', raw));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    throw badParam('filters', `filters${path}: ${issue.message}`, 'invalid_definition', { path });
  }
  return parsed.data.map((f, i): ListFilter => {
    const at = `filters[${i}]`;
    const values = f.subprop_value ?? [];
    if (f.subprop_type === 'metric') {
      if (!f.subprop_key || !NUMERIC_COLUMNS.includes(f.subprop_key)) {
        throw badParam('filters', `${at}: subprop_key must name a usage metric: ${NUMERIC_COLUMNS.join(', ')}`, 'unknown_metric', { path: `[${i}].subprop_key` });
      }
      if (!(NUMBER_OPS as readonly string[]).includes(f.subprop_op)) {
        throw badParam('filters', `${at}: a metric condition takes one of: ${NUMBER_OPS.join(', ')}`, 'unknown_operator', { path: `[${i}].subprop_op` });
      }
      const op = f.subprop_op as NumberOp;
      const numbers = values.map(Number);
      const many = op === 'is' || op === 'is not';
      if (values.length === 0 || (!many && values.length > 1) || values.some((v) => v.trim() === '') || numbers.some((n) => !Number.isFinite(n))) {
        throw badParam('filters', `${at}: operator "${op}" needs ${many ? 'one or more finite numbers' : 'exactly one finite number'}`, 'invalid_value', { path: `[${i}].subprop_value` });
      }
      return { kind: 'number', name: f.subprop_key, op, values: numbers, param: at };
    }
    if (f.group_type !== undefined && f.group_type !== groupType) {
      throw badParam('filters', `${at}: the list is of group type "${groupType}"; a filter may only name its properties`, 'invalid_definition', { path: `[${i}].group_type` });
    }
    const prop: PropRef = f.subprop_key ? { kind: 'group', groupType, key: f.subprop_key } : { kind: 'groupValue', groupType };
    try {
      return { kind: 'property', cond: propertyCondition('filters', prop, f.subprop_op, values) };
    } catch (err) {
      if (err instanceof ApiError) throw new ApiError(err.status, err.code, `${at}: ${err.message}`, [{ ...err.details[0], param: 'filters', path: `[${i}]` }]);
      throw err;
    }
  });
}

function cohortIds(param: string, raw: unknown): string[] {
  if (raw === undefined || raw === '') return [];
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length > MAX_COHORTS) throw badParam(param, `at most ${MAX_COHORTS} cohorts`);
  return list.map((v) => {
    if (typeof v !== 'string' || v === '' || v.length > MAX_NAME) throw badParam(param, `${param} must be a cohort id`);
    return v;
  });
}

export function parseListRequest(groupType: string, query: Query, now: number, propertyCondition: PropertyConditionBuilder): ListRequest {
  const columns = parseColumns(single('columns', query.columns));
  const sortRaw = single('sort', query.sort);
  const sort = parseColumn('sort', sortRaw === undefined || sortRaw === '' ? DEFAULT_SORT : sortRaw);
  const order = enumParam(query, 'order', ['asc', 'desc'] as const, 'desc');
  const today = new Date(now).toISOString().slice(0, 10);
  const asOfRaw = single('as_of', query.as_of);
  const asOf = asOfRaw === undefined || asOfRaw === '' ? lastCompleteDay(now) : parseDay('as_of', asOfRaw);
  if (asOf > today) throw badParam('as_of', `as_of must not be after today (${today.replaceAll('-', '')})`, 'invalid_date');
  if (asOf < addDays(today, -3660)) throw badParam('as_of', 'as_of must be within the last ten years', 'invalid_date');
  return {
    groupType,
    columns,
    namedProperties: columns.some((c) => c.kind === 'property'),
    sort,
    order,
    filters: parseFilters(single('filters', query.filters), groupType, propertyCondition),
    cohorts: cohortIds('cohort', query.cohort),
    excludeCohorts: cohortIds('exclude_cohort', query.exclude_cohort),
    asOf,
    limit: intParam(query, 'limit', 50, 1, MAX_LIMIT),
    offset: intParam(query, 'offset', 0, 0, MAX_OFFSET),
    format: enumParam(query, 'format', ['json', 'csv'] as const, 'json'),
  };
}

/** Every property the request names (columns, sort, filters) and where, for the catalog's check. */
export function namedProperties(r: ListRequest): { prop: PropRef; param: string }[] {
  const group = (key: string): PropRef => ({ kind: 'group', groupType: r.groupType, key });
  const out = r.columns.flatMap((c) => (c.kind === 'property' ? [{ prop: group(c.key), param: 'columns' }] : []));
  if (r.sort.kind === 'property') out.push({ prop: group(r.sort.key), param: 'sort' });
  for (const f of r.filters) if (f.kind === 'property' && f.cond.prop.kind === 'group') out.push({ prop: f.cond.prop, param: 'filters' });
  return out;
}
