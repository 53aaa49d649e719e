// Pure mapping from Kafka records to ClickHouse rows, encoded as JSONCompactEachRow lines (the cheapest text
// format for both JSON.stringify and ClickHouse's parser). An enriched event is ONE line: the events columns plus
// `group_rows`, from which ClickHouse itself makes the event_groups rows (INSERT ... SELECT ... FROM input() ARRAY
// JOIN group_rows), so the shared columns are neither encoded nor parsed once per group. No I/O; unit tested in
// rows.test.ts.
import type { EnrichedEvent, GroupChange } from '@groupscope/events';
import { WANT_EVENTS, WANT_EVENT_GROUPS } from './tables';

/** One encoded line and what the idempotency filter needs to know about it. */
export interface Row {
  /** Kafka offset of the record the line came from (every row of one record shares it) */
  offset: number;
  /** toYYYYMM(event_time) for tables partitioned by month, 0 for the others */
  month: number;
  /** a JSONCompactEachRow line, ending in '\n' */
  line: string;
  /** event_groups rows the line makes (the length of its group_rows); 1 for the other tables */
  groupRows: number;
}

/** A groups row waits for first_identified, which comes from ClickHouse when the batch is written. */
export interface GroupRow {
  offset: number;
  key: GroupKey;
  updatedAt: number;
  /** the line's text up to first_identified, and the rest after it */
  head: string;
  tail: string;
}

export interface GroupKey {
  project_id: number;
  group_type: string;
  group_value: string;
}

export type Outcome<T> = { kind: 'ok'; value: T } | { kind: 'invalid'; error: string };

/** DateTime64(3) holds 1900..2299; the writer accepts 1970-01-01 up to (not including) 2200-01-01. */
export const MAX_TIME_MS = Date.UTC(2200, 0, 1);
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const UINT32_MAX = 0xffffffff;

export class InvalidRecord extends Error {}

/** toYYYYMM of a UTC millisecond time, as ClickHouse computes it for DateTime64(3, 'UTC'). */
export function monthOf(ms: number): number {
  const d = new Date(ms);
  return d.getUTCFullYear() * 100 + d.getUTCMonth() + 1;
}

/**
 * A JSON object's top-level keys as a Map(String, String): strings as they are, numbers, booleans, lists and
 * objects as their JSON text; null values are left out (an unset property).
 */
export function propertyBag(json: string, what: string): Record<string, string> {
  return bagOf(parseJson(json, what), what);
}

/** JSON text parsed, or an InvalidRecord naming `what` was not JSON. */
function parseJson(json: string, what: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    throw new InvalidRecord(`${what} is not JSON`);
  }
}

export function bagOf(parsed: unknown, what: string): Record<string, string> {
  return typedBag(parsed, what).bag;
}

/**
 * A property bag and its keys whose value is JSON text rather than a string (the *_json_keys columns): with both,
 * a reader gives every value back with its JSON type and tells a list from a string that looks like one.
 */
export interface TypedBag {
  bag: Record<string, string>;
  jsonKeys: string[];
}

export function typedBag(parsed: unknown, what: string): TypedBag {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidRecord(`${what} is not a JSON object`);
  // entries, not assignments: a key named __proto__ stays an ordinary property
  const entries: [string, string][] = [];
  const jsonKeys: string[] = [];
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'string') entries.push([k, v]);
    else {
      entries.push([k, JSON.stringify(v)]);
      jsonKeys.push(k);
    }
  }
  return { bag: Object.fromEntries(entries), jsonKeys };
}

/**
 * A bag read back with its JSON types: the values of `jsonKeys` parsed, every other value a string (the inverse of
 * typedBag). A listed value that is not JSON (a row written otherwise) stays a string.
 */
export function typedProperties(bag: Record<string, string>, jsonKeys: readonly string[]): Record<string, unknown> {
  const json = new Set(jsonKeys);
  return Object.fromEntries(
    Object.entries(bag).map(([k, v]) => {
      if (!json.has(k)) return [k, v];
      try {
        return [k, JSON.parse(v) as unknown];
      } catch {
        return [k, v];
      }
    }),
  );
}

/** A property's value as history stores it: the text a Map(String, String) bag would hold. */
function valueText(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function checkTime(ms: number, what: string): void {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms >= MAX_TIME_MS) throw new InvalidRecord(`${what} out of range`);
}

function checkProject(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > UINT32_MAX) throw new InvalidRecord('project_id out of range');
}

const str = JSON.stringify;
const num = (n: number | null): string => (n === null || !Number.isFinite(n) ? 'null' : String(n));
const int64 = (n: number | null, dflt: number): string => (n === null || !Number.isSafeInteger(n) ? String(dflt) : String(n));

/** Groups with empty and repeated values removed, types in a stable order. */
function cleanGroups(groups: Record<string, string[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const type of Object.keys(groups)) {
    const values = [...new Set(groups[type] ?? [])];
    if (values.length > 0) out[type] = values;
  }
  return out;
}

/** EnrichedEvent -> its line: the `events` row, with one group_rows entry per (group type, value) it is attributed to. */
export function eventRows(e: EnrichedEvent, partition: number, offset: number): Outcome<Row> {
  return outcome(() => eventRowOrThrow(e, partition, offset));
}

