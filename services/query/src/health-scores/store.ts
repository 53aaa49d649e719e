// Storage of health scores: one row per saved state, the newest version wins (as cohorts and dynamic properties).
// The functions here build statements; the lookups below run them.
import { randomBytes } from 'node:crypto';
import { sql, param, type Sql } from '@groupscope/clickhouse';
import { chDateTime } from '../domain/time';
import type { Db, Insert, TableRef } from '../sql/executor';
import { latestVersions, nextVersion } from '../sql/version';
import type { HealthDefinition } from './definition';

export interface HealthScore {
  project_id: number;
  id: string;
  group_type: string;
  name: string;
  definition: HealthDefinition;
  created_at: number;
  /** when the definition last changed: part of what a run's group identifies are de-duplicated by */
  updated_at: number;
  last_run_at: number | null;
  /** the last day (UTC, 'YYYY-MM-DD') a run's usage windows ended on */
  last_as_of: string | null;
  /** groups scored by the last run, and those whose score or band changed and were written */
  last_groups: number;
  last_written: number;
}

export const newHealthScoreId = () => `hs_${randomBytes(6).toString('hex')}`;

interface HealthRow {
  project_id: number;
  id: string;
  group_type: string;
  name: string;
  definition: string;
  created_at: number;
  updated_at: number;
  last_run_at: number | null;
  last_as_of: string | null;
  last_groups: number;
  last_written: number;
}

const fromRow = (r: HealthRow): HealthScore => ({
  project_id: Number(r.project_id),
  id: r.id,
  group_type: r.group_type,
  name: r.name,
  definition: JSON.parse(r.definition) as HealthDefinition,
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
  last_run_at: r.last_run_at === null ? null : Number(r.last_run_at),
  last_as_of: r.last_as_of || null,
  last_groups: Number(r.last_groups),
  last_written: Number(r.last_written),
});

function latest(t: TableRef, where: Sql): Sql {
  return latestVersions(t, 'health_scores', {
    key: ['project_id', 'id'],
    columns: ['group_type', 'name', 'definition', { millis: 'created_at' }, { millis: 'updated_at' }, { millis: 'last_run_at' }, { text: 'last_as_of' }, 'last_groups', 'last_written'],
    where,
    orderBy: ['project_id', 'created_at', 'id'],
  });
}

/** The live health scores of a project (rows: HealthRow). */
export const healthScoresQuery = (t: TableRef, projectId: number): Sql => latest(t, sql`project_id = ${param(projectId, 'UInt32')}`);

/** One live health score (rows: HealthRow). */
export const healthScoreQuery = (t: TableRef, projectId: number, id: string): Sql =>
  latest(t, sql`project_id = ${param(projectId, 'UInt32')} AND id = ${param(id, 'String')}`);

/** Every live health score of every project: what the scheduler looks at (its one read across projects). */
export const allHealthScoresQuery = (t: TableRef): Sql => latest(t, sql`1`);

/** The row that makes `h` the current state of the score (or deletes it). */
export function healthScoreRow(h: HealthScore, deleted = false, version = nextVersion()): Insert {
  return {
    table: 'health_scores',
    rows: [
      {
        project_id: h.project_id,
        id: h.id,
        group_type: h.group_type,
        name: h.name,
        definition: JSON.stringify(h.definition),
        created_at: chDateTime(h.created_at),
        updated_at: chDateTime(h.updated_at),
        last_run_at: h.last_run_at === null ? null : chDateTime(h.last_run_at),
        last_as_of: h.last_as_of,
        last_groups: h.last_groups,
        last_written: h.last_written,
        deleted: deleted ? 1 : 0,
        version,
      },
    ],
  };
}

export const listHealthScores = async (db: Db, projectId: number) => (await db.rows<HealthRow>(healthScoresQuery(db.table, projectId))).map(fromRow);
export const listAllHealthScores = async (db: Db) => (await db.rows<HealthRow>(allHealthScoresQuery(db.table))).map(fromRow);
export async function getHealthScore(db: Db, projectId: number, id: string): Promise<HealthScore | undefined> {
  const [row] = await db.rows<HealthRow>(healthScoreQuery(db.table, projectId, id));
  return row ? fromRow(row) : undefined;
}
