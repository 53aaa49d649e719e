// Cohort storage: the `cohorts` table (newest version of each cohort wins) and `cohort_members` (members per
// membership version). A new membership is written under a fresh version and becomes current only when the
// cohort row pointing at it is written, so a refresh replaces membership atomically for every reader.
import { randomBytes } from 'node:crypto';
import { sql, param, trusted, queryRows, exec, insertRows, type ClickHouse, type Sql } from '@groupscope/clickhouse';
import type { Logger } from '@groupscope/logger';

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

let lastVersion = 0;
/** Versions grow with the clock (microseconds) and never repeat within a process; the random low digits keep
 * two replicas from colliding. Stays below 2^53. */
export function nextVersion(now = Date.now()): number {
  const v = Math.max(now * 1000 + Math.floor(Math.random() * 1000), lastVersion + 1);
  lastVersion = v;
  return v;
}

export const newCohortId = () => randomBytes(6).toString('hex');

/** ms -> the text ClickHouse reads as DateTime64(3, 'UTC') */
export const chTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

interface CohortRow {
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

const fromRow = (projectId: number, r: CohortRow): Cohort => ({
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

function cohortsQuery(ch: ClickHouse, projectId: number, idCond: Sql): Sql {
  // argMax over versions instead of FINAL: the same answer, and it reads only the key range asked for
  return sql`SELECT id, argMax(name, version) AS name, argMax(count_group, version) AS count_group, argMax(kind, version) AS kind,
      argMax(definition, version) AS definition, argMax(size, version) AS size, argMax(members_version, version) AS members_version,
      toUnixTimestamp64Milli(argMax(created_at, version)) AS created_at, toUnixTimestamp64Milli(argMax(computed_at, version)) AS computed_at,
      argMax(deleted, version) AS is_deleted
    FROM ${trusted(ch.table('cohorts'))}
    WHERE project_id = ${param(projectId, 'UInt32')} AND ${idCond}
    GROUP BY id HAVING is_deleted = 0`;
}

export async function getCohort(ch: ClickHouse, projectId: number, id: string): Promise<Cohort | undefined> {
  const rows = await queryRows<CohortRow>(ch, cohortsQuery(ch, projectId, sql`id = ${param(id, 'String')}`));
  return rows[0] ? fromRow(projectId, rows[0]) : undefined;
}

export async function listCohorts(ch: ClickHouse, projectId: number): Promise<Cohort[]> {
  const rows = await queryRows<CohortRow>(ch, sql`SELECT * FROM (${cohortsQuery(ch, projectId, sql`1`)}) ORDER BY created_at, id`);
  return rows.map((r) => fromRow(projectId, r));
}

async function writeCohortRow(ch: ClickHouse, c: Cohort, deleted = false): Promise<void> {
  await insertRows(ch, 'cohorts', [
    {
      project_id: c.project_id,
      id: c.id,
      name: c.name,
      count_group: c.count_group,
      kind: c.kind,
      definition: JSON.stringify(c.definition ?? null),
      size: c.size,
      members_version: c.members_version,
      created_at: chTime(c.created_at),
      computed_at: chTime(c.computed_at),
      deleted: deleted ? 1 : 0,
      version: nextVersion(),
    },
  ]);
}

const membersTable = (ch: ClickHouse) => trusted(ch.table('cohort_members'));

/** Members of one membership version, as a subquery yielding `member` (for IN clauses). */
export function memberSet(ch: ClickHouse, c: Pick<Cohort, 'project_id' | 'id' | 'members_version'>): Sql {
  return sql`(SELECT member FROM ${membersTable(ch)} WHERE project_id = ${param(c.project_id, 'UInt32')}
    AND cohort_id = ${param(c.id, 'String')} AND version = ${param(c.members_version, 'UInt64')})`;
}

async function countVersion(ch: ClickHouse, projectId: number, id: string, version: number): Promise<number> {
  const rows = await queryRows<{ n: number }>(
    ch,
    sql`SELECT count() AS n FROM ${membersTable(ch)} WHERE project_id = ${param(projectId, 'UInt32')}
        AND cohort_id = ${param(id, 'String')} AND version = ${param(version, 'UInt64')}`,
  );
  return Number(rows[0]?.n ?? 0);
}

/** Removes membership versions other than `keep` (all of them when keep is undefined). Best effort: readers only
 * ever read the version the cohort row names, so a leftover costs disk, never correctness. */
export async function pruneMembers(ch: ClickHouse, log: Logger, projectId: number, id: string, keep?: number): Promise<void> {
  const cond = keep === undefined ? sql`` : sql`AND version != ${param(keep, 'UInt64')}`;
  await exec(ch, sql`DELETE FROM ${membersTable(ch)} WHERE project_id = ${param(projectId, 'UInt32')} AND cohort_id = ${param(id, 'String')} ${cond}`).catch(
    (err: unknown) => log.warn({ err, cohort_id: id }, 'cohort_prune_failed'),
  );
}

/**
 * Makes the rows of `members` (a query yielding distinct `member` text) the cohort's new membership: insert under a
 * new version, then write the cohort row naming that version (the switch), then prune older versions.
 */
export async function replaceMembership(ch: ClickHouse, log: Logger, c: Cohort, members: Sql, now = Date.now()): Promise<Cohort> {
  const version = nextVersion(now);
  await exec(
    ch,
    sql`INSERT INTO ${membersTable(ch)} (project_id, cohort_id, version, member)
        SELECT ${param(c.project_id, 'UInt32')}, ${param(c.id, 'String')}, ${param(version, 'UInt64')}, member
        FROM (${members}) GROUP BY member`,
  );
  const size = await countVersion(ch, c.project_id, c.id, version);
  const next: Cohort = { ...c, size, members_version: version, computed_at: now };
  await writeCohortRow(ch, next);
  await pruneMembers(ch, log, c.project_id, c.id, version);
  return next;
}

/** Stores uploaded ids under a staging version, so matching them is one query whatever their number. */
export async function stageIds(ch: ClickHouse, projectId: number, id: string, ids: readonly string[]): Promise<number> {
  const version = nextVersion();
  for (let i = 0; i < ids.length; i += 100_000) {
    await insertRows(
      ch,
      'cohort_members',
      ids.slice(i, i + 100_000).map((member) => ({ project_id: projectId, cohort_id: id, version, member })),
    );
  }
  return version;
}

export function stagedSet(ch: ClickHouse, projectId: number, id: string, version: number): Sql {
  return memberSet(ch, { project_id: projectId, id, members_version: version });
}

/** Staged ids outside `universe` (a query yielding ids): a sample of the unknown ones, for the upload reply. */
export async function unknownSample(ch: ClickHouse, staged: Sql, universe: Sql, limit: number): Promise<string[]> {
  const rows = await queryRows<{ member: string }>(
    ch,
    sql`SELECT member FROM ${staged} WHERE member NOT IN (${universe}) ORDER BY member LIMIT ${param(limit, 'UInt32')}`,
  );
  return rows.map((r) => r.member);
}

export async function createCohortRow(ch: ClickHouse, c: Cohort): Promise<void> {
  await writeCohortRow(ch, c);
}

export async function deleteCohort(ch: ClickHouse, log: Logger, c: Cohort): Promise<void> {
  await writeCohortRow(ch, c, true);
  await pruneMembers(ch, log, c.project_id, c.id);
}

export async function cohortMembers(ch: ClickHouse, c: Cohort, limit: number, offset: number): Promise<string[]> {
  const rows = await queryRows<{ member: string }>(
    ch,
    sql`SELECT member FROM ${membersTable(ch)} WHERE project_id = ${param(c.project_id, 'UInt32')}
        AND cohort_id = ${param(c.id, 'String')} AND version = ${param(c.members_version, 'UInt64')}
        ORDER BY member LIMIT ${param(limit, 'UInt64')} OFFSET ${param(offset, 'UInt64')}`,
  );
  return rows.map((r) => r.member);
}
