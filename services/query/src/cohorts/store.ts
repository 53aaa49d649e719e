// Cohort storage: the `cohorts` table (newest version of each cohort wins) and `cohort_members` (members per
// membership version). A new membership is written under a fresh version and becomes current only when the
// cohort row pointing at it is written, so a refresh replaces membership atomically for every reader. The
// functions here build statements; replaceMembership runs the sequence.
import { randomBytes } from 'node:crypto';
import { sql, param, trusted, type Sql } from '@groupscope/clickhouse';
import type { Logger } from '@groupscope/logger';
import { chDateTime } from '../domain/time';
import type { Db, Insert, TableRef } from '../sql/executor';
import { latestVersions, nextVersion } from '../sql/version';

export type CohortKind = 'behavioral' | 'static';

export interface Cohort {
  project_id: number;
  id: string;
  name: string;
  /** 'User' or a group type */
  count_group: string;
  kind: CohortKind;
  definition: unknown;
  size: number;
  members_version: number;
  created_at: number;
  computed_at: number;
}

export const isUserCohort = (c: Pick<Cohort, 'count_group'>) => c.count_group === 'User';

export const newCohortId = () => randomBytes(6).toString('hex');

export interface CohortRow {
  id: string;
  name: string;
  count_group: string;
  kind: string;
  definition: string;
  size: number;
  members_version: number;
  created_at: number;
  computed_at: number;
}

export const fromRow = (projectId: number, r: CohortRow): Cohort => ({
  project_id: projectId,
  id: r.id,
  name: r.name,
  count_group: r.count_group,
  kind: r.kind as CohortKind,
  definition: JSON.parse(r.definition || 'null') as unknown,
  size: Number(r.size),
  members_version: Number(r.members_version),
  created_at: Number(r.created_at),
  computed_at: Number(r.computed_at),
});

function cohortsQuery(t: TableRef, projectId: number, idCond: Sql): Sql {
  return latestVersions(t, 'cohorts', {
    key: ['id'],
    columns: ['name', 'count_group', 'kind', 'definition', 'size', 'members_version', { millis: 'created_at' }, { millis: 'computed_at' }],
    where: sql`project_id = ${param(projectId, 'UInt32')} AND ${idCond}`,
  });
}

/** One cohort (rows: CohortRow). */
export const cohortQuery = (t: TableRef, projectId: number, id: string): Sql => cohortsQuery(t, projectId, sql`id = ${param(id, 'String')}`);

/** Every cohort of the project, oldest first (rows: CohortRow). */
export const cohortListQuery = (t: TableRef, projectId: number): Sql => sql`SELECT * FROM (${cohortsQuery(t, projectId, sql`1`)}) ORDER BY created_at, id`;

/** The cohorts of `countGroup` whose current membership holds `member` (a user key or a group value), oldest first (rows: CohortRow). */
export function memberOfQuery(t: TableRef, projectId: number, countGroup: string, member: string): Sql {
  return sql`SELECT * FROM (${cohortsQuery(t, projectId, sql`1`)})
    WHERE count_group = ${param(countGroup, 'String')} AND (id, members_version) IN (
      SELECT cohort_id, version FROM ${membersTable(t)} WHERE project_id = ${param(projectId, 'UInt32')} AND member = ${param(member, 'String')})
    ORDER BY created_at, id`;
}

export async function getCohort(db: Db, projectId: number, id: string): Promise<Cohort | undefined> {
  const [row] = await db.rows<CohortRow>(cohortQuery(db.table, projectId, id));
  return row ? fromRow(projectId, row) : undefined;
}

/** The row that makes `c` the current state of the cohort (or deletes it). */
export function cohortRow(c: Cohort, deleted = false, version = nextVersion()): Insert {
  return {
    table: 'cohorts',
    rows: [
      {
        project_id: c.project_id,
        id: c.id,
        name: c.name,
        count_group: c.count_group,
        kind: c.kind,
        definition: JSON.stringify(c.definition ?? null),
        size: c.size,
        members_version: c.members_version,
        created_at: chDateTime(c.created_at),
        computed_at: chDateTime(c.computed_at),
        deleted: deleted ? 1 : 0,
        version,
      },
    ],
  };
}

const membersTable = (t: TableRef) => trusted(t('cohort_members'));

/** Members of one membership version, as a subquery yielding `member` (for IN clauses). */
export function memberSet(t: TableRef, c: Pick<Cohort, 'project_id' | 'id' | 'members_version'>): Sql {
  return sql`(SELECT member FROM ${membersTable(t)} WHERE project_id = ${param(c.project_id, 'UInt32')}
    AND cohort_id = ${param(c.id, 'String')} AND version = ${param(c.members_version, 'UInt64')})`;
}

