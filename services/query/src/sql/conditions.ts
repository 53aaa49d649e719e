// Property values, filter operators and group-by keys as SQL: the one implementation of the operators for chart
// filters, segments (`s`), behavioral cohorts and dynamic properties alike (docs/query-semantics.md states the
// rules). Property names and values are always bound parameters (map keys, JSON paths, value lists, patterns); the
// only text pasted into SQL is written here.
import { sql, param, ident, trusted, join, type Sql } from '@groupscope/clickhouse';
import { globPattern, prefixPattern } from '../domain/patterns';
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

/**
 * A property's value on a row (or for one group of the row), in the pieces the operators need:
 * - `text`: as the Map columns hold it: a string as it is, any other JSON value as its JSON text; '' when not set;
 * - `present`: the property is set;
 * - `list`: the value is a JSON list, whose elements the operators compare (absent: the source holds no lists);
 * - `number`: the value as a number, where the source holds one (the revenue column).
 */
export interface PropValue {
  text: Sql;
  present: Sql;
  list?: Sql;
  number?: Sql;
}

/** A property's value on a row: one, or (multi-valued group types) an array of group values and the value of each. */
export type Value = { single: PropValue } | { array: Sql; each: (v: Sql) => PropValue };

/**
 * A value of a Map(String, String) bag. `jsonKeys` (the bag's *_json_keys column) names the keys holding JSON text:
 * a list is a listed key whose text starts with '[', so a string that merely looks like a list stays a string.
 */
function mapValue(map: string, jsonKeys: string | null, key: string): PropValue {
  const text = sql`${trusted(map)}[${param(key, 'String')}]`;
  return {
    text,
    present: sql`mapContains(${trusted(map)}, ${param(key, 'String')})`,
    ...(jsonKeys ? { list: sql`(has(${trusted(jsonKeys)}, ${param(key, 'String')}) AND startsWith(${text}, '['))` } : {}),
  };
}

/** A value read as raw JSON text ('' when absent), where JSON keeps its type: stamped group properties, current ones. */
function rawJsonValue(raw: Sql): PropValue {
  return {
    text: sql`multiIf(startsWith(${raw}, '"'), JSONExtractString(${raw}), ${raw} = 'null', '', ${raw})`,
    present: sql`(${raw} NOT IN ('', 'null'))`,
    list: sql`startsWith(${raw}, '[')`,
  };
}

/** A plain string column or expression, unset when empty. */
function textValue(text: Sql): PropValue {
  return { text, present: sql`(${text} != '')` };
}

/** The JSON {type: {value: {props}}} of every group stamped on the event, on either table. */
function stampedJson(ctx: BuildContext): Sql {
  return ctx.source.table === 'events' ? sql`group_properties` : sql`all_group_properties`;
}

/**
 * The current value of a group property (gpMode=current), as raw JSON: a lookup table of every group of the type,
 * read once per query from `groups` (newest change wins) and hoisted into WITH; groups never identified read as ''.
 */
function currentGroupRaw(ctx: BuildContext, groupType: string, value: Sql, key: string): Sql {
  const id = JSON.stringify([groupType, key]);
  let name = ctx.lookups.get(id);
  if (!name) {
    name = `__cur${ctx.lookups.size}`;
    ctx.lookups.set(id, name);
    ctx.withs.push(sql`(SELECT (groupArray(group_value), groupArray(JSONExtractRaw(properties_json, ${param(key, 'String')})))
      FROM ${trusted(ctx.table('groups'))} FINAL
      WHERE ${projectFilter(ctx)} AND group_type = ${param(groupType, 'String')}) AS ${trusted(name)}`);
  }
  return sql`transform(${value}, ${trusted(name)}.1, ${trusted(name)}.2, '')`;
}

/** A group property of `groupType` for one group value expression. */
function groupPropOf(ctx: BuildContext, groupType: string, value: Sql, key: string, access: GroupAccess): PropValue {
  if (ctx.gpMode === 'current') return rawJsonValue(currentGroupRaw(ctx, groupType, value, key));
  if (access.kind === 'row') return mapValue('group_properties', 'group_properties_json_keys', key);
  return rawJsonValue(sql`JSONExtractRaw(${stampedJson(ctx)}, ${param(groupType, 'String')}, ${value}, ${param(key, 'String')})`);
}

