// Storage of the Salesforce sync: mappings, each mapping's sync state, and the pickup state of each group value it
// has seen; every table keeps one row per saved state and the newest version wins. The functions here build
// statements (every one filtered by project, every value bound); the lookups at the end run them.
import { randomBytes } from 'node:crypto';
import { sql, param, trusted, type Sql } from '@groupscope/clickhouse';
import { chDateTime } from '../../domain/time';
import type { Db, Insert, TableRef } from '../../sql/executor';
import { latestVersions, nextVersion } from '../../sql/version';
import { cadenceJson, parseCadence, type MappingDef, type PropertyMap } from './mapping';

export interface Mapping {
  project_id: number;
  id: string;
  def: MappingDef;
  /** changes when the data read changes (object, name field, properties): sync state of older revisions is ignored */
  revision: number;
  created_at: number;
  updated_at: number;
}

export const newMappingId = () => `sf_${randomBytes(6).toString('hex')}`;

interface MappingRow {
  project_id: number;
  id: string;
  sobject: string;
  group_type: string;
  name_field: string;
  properties: string;
  cadence: string;
  revision: number | string;
  created_at: number | string;
  updated_at: number | string;
}

const fromMappingRow = (r: MappingRow): Mapping => ({
  project_id: Number(r.project_id),
  id: r.id,
  def: {
    sobject: r.sobject,
    group_type: r.group_type,
    name_field: r.name_field,
    properties: JSON.parse(r.properties) as PropertyMap[],
    cadence: parseCadence(JSON.parse(r.cadence), 'cadence'),
  },
  revision: Number(r.revision),
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
});

function latestMappings(t: TableRef, where: Sql): Sql {
  return latestVersions(t, 'salesforce_mappings', {
    key: ['project_id', 'id'],
    columns: ['sobject', 'group_type', 'name_field', 'properties', 'cadence', 'revision', { millis: 'created_at' }, { millis: 'updated_at' }],
    where,
    orderBy: ['project_id', 'created_at', 'id'],
  });
}

/** The live mappings of a project (rows: MappingRow). */
export const mappingsQuery = (t: TableRef, projectId: number): Sql => latestMappings(t, sql`project_id = ${param(projectId, 'UInt32')}`);

export const mappingQuery = (t: TableRef, projectId: number, id: string): Sql =>
  latestMappings(t, sql`project_id = ${param(projectId, 'UInt32')} AND id = ${param(id, 'String')}`);

/** Every live mapping of every project: what the scheduler looks at (the one read across projects). */
export const allMappingsQuery = (t: TableRef): Sql => latestMappings(t, sql`1`);

export function mappingRow(m: Mapping, deleted = false, version = nextVersion()): Insert {
  return {
    table: 'salesforce_mappings',
    rows: [
      {
        project_id: m.project_id,
        id: m.id,
        sobject: m.def.sobject,
        group_type: m.def.group_type,
        name_field: m.def.name_field,
        properties: JSON.stringify(m.def.properties),
        cadence: JSON.stringify(cadenceJson(m.def.cadence)),
        revision: m.revision,
        created_at: chDateTime(m.created_at),
        updated_at: chDateTime(m.updated_at),
        deleted: deleted ? 1 : 0,
        version,
      },
    ],
  };
}

export interface SyncState {
  project_id: number;
  mapping_id: string;
  revision: number;
  high_water_mark: number | null;
  last_attempt_at: number | null;
  last_success_at: number | null;
  last_trigger: string;
  last_outcome: string;
  full_sync: boolean;
  rows_read: number;
  groups_updated: number;
  groups_deferred: number;
  unknown_values: number;
  rows_without_name: number;
  retries: number;
  duration_ms: number;
  last_error_code: string;
  last_error_message: string;
  consecutive_failures: number;
}

