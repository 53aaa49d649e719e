// Amplitude property operations ($set, $add, ...) on a user's or a group's property bag. Pure: no I/O, no clock.
// The spec's order within one update: $clearAll, $unset, $set, $setOnce, $add, $append, $prepend, $preInsert,
// $postInsert, $remove. Plain (non-operation) keys mean $set.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Props = Record<string, Json>;

export const OPERATIONS = ['$clearAll', '$unset', '$set', '$setOnce', '$add', '$append', '$prepend', '$preInsert', '$postInsert', '$remove'] as const;
export type Operation = (typeof OPERATIONS)[number];
const OPERATION_SET: ReadonlySet<string> = new Set(OPERATIONS);

/** One parsed update: every operation with its (name, value) pairs, in the order they were sent. */
export interface Update {
  clearAll: boolean;
  unset: string[];
  set: [string, Json][];
  setOnce: [string, Json][];
  add: [string, number][];
  append: [string, Json[]][];
  prepend: [string, Json[]][];
  preInsert: [string, Json[]][];
  postInsert: [string, Json[]][];
  remove: [string, Json[]][];
  /** operations sent with an unusable value (e.g. `$add: {n: "x"}`, `$set: 3`): skipped, reported for metrics */
  ignored: Operation[];
}

export type ParseResult = { ok: true; update: Update } | { ok: false; error: string };

export function emptyUpdate(): Update {
  return { clearAll: false, unset: [], set: [], setOnce: [], add: [], append: [], prepend: [], preInsert: [], postInsert: [], remove: [], ignored: [] };
}

export function isEmptyUpdate(u: Update): boolean {
  return (
    !u.clearAll &&
    u.unset.length + u.set.length + u.setOnce.length + u.add.length + u.append.length + u.prepend.length + u.preInsert.length + u.postInsert.length + u.remove.length === 0
  );
}

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A number, or a string holding one ("12", "-1.5"); anything else is not a number. */
export function toNumber(v: Json | undefined): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

const asList = (v: Json): Json[] => (Array.isArray(v) ? v : [v]);

/**
 * Parses a property bag as sent (JSON text): operations and plain keys. Plain keys join `$set`; when a name is
 * both a plain key and in an explicit `$set`, the explicit `$set` wins (**choice**). A `$`-prefixed key that is
 * not an operation is an ordinary property name. The bag must be a JSON object; an operation whose value is
 * unusable is skipped and listed in `ignored`.
 */
export function parseUpdate(text: string | null | undefined): ParseResult {
  if (text === null || text === undefined || text === '' || text === '{}') return { ok: true, update: emptyUpdate() };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: 'properties are not valid JSON' };
  }
  if (!isObject(raw)) return { ok: false, error: 'properties are not a JSON object' };
  return { ok: true, update: updateFromObject(raw) };
}

export function updateFromObject(raw: Record<string, Json>): Update {
  const u = emptyUpdate();
  const plain: [string, Json][] = [];
  let explicitSet: [string, Json][] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (!OPERATION_SET.has(key)) {
      plain.push([key, value]);
      continue;
    }
    const op = key as Operation;
    if (op === '$clearAll') {
      // SDKs send "$clearAll": "-"; the value carries no meaning
      u.clearAll = true;
      continue;
    }
    if (op === '$unset') {
      // {"$unset": {"name": "-"}} from SDKs; a list of names is accepted too
      if (isObject(value)) u.unset.push(...Object.keys(value));
      else if (Array.isArray(value) && value.every((x) => typeof x === 'string')) u.unset.push(...(value as string[]));
      else u.ignored.push(op);
      continue;
    }
    if (!isObject(value)) {
      u.ignored.push(op);
      continue;
    }
    const pairs = Object.entries(value);
    switch (op) {
      case '$set':
        explicitSet = pairs;
        break;
      case '$setOnce':
        u.setOnce.push(...pairs);
        break;
      case '$add':
        for (const [name, v] of pairs) {
          const n = toNumber(v);
          if (n === undefined) u.ignored.push(op);
          else u.add.push([name, n]);
        }
        break;
      case '$append':
        u.append.push(...pairs.map(([n, v]): [string, Json[]] => [n, asList(v)]));
        break;
      case '$prepend':
        u.prepend.push(...pairs.map(([n, v]): [string, Json[]] => [n, asList(v)]));
        break;
      case '$preInsert':
        u.preInsert.push(...pairs.map(([n, v]): [string, Json[]] => [n, asList(v)]));
        break;
      case '$postInsert':
        u.postInsert.push(...pairs.map(([n, v]): [string, Json[]] => [n, asList(v)]));
        break;
      case '$remove':
        u.remove.push(...pairs.map(([n, v]): [string, Json[]] => [n, asList(v)]));
        break;
    }
  }
  if (plain.length > 0 && explicitSet.length > 0) {
    const explicit = new Set(explicitSet.map(([n]) => n));
    u.set = [...plain.filter(([n]) => !explicit.has(n)), ...explicitSet];
  } else {
    u.set = plain.length > 0 ? plain : explicitSet;
  }
  return u;
}