const GROUP_VAR = sql`__g`;
const ELEMENT_VAR = sql`__e`;

export function valueOf(ctx: BuildContext, prop: PropRef): Value {
  switch (prop.kind) {
    case 'event':
      return { single: mapValue('event_properties', 'event_properties_json_keys', prop.key) };
    case 'user':
      return { single: mapValue('user_properties', 'user_properties_json_keys', prop.key) };
    case 'context':
      return { single: mapValue('context', null, prop.key) };
    case 'column':
      return { single: textValue(sql`${ident(prop.column, ['user_id', 'device_id'])}`) };
    case 'eventColumn': {
      const column = ident(prop.column, ['revenue']);
      return { single: { text: sql`ifNull(toString(${column}), '')`, present: sql`isNotNull(${column})`, number: sql`${column}` } };
    }
    case 'groupValue':
    case 'group': {
      const access = groupAccess(ctx, prop.groupType);
      const of = (v: Sql): PropValue => (prop.kind === 'group' ? groupPropOf(ctx, prop.groupType, v, prop.key, access) : textValue(v));
      if (access.kind === 'row') return { single: of(sql`group_value`) };
      if (access.kind === 'expanded') return { single: of(sql`${EXPANDED}`) };
      return { array: sql`groups[${param(prop.groupType, 'String')}]`, each: of };
    }
  }
}

/** A group-by key: one String per row. Multi-valued group types not expanded by the source take their first value. */
export function keyOf(ctx: BuildContext, prop: PropRef): Sql {
  const v = valueOf(ctx, prop);
  if ('single' in v) return v.single.text;
  return v.each(sql`arrayElement(${v.array}, 1)`).text;
}

/** A property as a number (NULL when it is not one): the value of sums and value averages. */
export function numberOf(ctx: BuildContext, prop: PropRef): Sql {
  const v = valueOf(ctx, prop);
  const one = 'single' in v ? v.single : v.each(sql`arrayElement(${v.array}, 1)`);
  return one.number ?? sql`toFloat64OrNull(${one.text})`;
}

/** A JSON list's elements as the Map columns would hold them: strings unquoted, anything else as its JSON text. */
function elementsOf(text: Sql): Sql {
  return sql`JSONExtract(${text}, 'Array(String)')`;
}

/** What the operators compare: a list's elements, or the value alone (as a one-element array). */
export function valueElements(v: PropValue): Sql {
  return v.list ? sql`if(${v.list}, ${elementsOf(v.text)}, [${v.text}])` : sql`[${v.text}]`;
}

/** A property of a row that has one value of it (anything but a group type the row does not hold as its own). */
export function propertyValue(ctx: BuildContext, prop: PropRef): PropValue {
  const v = valueOf(ctx, prop);
  if (!('single' in v)) throw new Error(`${prop.kind} property has several values on this source`);
  return v.single;
}

/** A group property of a row of `groups`: its current value. */
export function currentGroupValue(key: string): PropValue {
  return rawJsonValue(sql`JSONExtractRaw(properties_json, ${param(key, 'String')})`);
}

/** The operator an operator negates, and whether an unset property matches the negation ("weak") or not ("strong"). */
type Positive = Op | 'set contains any';
const NEGATIONS: Partial<Record<Op, { of: Positive; unset: boolean }>> = {
  'is not': { of: 'is', unset: true },
  'does not contain': { of: 'contains', unset: true },
  'set is not': { of: 'set is', unset: false },
  'set does not contain': { of: 'set contains any', unset: false },
  'does not start with': { of: 'starts with', unset: false },
  'glob does not match': { of: 'glob match', unset: false },
};

const COMPARE: Partial<Record<Op, string>> = { less: '<', 'less or equal': '<=', greater: '>', 'greater or equal': '>=' };

/**
 * The positive test on a value that is set. A list is tested element by element (any element), the set operators on
 * its elements as a set. A scalar is tested as it is, without building an array per row (the common case).
 */
