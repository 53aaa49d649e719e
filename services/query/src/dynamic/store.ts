// Storage of dynamic group properties: one row per saved state, the newest version wins.
import { randomBytes } from 'node:crypto';
import { sql, param, trusted, queryRows, insertRows, type ClickHouse, type Sql } from '@groupscope/clickhouse';
import { chTime, nextVersion } from '../cohorts/store';
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

interface Row {
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

const fromRow = (r: Row): DynamicProperty => ({
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

function latest(ch: ClickHouse, where: Sql): Sql {
  return sql`SELECT project_id, id, argMax(group_type, version) AS group_type, argMax(name, version) AS name,
      argMax(definition, version) AS definition, toUnixTimestamp64Milli(argMax(created_at, version)) AS created_at,
      toUnixTimestamp64Milli(argMax(last_run_at, version)) AS last_run_at,
      toUnixTimestamp64Milli(argMax(last_window_start, version)) AS last_window_start,
      toUnixTimestamp64Milli(argMax(last_window_end, version)) AS last_window_end,
      argMax(last_groups, version) AS last_groups, argMax(deleted, version) AS is_deleted
    FROM ${trusted(ch.table('dynamic_properties'))} WHERE ${where}
    GROUP BY project_id, id HAVING is_deleted = 0 ORDER BY project_id, created_at, id`;
}

export async function listDynamic(ch: ClickHouse, projectId: number): Promise<DynamicProperty[]> {
  return (await queryRows<Row>(ch, latest(ch, sql`project_id = ${param(projectId, 'UInt32')}`))).map(fromRow);
}

/** Every live property of every project: what the scheduler looks at. */
export async function listAllDynamic(ch: ClickHouse): Promise<DynamicProperty[]> {
  return (await queryRows<Row>(ch, latest(ch, sql`1`))).map(fromRow);
}

export async function getDynamic(ch: ClickHouse, projectId: number, id: string): Promise<DynamicProperty | undefined> {
  const rows = await queryRows<Row>(ch, latest(ch, sql`project_id = ${param(projectId, 'UInt32')} AND id = ${param(id, 'String')}`));
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function saveDynamic(ch: ClickHouse, p: DynamicProperty, deleted = false): Promise<void> {
  const t = (ms: number | null) => (ms === null ? null : chTime(ms));
  await insertRows(ch, 'dynamic_properties', [
    {
      project_id: p.project_id,
      id: p.id,
      group_type: p.group_type,
      name: p.name,
      definition: JSON.stringify(p.definition),
      created_at: chTime(p.created_at),
      last_run_at: t(p.last_run_at),
      last_window_start: t(p.last_window_start),
      last_window_end: t(p.last_window_end),
      last_groups: p.last_groups,
      deleted: deleted ? 1 : 0,
      version: nextVersion(),
    },
  ]);
}