/** JSON value equality (lists and objects compared by content). */
export function sameJson(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface ApplyResult {
  props: Props;
  /** names set or changed (new value differs from the old one) */
  changed: string[];
  /** names present before and absent after */
  removed: string[];
  /** names the update would have created but `admit` refused (a limit) */
  rejected: string[];
}

/**
 * Applies an update to a property bag and returns the new bag (the input is not modified). `admit`, when given,
 * is asked before a name absent from the bag is created; a refused name is left out and reported in `rejected`.
 */
export function applyUpdate(before: Props, u: Update, admit?: (name: string) => boolean): ApplyResult {
  const next: Props = u.clearAll ? {} : { ...before };
  const rejected: string[] = [];
  const has = (name: string) => Object.prototype.hasOwnProperty.call(next, name);
  const admitted = new Set<string>();
  const mayCreate = (name: string): boolean => {
    if (has(name) || admitted.has(name) || !admit) return true;
    if (admit(name)) {
      admitted.add(name);
      return true;
    }
    if (!rejected.includes(name)) rejected.push(name);
    return false;
  };
  const put = (name: string, value: Json) => {
    if (mayCreate(name)) next[name] = value;
  };

  for (const name of u.unset) delete next[name];
  for (const [name, value] of u.set) put(name, value);
  for (const [name, value] of u.setOnce) if (!has(name)) put(name, value);
  for (const [name, n] of u.add) put(name, (toNumber(next[name]) ?? 0) + n);
  for (const [name, values] of u.append) put(name, [...listOf(next[name]), ...values]);
  for (const [name, values] of u.prepend) put(name, [...values, ...listOf(next[name])]);
  for (const [name, values] of u.preInsert) {
    const cur = listOf(next[name]);
    put(name, [...absentFrom(cur, values), ...cur]);
  }
  for (const [name, values] of u.postInsert) {
    const cur = listOf(next[name]);
    put(name, [...cur, ...absentFrom(cur, values)]);
  }
  for (const [name, values] of u.remove) {
    if (!has(name)) continue;
    next[name] = listOf(next[name]).filter((x) => !values.some((v) => sameJson(x, v)));
  }

  const changed: string[] = [];
  for (const [name, value] of Object.entries(next)) {
    if (!Object.prototype.hasOwnProperty.call(before, name) || !sameJson(before[name], value)) changed.push(name);
  }
  const removed = Object.keys(before).filter((name) => !has(name));
  return { props: next, changed, removed, rejected };
}

/** The current value as a list: unset -> [], a list -> itself, a scalar -> [scalar]. */
function listOf(v: Json | undefined): Json[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** The values not in `cur`, each once. */
function absentFrom(cur: Json[], values: Json[]): Json[] {
  const out: Json[] = [];
  for (const v of values) {
    if (!cur.some((x) => sameJson(x, v)) && !out.some((x) => sameJson(x, v))) out.push(v);
  }
  return out;
}