function positive(op: Positive, c: PropCondition, v: PropValue): Sql {
  const anyElement = (test: (x: Sql) => Sql): Sql =>
    v.list ? sql`if(${v.list}, arrayExists(${ELEMENT_VAR} -> ${test(ELEMENT_VAR)}, ${elementsOf(v.text)}), ${test(v.text)})` : test(v.text);
  const values = () => param(c.values, 'Array(String)');
  const compare = COMPARE[op as Op];
  if (compare) {
    // as text: a number past 2^53 (e.g. 1e29) is a valid Float64, but a JS number binding would refuse it
    const n = () => param(String(c.number), 'Float64');
    if (v.number) return sql`ifNull(${v.number} ${trusted(compare)} ${n()}, 0)`;
    return anyElement((x) => sql`ifNull(toFloat64OrNull(${x}) ${trusted(compare)} ${n()}, 0)`);
  }
  switch (op) {
    case 'is':
      return v.list ? sql`if(${v.list}, hasAny(${elementsOf(v.text)}, ${values()}), ${v.text} IN ${values()})` : sql`${v.text} IN ${values()}`;
    case 'contains':
      return anyElement((x) => sql`multiSearchAnyCaseInsensitiveUTF8(${x}, ${values()})`);
    case 'starts with':
      return anyElement((x) => sql`match(${x}, ${param(prefixPattern(c.values), 'String')})`);
    case 'glob match':
      return anyElement((x) => sql`match(${x}, ${param(globPattern(c.values), 'String')})`);
    case 'set is':
      return sql`(arraySort(arrayDistinct(${valueElements(v)})) = arraySort(arrayDistinct(${values()})))`;
    case 'set contains':
      return sql`hasAll(${valueElements(v)}, ${values()})`;
    case 'set contains any':
      return sql`hasAny(${valueElements(v)}, ${values()})`;
    default:
      throw new Error(`operator ${op} has no positive form`);
  }
}

/**
 * Whether the positive test could hold for an unset property, whose text is '' (and which no number is): then
 * `present` must be tested too; otherwise the test alone says it.
 */
function matchesUnset(op: Positive, c: PropCondition): boolean {
  if (COMPARE[op as Op]) return false;
  if (op === 'is') return c.values.includes('');
  return true;
}

/** The value matches the positive operator: set and passing the test, or (`is` "(none)") not set or empty. */
function matches(op: Positive, c: PropCondition, v: PropValue): Sql {
  const none = c.none ? sql`${v.text} = ''` : null;
  if (c.values.length === 0 && none) return sql`(${none})`;
  const test = matchesUnset(op, c) ? sql`(${v.present} AND ${positive(op, c, v)})` : sql`(${positive(op, c, v)})`;
  return none ? sql`(${test} OR ${none})` : test;
}

/**
 * A property condition as a predicate over one row. Positive operators need the property set and matching; `is
 * not` and `does not contain` hold when it does not match (so also when it is not set); the other negations need
 * it set and not matching. For multi-valued group types the event's groups act as one value: a positive operator
 * holds when any group matches, a negation when none does (and, except for the two above, one has the property).
 */
export function conditionSql(ctx: BuildContext, c: PropCondition): Sql {
  const negation = NEGATIONS[c.op];
  const op = negation?.of ?? c.op;
  const v = valueOf(ctx, c.prop);
  let matched: Sql;
  let set: Sql;
  if ('single' in v) {
    matched = matches(op, c, v.single);
    set = v.single.present;
  } else {
    const each = v.each(GROUP_VAR);
    matched = sql`arrayExists(${GROUP_VAR} -> ${matches(op, c, each)}, ${v.array})`;
    // "(none)": an event without a group of the type has the property nowhere
    if (c.none) matched = sql`(empty(${v.array}) OR ${matched})`;
    set = sql`arrayExists(${GROUP_VAR} -> ${each.present}, ${v.array})`;
  }
  if (!negation) return sql`(${matched})`;
  return negation.unset ? sql`(NOT ${matched})` : sql`(${set} AND NOT ${matched})`;
}

export function andAll(parts: Sql[]): Sql {
  return parts.length === 0 ? sql`1` : join(parts, ' AND ');
}