/** The state of a mapping that never ran under its current revision. */
export const freshState = (m: Pick<Mapping, 'project_id' | 'id' | 'revision'>): SyncState => ({
  project_id: m.project_id,
  mapping_id: m.id,
  revision: m.revision,
  high_water_mark: null,
  last_attempt_at: null,
  last_success_at: null,
  last_trigger: '',
  last_outcome: '',
  full_sync: false,
  rows_read: 0,
  groups_updated: 0,
  groups_deferred: 0,
  unknown_values: 0,
  rows_without_name: 0,
  retries: 0,
  duration_ms: 0,
  last_error_code: '',
  last_error_message: '',
  consecutive_failures: 0,
});

const STATE_TIMES = ['high_water_mark', 'last_attempt_at', 'last_success_at'] as const;
const STATE_NUMBERS = ['project_id', 'revision', 'rows_read', 'groups_updated', 'groups_deferred', 'unknown_values', 'rows_without_name', 'retries', 'duration_ms', 'consecutive_failures'] as const;

function fromStateRow(r: Record<string, unknown>): SyncState {
  const s = { ...r } as Record<string, unknown>;
  for (const k of STATE_TIMES) s[k] = r[k] === null || r[k] === undefined ? null : Number(r[k]);
  for (const k of STATE_NUMBERS) s[k] = Number(r[k]);
  s.full_sync = Number(r.full_sync) === 1;
  return s as unknown as SyncState;
}

/** The newest state of each of a project's mappings (all projects when projectId is null). */
export function statesQuery(t: TableRef, projectId: number | null): Sql {
  const where = projectId === null ? sql`1` : sql`project_id = ${param(projectId, 'UInt32')}`;
  return sql`SELECT project_id, mapping_id, revision,
      toUnixTimestamp64Milli(high_water_mark) AS high_water_mark, toUnixTimestamp64Milli(last_attempt_at) AS last_attempt_at,
      toUnixTimestamp64Milli(last_success_at) AS last_success_at, last_trigger, last_outcome, full_sync, rows_read,
      groups_updated, groups_deferred, unknown_values, rows_without_name, retries, duration_ms, last_error_code,
      last_error_message, consecutive_failures
    FROM ${trusted(t('salesforce_sync_state'))} WHERE ${where}
    ORDER BY version DESC LIMIT 1 BY project_id, mapping_id`;
}

export function stateRow(s: SyncState, version = nextVersion()): Insert {
  const time = (ms: number | null) => (ms === null ? null : chDateTime(ms));
  return {
    table: 'salesforce_sync_state',
    rows: [{ ...s, high_water_mark: time(s.high_water_mark), last_attempt_at: time(s.last_attempt_at), last_success_at: time(s.last_success_at), full_sync: s.full_sync ? 1 : 0, version }],
  };
}

export type PickupState = 'synced' | 'pending' | 'unknown' | 'missing';

export interface Pickup {
  group_value: string;
  state: PickupState;
  sf_modstamp: number;
  last_update: number | null;
  next_pickup: number | null;
}

type MappingKey = Pick<Mapping, 'project_id' | 'id' | 'revision'>;

/** The newest pickup row of each group value of a mapping's revision (optionally only of `values`). */
function latestPickups(t: TableRef, m: MappingKey, values?: readonly string[]): Sql {
  const only = values === undefined ? sql`` : sql`AND group_value IN ${param([...values], 'Array(String)')}`;
  // one tuple per group: argMax over Nullable columns one by one would skip NULLs instead of taking the newest row
  return sql`SELECT group_value, s.1 AS state, toUnixTimestamp64Milli(s.2) AS sf_modstamp, toUnixTimestamp64Milli(s.3) AS last_update,
      toUnixTimestamp64Milli(s.4) AS next_pickup
    FROM (SELECT group_value, argMax(tuple(state, sf_modstamp, last_update, next_pickup), version) AS s
      FROM ${trusted(t('salesforce_pickups'))}
      WHERE project_id = ${param(m.project_id, 'UInt32')} AND mapping_id = ${param(m.id, 'String')} AND revision = ${param(m.revision, 'UInt64')} ${only}
      GROUP BY group_value)`;
}

/** Pickup state of the given group values (rows: PickupRow). */
export const pickupsQuery = (t: TableRef, m: MappingKey, values: readonly string[]): Sql => latestPickups(t, m, values);

