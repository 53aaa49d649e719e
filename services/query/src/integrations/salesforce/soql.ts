// SOQL and REST paths for the Salesforce sync. Pure. Object and field names are never escaped: they are checked
// against a strict pattern here and against the object's describe when a mapping is saved. String values are
// quoted with SOQL's escape sequences (backslash before ' " \, \n \r \t, \uXXXX for other control characters).
import type { MappingDef } from './mapping';

/** API names of objects and fields: letters, digits and underscores (custom ones end in __c, namespaced ones hold __). */
export const API_NAME = /^[A-Za-z][A-Za-z0-9_]{0,119}$/;
export const API_VERSION = /^v\d{2,3}\.\d$/;

/** Salesforce refuses a string longer than this in a WHERE clause. */
export const MAX_WHERE_STRING = 4000;

export class SoqlError extends Error {}

export function apiName(name: string): string {
  if (!API_NAME.test(name)) throw new SoqlError(`not a Salesforce API name: ${JSON.stringify(name)}`);
  return name;
}

/** A SOQL string literal. */
export function soqlString(value: string): string {
  let out = "'";
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (ch === "'" || ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}'`;
}

/** A SOQL dateTime literal (UTC, whole seconds: SystemModstamp has no finer precision in SOQL filters). */
export function soqlDateTime(ms: number): string {
  if (!Number.isFinite(ms)) throw new SoqlError('not a time');
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A dateTime as Salesforce returns it in JSON ("2017-09-01T10:00:00.000+0000", or with Z / +hh:mm); NaN if not one. */
export function parseSfDateTime(s: unknown): number {
  if (typeof s !== 'string') return NaN;
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,3}))?(Z|[+-]\d\d:?\d\d)$/.exec(s);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const utc = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +sec!, frac ? Number(frac.padEnd(3, '0')) : 0);
  if (zone === 'Z') return utc;
  const z = zone!.replace(':', '');
  const offset = (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5))) * 60_000;
  return z.startsWith('-') ? utc + offset : utc - offset;
}

/** The fields a run selects: Id, SystemModstamp, the name field and the mapped fields, each once (names are case-insensitive). */
export function selectFields(m: Pick<MappingDef, 'name_field' | 'properties'>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const f of ['Id', 'SystemModstamp', m.name_field, ...m.properties.map((p) => p.sf_field)]) {
    if (seen.has(f.toLowerCase())) continue;
    seen.add(f.toLowerCase());
    out.push(apiName(f));
  }
  return out;
}

type Selectable = Pick<MappingDef, 'sobject' | 'name_field' | 'properties'>;

/** Rows changed at or after `since` (every row when null), oldest change first. */
export function changedRowsSoql(m: Selectable, since: number | null): string {
  const where = since === null ? '' : ` WHERE SystemModstamp >= ${soqlDateTime(since)}`;
  return `SELECT ${selectFields(m).join(', ')} FROM ${apiName(m.sobject)}${where} ORDER BY SystemModstamp ASC, Id ASC`;
}

/** The rows whose name field holds one of `values` (current values of groups that are due). */
export function byNamesSoql(m: Selectable, values: readonly string[]): string {
  if (values.length === 0) throw new SoqlError('no values');
  return `SELECT ${selectFields(m).join(', ')} FROM ${apiName(m.sobject)} WHERE ${apiName(m.name_field)} IN (${values.map(soqlString).join(', ')}) ORDER BY SystemModstamp ASC, Id ASC`;
}

/** The REST path of a query. */
export function queryPath(apiVersion: string, soql: string): string {
  if (!API_VERSION.test(apiVersion)) throw new SoqlError(`not an API version: ${apiVersion}`);
  return `/services/data/${apiVersion}/query?q=${encodeURIComponent(soql)}`;
}

export function describePath(apiVersion: string, sobject: string): string {
  if (!API_VERSION.test(apiVersion)) throw new SoqlError(`not an API version: ${apiVersion}`);
  return `/services/data/${apiVersion}/sobjects/${apiName(sobject)}/describe`;
}

/**
 * The next page of a query reply: undefined when `done`, else its `nextRecordsUrl`, which must be a path on the
 * same instance under /services/data/ (the token is only ever sent to the instance it was issued for).
 */
export function nextPage(reply: { done?: unknown; nextRecordsUrl?: unknown }): string | undefined {
  if (reply.done === true) return undefined;
  const url = reply.nextRecordsUrl;
  if (typeof url !== 'string' || !/^\/services\/data\/v\d{2,3}\.\d\/query(All)?\/[A-Za-z0-9-]+$/.test(url)) {
    throw new SoqlError(`query reply not done and without a usable nextRecordsUrl: ${JSON.stringify(url)?.slice(0, 200)}`);
  }
  return url;
}

/**
 * Splits `values` into lists whose by-name query stays under `maxPathBytes` as a URL path (Salesforce limits the
 * URI and headers of a request to 16 KB). Values longer than Salesforce accepts in a WHERE clause are returned
 * apart: they cannot be asked for.
 */
export function chunkByNames(m: Selectable, apiVersion: string, values: readonly string[], maxPathBytes: number): { chunks: string[][]; unaskable: string[] } {
  const base = queryPath(apiVersion, byNamesSoql(m, [''])).length - encodeURIComponent("''").length;
  const sep = encodeURIComponent(', ').length;
  const chunks: string[][] = [];
  const unaskable: string[] = [];
  let current: string[] = [];
  let size = base;
  for (const v of values) {
    const len = encodeURIComponent(soqlString(v)).length;
    if (v.length > MAX_WHERE_STRING || base + len > maxPathBytes) {
      unaskable.push(v);
      continue;
    }
    if (current.length > 0 && size + sep + len > maxPathBytes) {
      chunks.push(current);
      current = [];
      size = base;
    }
    size += current.length > 0 ? sep + len : len;
    current.push(v);
  }
  if (current.length > 0) chunks.push(current);
  return { chunks, unaskable };
}