/** Writes the rows of `members` (a query yielding `member`) as membership `version` of the cohort. */
export function membershipInsert(t: TableRef, c: Pick<Cohort, 'project_id' | 'id'>, version: number, members: Sql): Sql {
  return sql`INSERT INTO ${membersTable(t)} (project_id, cohort_id, version, member)
    SELECT ${param(c.project_id, 'UInt32')}, ${param(c.id, 'String')}, ${param(version, 'UInt64')}, member
    FROM (${members}) GROUP BY member`;
}

/** The size of one membership version (rows: {n}). */
export function membershipSizeQuery(t: TableRef, projectId: number, id: string, version: number): Sql {
  return sql`SELECT count() AS n FROM ${membersTable(t)} WHERE project_id = ${param(projectId, 'UInt32')}
    AND cohort_id = ${param(id, 'String')} AND version = ${param(version, 'UInt64')}`;
}

/** Deletes membership versions other than `keep` (all of them when keep is undefined). */
export function pruneStatement(t: TableRef, projectId: number, id: string, keep?: number): Sql {
  const cond = keep === undefined ? sql`` : sql`AND version != ${param(keep, 'UInt64')}`;
  return sql`DELETE FROM ${membersTable(t)} WHERE project_id = ${param(projectId, 'UInt32')} AND cohort_id = ${param(id, 'String')} ${cond}`;
}

/**
 * Readers only ever read the version the cohort row names, so a leftover version costs disk, never correctness: the
 * DELETE is scheduled, not waited for (a lightweight DELETE waits for its mutation by default, seconds that a
 * refresh or a delete request would spend doing nothing).
 */
async function prune(db: Db, log: Logger, projectId: number, id: string, keep?: number): Promise<void> {
  await db.exec(pruneStatement(db.table, projectId, id, keep), { lightweight_deletes_sync: 0 }).catch((err: unknown) => log.warn({ err, cohort_id: id }, 'cohort_prune_failed'));
}

/**
 * Makes the rows of `members` (a query yielding distinct `member` text) the cohort's new membership: insert under a
 * new version, then write the cohort row naming that version (the switch), then prune older versions.
 */
export async function replaceMembership(db: Db, log: Logger, c: Cohort, members: Sql, now = Date.now()): Promise<Cohort> {
  const version = nextVersion(now);
  await db.exec(membershipInsert(db.table, c, version, members));
  const [counted] = await db.rows<{ n: number }>(membershipSizeQuery(db.table, c.project_id, c.id, version));
  const next: Cohort = { ...c, size: Number(counted?.n ?? 0), members_version: version, computed_at: now };
  await db.insert(cohortRow(next));
  await prune(db, log, c.project_id, c.id, version);
  return next;
}

export async function deleteCohort(db: Db, log: Logger, c: Cohort): Promise<void> {
  await db.insert(cohortRow(c, true));
  await prune(db, log, c.project_id, c.id);
}

export const UPLOAD_CHUNK = 100_000;

/** Uploaded ids under a staging version, in inserts of UPLOAD_CHUNK, so matching them is one query whatever their number. */
export function stagedIds(projectId: number, id: string, version: number, ids: readonly string[]): Insert[] {
  const out: Insert[] = [];
  for (let i = 0; i < ids.length; i += UPLOAD_CHUNK) {
    out.push({ table: 'cohort_members', rows: ids.slice(i, i + UPLOAD_CHUNK).map((member) => ({ project_id: projectId, cohort_id: id, version, member })) });
  }
  return out;
}

/** Staged ids outside `universe` (a query yielding ids): a sample of the unknown ones, for the upload reply (rows: {member}). */
export function unknownSampleQuery(staged: Sql, universe: Sql, limit: number): Sql {
  return sql`SELECT member FROM ${staged} WHERE member NOT IN (${universe}) ORDER BY member LIMIT ${param(limit, 'UInt32')}`;
}

/** A page of the members of the cohort's current membership (rows: {member}). */
export function membersQuery(t: TableRef, c: Cohort, limit: number, offset: number): Sql {
  return sql`SELECT member FROM ${membersTable(t)} WHERE project_id = ${param(c.project_id, 'UInt32')}
    AND cohort_id = ${param(c.id, 'String')} AND version = ${param(c.members_version, 'UInt64')}
    ORDER BY member LIMIT ${param(limit, 'UInt64')} OFFSET ${param(offset, 'UInt64')}`;
}