/** Group values of a group type that exist in the project: with activity, or set by a group identify (rows: {group_value}). */
function groupValuesOf(t: TableRef, projectId: number, groupType: string, values?: readonly string[]): Sql {
  const only = values === undefined ? sql`` : sql`AND group_value IN ${param([...values], 'Array(String)')}`;
  const key = sql`project_id = ${param(projectId, 'UInt32')} AND group_type = ${param(groupType, 'String')} ${only}`;
  return sql`SELECT group_value FROM ${trusted(t('group_activity'))} WHERE ${key}
    UNION ALL
    SELECT group_value FROM ${trusted(t('groups'))} WHERE ${key}`;
}

/** Which of `values` are groups of the type in the project (rows: {group_value}). */
export const existingGroupsQuery = (t: TableRef, projectId: number, groupType: string, values: readonly string[]): Sql =>
  sql`SELECT DISTINCT group_value FROM (${groupValuesOf(t, projectId, groupType, values)})`;

/**
 * Group values to fetch by name: pending ones whose pickup date has come (all pending ones when `all`), and unknown
 * ones that have since become groups in groupscope (rows: PickupRow).
 */
export function dueValuesQuery(t: TableRef, m: MappingKey & { group_type: string }, now: number, all: boolean): Sql {
  return sql`SELECT * FROM (${latestPickups(t, m)})
    WHERE (state = 'pending' AND (${param(all ? 1 : 0, 'UInt8')} = 1 OR next_pickup IS NULL OR next_pickup <= ${param(now, 'Int64')}))
       OR (state = 'unknown' AND group_value IN (${groupValuesOf(t, m.project_id, m.group_type)}))
    ORDER BY group_value`;
}

/** Synced groups whose pickup date has come: nothing changed in Salesforce since, so only the date moves on (rows: PickupRow). */
export const rollForwardQuery = (t: TableRef, m: MappingKey, now: number): Sql =>
  sql`SELECT * FROM (${latestPickups(t, m)}) WHERE state = 'synced' AND next_pickup <= ${param(now, 'Int64')} ORDER BY group_value`;

/** Counts by state and the earliest pickup date of a mapping (rows: one PickupSummaryRow). */
export const pickupSummaryQuery = (t: TableRef, m: MappingKey): Sql =>
  sql`SELECT countIf(state = 'synced') AS synced, countIf(state = 'pending') AS pending, countIf(state = 'unknown') AS unknown,
      countIf(state = 'missing') AS missing, minIf(next_pickup, state IN ('synced', 'pending')) AS next_pickup
    FROM (${latestPickups(t, m)})`;

/** Group values of a state, in order (rows: {group_value, sf_modstamp}). */
export const valuesInStateQuery = (t: TableRef, m: MappingKey, state: PickupState, limit: number, offset: number): Sql =>
  sql`SELECT group_value, sf_modstamp FROM (${latestPickups(t, m)}) WHERE state = ${param(state, 'String')}
    ORDER BY group_value LIMIT ${param(limit, 'UInt32')} OFFSET ${param(offset, 'UInt32')}`;

/**
 * Removes pickups of revisions other than `keep` (all of the mapping's when undefined). Callers schedule it without
 * waiting for the mutation (lightweight_deletes_sync = 0): readers only read the revision the mapping names.
 */
export function prunePickupsStatement(t: TableRef, projectId: number, mappingId: string, keep?: number): Sql {
  const cond = keep === undefined ? sql`` : sql`AND revision != ${param(keep, 'UInt64')}`;
  return sql`DELETE FROM ${trusted(t('salesforce_pickups'))} WHERE project_id = ${param(projectId, 'UInt32')} AND mapping_id = ${param(mappingId, 'String')} ${cond}`;
}

