// Storage of dynamic group properties: one row per saved state, the newest version wins. The functions here
// build statements; the lookups below run them.
import { randomBytes } from 'node:crypto';
import { sql, param, type Sql } from '@groupscope/clickhouse';
import { chDateTime } from '../domain/time';
import type { Db, Insert, TableRef } from '../sql/executor';
import { latestVersions, nextVersion } from '../sql/version';
import type { DynamicDefinition } from './definition';

export interface DynamicProperty {
  project_id: number;
  id: string;
  group_type: string;
  name: string;
  definition: Pick<DynamicDefinition, 'metric' | 'window'>;
  created_at: number;
  last_run_at: number | null;
  last_window_start: number | null;
  last_window_end: number | null;
  last_groups: number;
}

export const newDynamicId = () => `dp_${randomBytes(6).toString('hex')}`;

export interface PropertyRow {
  project_id: number;
  id: string;
  group_type: string;
  name: string;
  definition: string;
  created_at: number;
  last_run_at: number | null;
  last_window_start: number | null;
  last_window_end: number | null;
  last_groups: number;
}

export const fromRow = (r: PropertyRow): DynamicProperty => ({
  project_id: Number(r.project_id),
  id: r.id,
  group_type: r.group_type,
  name: r.name,
  definition: JSON.parse(r.definition) as DynamicProperty['definition'],
  created_at: Number(r.created_at),
  last_run_at: r.last_run_at === null ? null : Number(r.last_run_at),
  last_window_start: r.last_window_start === null ? null : Number(r.last_window_start),
  last_window_end: r.last_window_end === null ? null : Number(r.last_window_end),
  last_groups: Number(r.last_groups),
});

function latest(t: TableRef, where: Sql): Sql {
  return latestVersions(t, 'dynamic_properties', {
    key: ['project_id', 'id'],
    columns: ['group_type', 'name', 'definition', { millis: 'created_at' }, { millis: 'last_run_at' }, { millis: 'last_window_start' }, { millis: 'last_window_end' }, 'last_groups'],
    where,
    orderBy: ['project_id', 'created_at', 'id'],
  });
}

/** The live properties of a project (rows: PropertyRow). */
export const propertiesQuery = (t: TableRef, projectId: number): Sql => latest(t, sql`project_id = ${param(projectId, 'UInt32')}`);

/** One live property (rows: PropertyRow). */
export const propertyQuery = (t: TableRef, projectId: number, id: string): Sql =>
  latest(t, sql`project_id = ${param(projectId, 'UInt32')} AND id = ${param(id, 'String')}`);

/** Every live property of every project: what the scheduler looks at (the one read across projects). */
export const allPropertiesQuery = (t: TableRef): Sql => latest(t, sql`1`);

/** The row that makes `p` the current state of the property (or deletes it). */
export function propertyRow(p: DynamicProperty, deleted = false, version = nextVersion()): Insert {
  const t = (ms: number | null) => (ms === null ? null : chDateTime(ms));
  return {
    table: 'dynamic_properties',
    rows: [
      {
        project_id: p.project_id,
        id: p.id,
        group_type: p.group_type,
        name: p.name,
        definition: JSON.stringify(p.definition),
        created_at: chDateTime(p.created_at),
        last_run_at: t(p.last_run_at),
        last_window_start: t(p.last_window_start),
        last_window_end: t(p.last_window_end),
        last_groups: p.last_groups,
        deleted: deleted ? 1 : 0,
        version,
      },
    ],
  };
}

export const listDynamic = async (db: Db, projectId: number) => (await db.rows<PropertyRow>(propertiesQuery(db.table, projectId))).map(fromRow);
export const listAllDynamic = async (db: Db) => (await db.rows<PropertyRow>(allPropertiesQuery(db.table))).map(fromRow);
export async function getDynamic(db: Db, projectId: number, id: string): Promise<DynamicProperty | undefined> {
  const [row] = await db.rows<PropertyRow>(propertyQuery(db.table, projectId, id));
  return row ? fromRow(row) : undefined;
}
