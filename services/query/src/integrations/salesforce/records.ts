// Salesforce rows -> group identifies. Pure. A row's name field is its group value; its mapped fields become a
// `$set` of the group properties (an empty field becomes an `$unset`, so a value cleared in Salesforce is cleared
// here too). Properties not in the mapping are never touched, so what a Group Identify sets beside them stays.
import { randomUUID } from 'node:crypto';
import type { GroupIdentifyRecord } from '@groupscope/events';
import type { MappingDef } from './mapping';
import { parseSfDateTime } from './soql';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface SfRow {
  id: string;
  modstamp: number;
  /** null when the name field is empty: the row names no group */
  groupValue: string | null;
  set: Record<string, Json>;
  unset: string[];
}

export type RowOutcome = { kind: 'ok'; row: SfRow } | { kind: 'invalid'; error: string };

/** A field of a record as Salesforce returned it (keys spelled as in the describe; looked up ignoring case to be safe). */
function fieldOf(record: Record<string, unknown>, lower: Map<string, string>, name: string): unknown {
  if (record[name] !== undefined) return record[name];
  const key = lower.get(name.toLowerCase());
  return key === undefined ? undefined : record[key];
}

export function toRow(def: Pick<MappingDef, 'name_field' | 'properties'>, record: unknown): RowOutcome {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return { kind: 'invalid', error: 'a record is not an object' };
  const r = record as Record<string, unknown>;
  const lower = new Map(Object.keys(r).map((k) => [k.toLowerCase(), k]));
  const id = fieldOf(r, lower, 'Id');
  if (typeof id !== 'string' || id === '') return { kind: 'invalid', error: 'a record has no Id' };
  const modstamp = parseSfDateTime(fieldOf(r, lower, 'SystemModstamp'));
  if (Number.isNaN(modstamp)) return { kind: 'invalid', error: `record ${id} has no usable SystemModstamp` };
  const name = fieldOf(r, lower, def.name_field);
  const groupValue = typeof name === 'string' ? (name === '' ? null : name) : typeof name === 'number' || typeof name === 'boolean' ? String(name) : null;
  const set: Record<string, Json> = {};
  const unset: string[] = [];
  for (const p of def.properties) {
    const v = fieldOf(r, lower, p.sf_field);
    if (v === null || v === undefined || v === '') unset.push(p.group_property);
    else set[p.group_property] = v as Json;
  }
  return { kind: 'ok', row: { id, modstamp, groupValue, set, unset } };
}

/** The newest row of each group value (rows come oldest change first; of equal times the later one wins). */
export function latestPerGroup(rows: readonly SfRow[]): Map<string, SfRow> {
  const out = new Map<string, SfRow>();
  for (const r of rows) {
    if (r.groupValue === null) continue;
    const prior = out.get(r.groupValue);
    if (!prior || r.modstamp >= prior.modstamp) out.set(r.groupValue, r);
  }
  return out;
}

export interface MappingRef {
  project_id: number;
  id: string;
  revision: number;
  group_type: string;
}

/**
 * The group identify of one row. Its insert_id names the mapping revision, the record and its SystemModstamp, so
 * a row read again (overlap, a retried run) is dropped by the enricher's insert_id de-duplication, while the same
 * row under a changed mapping is a new update.
 */
export function identifyRecord(m: MappingRef, row: SfRow & { groupValue: string }, now: number): GroupIdentifyRecord {
  const ops: Record<string, unknown> = {};
  if (row.unset.length > 0) ops.$unset = Object.fromEntries(row.unset.map((n) => [n, '-']));
  if (Object.keys(row.set).length > 0) ops.$set = row.set;
  return {
    project_id: m.project_id,
    uuid: randomUUID(),
    receive_time: now,
    event_time: now,
    group_type: m.group_type,
    group_value: row.groupValue,
    group_properties: JSON.stringify(ops),
    source: 'salesforce',
    user_id: null,
    device_id: null,
    insert_id: `sf:${m.id}:${m.revision}:${row.id}:${row.modstamp}`,
  };
}