export function pickupRows(m: MappingKey, pickups: readonly Pickup[], version = nextVersion()): Insert {
  const time = (ms: number | null) => (ms === null ? null : chDateTime(ms));
  return {
    table: 'salesforce_pickups',
    rows: pickups.map((p) => ({
      project_id: m.project_id,
      mapping_id: m.id,
      revision: m.revision,
      group_value: p.group_value,
      state: p.state,
      sf_modstamp: chDateTime(p.sf_modstamp),
      last_update: time(p.last_update),
      next_pickup: time(p.next_pickup),
      version,
    })),
  };
}

interface PickupRow {
  group_value: string;
  state: PickupState;
  sf_modstamp: number | string;
  last_update: number | string | null;
  next_pickup: number | string | null;
}

const fromPickupRow = (r: PickupRow): Pickup => ({
  group_value: r.group_value,
  state: r.state,
  sf_modstamp: Number(r.sf_modstamp),
  last_update: r.last_update === null ? null : Number(r.last_update),
  next_pickup: r.next_pickup === null ? null : Number(r.next_pickup),
});

export const listMappings = async (db: Db, projectId: number) => (await db.rows<MappingRow>(mappingsQuery(db.table, projectId))).map(fromMappingRow);
export const listAllMappings = async (db: Db) => (await db.rows<MappingRow>(allMappingsQuery(db.table))).map(fromMappingRow);
export async function getMapping(db: Db, projectId: number, id: string): Promise<Mapping | undefined> {
  const [row] = await db.rows<MappingRow>(mappingQuery(db.table, projectId, id));
  return row ? fromMappingRow(row) : undefined;
}

/** The states by mapping id (only those of each mapping's current revision count). */
export async function statesOf(db: Db, projectId: number | null): Promise<Map<string, SyncState>> {
  const rows = await db.rows<Record<string, unknown>>(statesQuery(db.table, projectId));
  return new Map(rows.map((r) => fromStateRow(r)).map((s) => [`${s.project_id}:${s.mapping_id}`, s]));
}

/** A mapping's state under its current revision (a fresh one when it never ran under it). */
export function stateFor(states: Map<string, SyncState>, m: Mapping): SyncState {
  const s = states.get(`${m.project_id}:${m.id}`);
  return s && s.revision === m.revision ? s : freshState(m);
}

export async function pickupsOf(db: Db, m: MappingKey, values: readonly string[]): Promise<Map<string, Pickup>> {
  if (values.length === 0) return new Map();
  const rows = await db.rows<PickupRow>(pickupsQuery(db.table, m, values));
  return new Map(rows.map((r) => [r.group_value, fromPickupRow(r)]));
}

export async function existingGroups(db: Db, projectId: number, groupType: string, values: readonly string[]): Promise<Set<string>> {
  if (values.length === 0) return new Set();
  return new Set((await db.rows<{ group_value: string }>(existingGroupsQuery(db.table, projectId, groupType, values))).map((r) => r.group_value));
}

export const dueValues = async (db: Db, m: MappingKey & { group_type: string }, now: number, all: boolean) =>
  (await db.rows<PickupRow>(dueValuesQuery(db.table, m, now, all))).map(fromPickupRow);

export const rollForwardCandidates = async (db: Db, m: MappingKey, now: number) => (await db.rows<PickupRow>(rollForwardQuery(db.table, m, now))).map(fromPickupRow);

export interface PickupSummary {
  synced: number;
  pending: number;
  unknown: number;
  missing: number;
  next_pickup: number | null;
}

export async function pickupSummary(db: Db, m: MappingKey): Promise<PickupSummary> {
  const [r] = await db.rows<Record<string, number | string | null>>(pickupSummaryQuery(db.table, m));
  const n = (v: unknown) => Number(v ?? 0);
  // minIf over no rows is the epoch
  const next = r?.next_pickup === null || r?.next_pickup === undefined ? null : Number(r.next_pickup) || null;
  return { synced: n(r?.synced), pending: n(r?.pending), unknown: n(r?.unknown), missing: n(r?.missing), next_pickup: next };
}

export async function valuesInState(db: Db, m: MappingKey, state: PickupState, limit: number, offset: number): Promise<string[]> {
  return (await db.rows<{ group_value: string }>(valuesInStateQuery(db.table, m, state, limit, offset))).map((r) => r.group_value);
}
