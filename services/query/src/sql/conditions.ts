// Property values, filter operators and group-by keys as SQL. Property names and values are always bound
// parameters (map keys, JSON paths, IN lists); the only text pasted into SQL is written here.
import { sql, param, ident, trusted, join, type Sql } from '@groupscope/clickhouse';
import type { Op, PropCondition, PropRef } from '../domain/properties';
import { EXPANDED, projectFilter, type BuildContext } from './source';

/** How a row reaches the values of a group type. */
type GroupAccess =
  /** the row is one (event, group) of this type: `group_value`, its stamped properties in `group_properties` */
  | { kind: 'row' }
  /** the event was expanded by this type (ARRAY JOIN): one value, stamped properties in the event's JSON */
  | { kind: 'expanded' }
  /** all values of this type the event is attributed to: `groups[type]`, stamped properties in the JSON */
  | { kind: 'array' };

export function groupAccess(ctx: BuildContext, groupType: string): GroupAccess {
  if (ctx.source.table === 'event_groups' && ctx.source.groupType === groupType) return { kind: 'row' };
  if (ctx.source.table === 'events' && ctx.source.expand === groupType) return { kind: 'expanded' };
  return { kind: 'array' };
}

/** The JSON {type: {value: {props}}} of every group stamped on the event, on either table. */
function stampedJson(ctx: BuildContext): Sql {
  return ctx.source.table === 'events' ? sql`group_properties` : sql`all_group_properties`;
}

/**
 * A stamped group property read from the JSON, as the Map columns hold it: strings as-is, anything else as its JSON
 * text (which is what JSONExtract(..., 'String') returns, in one parse).
 */
function jsonGroupProp(ctx: BuildContext, groupType: string, value: Sql, key: string): Sql {
  return sql`JSONExtract(${stampedJson(ctx)}, ${param(groupType, 'String')}, ${value}, ${param(key, 'String')}, 'String')`;
}

/**
 * The current value of a group property (gpMode=current): a lookup table of every group of the type, read once per
 * query from `groups` (newest change wins) and hoisted into WITH; groups never identified read as ''.
 */
function currentGroupProp(ctx: BuildContext, groupType: string, value: Sql, key: string): Sql {
  const id = JSON.stringify([groupType, key]);
  let name = ctx.lookups.get(id);
  if (!name) {
    name = `__cur${ctx.lookups.size}`;
    ctx.lookups.set(id, name);
    ctx.withs.push(sql`(SELECT (groupArray(group_value), groupArray(properties[${param(key, 'String')}]))
      FROM ${trusted(ctx.table('groups'))} FINAL
      WHERE ${projectFilter(ctx)} AND group_type = ${param(groupType, 'String')}) AS ${trusted(name)}`);
  }
  return sql`transform(${value}, ${trusted(name)}.1, ${trusted(name)}.2, '')`;
}

/** A group property of `groupType` for one group value expression. */
function groupPropOf(ctx: BuildContext, groupType: string, value: Sql, key: string, access: GroupAccess): Sql {
  if (ctx.gpMode === 'current') return currentGroupProp(ctx, groupType, value, key);
  if (access.kind === 'row') return sql`group_properties[${param(key, 'String')}]`;
  return jsonGroupProp(ctx, groupType, value, key);
}

/** A property's value on a row: one String, or (multi-valued group types) an array and a per-value expression. */
export type Value = { single: Sql } | { array: Sql; each: (v: Sql) => Sql };

const LAMBDA_VAR = trusted('__g');

export function valueOf(ctx: BuildContext, prop: PropRef): Value {
  switch (prop.kind) {
    case 'event':
      return { single: sql`event_properties[${param(prop.key, 'String')}]` };
    case 'user':
      return { single: sql`user_properties[${param(prop.key, 'String')}]` };
    case 'context':
      return { single: sql`context[${param(prop.key, 'String')}]` };
    case 'column':
      return { single: sql`${ident(prop.column, ['user_id', 'device_id'])}` };
    case 'groupValue':
    case 'group': {
      const access = groupAccess(ctx, prop.groupType);
      const of = (v: Sql) => (prop.kind === 'group' ? groupPropOf(ctx, prop.groupType, v, prop.key, access) : v);
      if (access.kind === 'row') return { single: of(sql`group_value`) };
      if (access.kind === 'expanded') return { single: of(sql`${EXPANDED}`) };
      return { array: sql`groups[${param(prop.groupType, 'String')}]`, each: of };
    }
  }
}

/** A group-by key: one String per row. Multi-valued group types not expanded by the source take their first value. */
export function keyOf(ctx: BuildContext, prop: PropRef): Sql {
  const v = valueOf(ctx, prop);
  if ('single' in v) return v.single;
  return v.each(sql`arrayElement(${v.array}, 1)`);
}

const NEGATED: Partial<Record<Op, Op>> = { 'is not': 'is', 'does not contain': 'contains', 'set is not': 'set is' };

/** A list property's values: a JSON array's elements (strings unquoted), or the value itself when it is no array. */
function listOf(v: Sql): Sql {
  return sql`if(startsWith(${v}, '['), arrayMap(__x -> if(startsWith(__x, '"'), JSONExtractString(__x), __x), JSONExtractArrayRaw(${v})), [${v}])`;
}

function positive(op: Op, c: PropCondition, v: Sql): Sql {
  const values = param(c.values, 'Array(String)');
  // as text: a number past 2^53 (e.g. 1e29) is a valid Float64, but the embedded engine's binding refuses it as a JS number
  const num = () => param(String(c.number), 'Float64');
  switch (op) {
    case 'is':
      return sql`${v} IN ${values}`;
    case 'contains':
      return sql`multiSearchAnyCaseInsensitiveUTF8(${v}, ${values})`;
    case 'less':
      return sql`ifNull(toFloat64OrNull(${v}) < ${num()}, 0)`;
    case 'less or equal':
      return sql`ifNull(toFloat64OrNull(${v}) <= ${num()}, 0)`;
    case 'greater':
      return sql`ifNull(toFloat64OrNull(${v}) > ${num()}, 0)`;
    case 'greater or equal':
      return sql`ifNull(toFloat64OrNull(${v}) >= ${num()}, 0)`;
    case 'set is':
      return sql`hasAny(${listOf(v)}, ${values})`;
    default:
      throw new Error(`operator ${op} has no positive form`);
  }
}

/**
 * A property condition as a predicate. For multi-valued group types a positive operator holds when any of the
 * event's groups matches; a negated one ("is not", "does not contain", "set is not") when none does.
 */
export function conditionSql(ctx: BuildContext, c: PropCondition): Sql {
  const base = NEGATED[c.op] ?? c.op;
  const negate = base !== c.op;
  const v = valueOf(ctx, c.prop);
  const test = 'single' in v ? positive(base, c, v.single) : sql`arrayExists(${LAMBDA_VAR} -> ${positive(base, c, v.each(sql`${LAMBDA_VAR}`))}, ${v.array})`;
  return negate ? sql`NOT (${test})` : sql`(${test})`;
}

export function andAll(parts: Sql[]): Sql {
  return parts.length === 0 ? sql`1` : join(parts, ' AND ');
}