/** A mapping's result, or why the record is invalid (any other error is a bug and is thrown). */
function outcome<T>(map: () => T): Outcome<T> {
  try {
    return { kind: 'ok', value: map() };
  } catch (err) {
    if (err instanceof InvalidRecord) return { kind: 'invalid', error: err.message };
    throw err;
  }
}

function eventRowOrThrow(e: EnrichedEvent, partition: number, offset: number): Row {
  checkProject(e.project_id);
  checkTime(e.event_time, 'event_time');
  checkTime(e.receive_time, 'receive_time');
  if (!UUID_RE.test(e.uuid)) throw new InvalidRecord('uuid is not a UUID');
  const groups = cleanGroups(e.groups);
  // {type: {value: {props}}} as stamped at ingest, built from the snapshots' own JSON text
  const byType = new Map<string, string[]>();
  // each group's bag and its JSON keys, as the tail of its group_rows tuple
  const bags = new Map<string, string>();
  for (const s of e.group_properties) {
    const typed = typedBag(parseJson(s.properties, 'group_properties snapshot'), 'group_properties snapshot');
    let entries = byType.get(s.group_type);
    if (!entries) byType.set(s.group_type, (entries = []));
    entries.push(`${str(s.group_value)}:${s.properties}`);
    bags.set(`${s.group_type}\u0000${s.group_value}`, `${str(typed.bag)},${str(typed.jsonKeys)}`);
  }
  let snapshots = '{';
  for (const [type, entries] of byType) snapshots += `${snapshots.length > 1 ? ',' : ''}${str(type)}:{${entries.join(',')}}`;
  snapshots += '}';
  let groupRows = '[';
  let n = 0;
  for (const type of Object.keys(groups)) {
    const typeText = str(type);
    for (const value of groups[type]!) {
      groupRows += `${n++ > 0 ? ',' : ''}[${typeText},${str(value)},${bags.get(`${type}\u0000${value}`) ?? '{},[]'}]`;
    }
  }
  groupRows += ']';
  const eventProps = typedBag(parseJson(e.event_properties, 'event_properties'), 'event_properties');
  const userProps = typedBag(parseJson(e.user_properties, 'user_properties'), 'user_properties');
  const line =
    `[${e.project_id},${e.event_time},${str(e.event_type)},${str(e.uuid)},${str(e.user_id ?? '')},${str(e.device_id ?? '')},` +
    `${str(e.insert_id ?? '')},${int64(e.session_id, -1)},${int64(e.event_id, -1)},` +
    `${str(eventProps.bag)},${str(eventProps.jsonKeys)},${str(userProps.bag)},${str(userProps.jsonKeys)},` +
    `${str(groups)},${str(snapshots)},${str(e.context)},${num(e.revenue)},${num(e.price)},${num(e.quantity)},` +
    `${num(e.location_lat)},${num(e.location_lng)},${str(e.extra ?? '{}')},${e.receive_time},${partition},${offset},${groupRows},${WANT_EVENTS | WANT_EVENT_GROUPS}]\n`;
  return { offset, month: monthOf(e.event_time), line, groupRows: n };
}

export interface ChangeRows {
  group: GroupRow;
  history: Row[];
}

/** GroupChange -> the group's current row and one history row per property it changed or removed. */
export function changeRows(c: GroupChange, partition: number, offset: number): Outcome<ChangeRows> {
  return outcome(() => changeRowsOrThrow(c, partition, offset));
}

function changeRowsOrThrow(c: GroupChange, partition: number, offset: number): ChangeRows {
  checkProject(c.project_id);
  checkTime(c.event_time, 'event_time');
  checkTime(c.receive_time, 'receive_time');
  const props = parseJson(c.properties, 'properties');
  const bag = bagOf(props, 'properties');
  const current = props as Record<string, unknown>;
  const key = { project_id: c.project_id, group_type: c.group_type, group_value: c.group_value };
  const lead = `[${c.project_id},${str(c.group_type)},`;
  const tail = `${partition},${offset}]\n`;
  const group: GroupRow = {
    offset,
    key,
    updatedAt: c.event_time,
    head: `${lead}${str(c.group_value)},${str(bag)},${str(c.properties)},${c.event_time},`,
    tail: `,${tail}`,
  };
  const history: Row[] = [];
  const at = `${str(c.group_value)},${c.event_time},`;
  const received = `${c.receive_time},${str(c.source ?? '')},`;
  for (const name of new Set(c.changed)) {
    if (current[name] === null || current[name] === undefined) continue; // listed as changed but absent: a removal below
    history.push({ offset, month: 0, groupRows: 1, line: `${lead}${str(name)},${str(valueText(current[name]))},${at}0,${received}${tail}` });
  }
  for (const name of new Set([...c.removed, ...c.changed.filter((n) => current[n] === null || current[n] === undefined)])) {
    history.push({ offset, month: 0, groupRows: 1, line: `${lead}${str(name)},"",${at}1,${received}${tail}` });
  }
  return { group, history };
}

/** The groups line once first_identified is known. */
export function groupLine(g: GroupRow, firstIdentified: number): string {
  return `${g.head}${firstIdentified}${g.tail}`;
}
