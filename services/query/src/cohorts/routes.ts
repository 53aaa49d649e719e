// The cohort routes: create (behavioral), upload (static), list, one, refresh, members (JSON or CSV), delete; and
// saving a static cohort, which the microscope is handed through index.ts.
import { sql, type Sql } from '@groupscope/clickhouse';
import type { Response, Router } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import type { Catalog } from '../domain/catalog';
import { projectOf } from '../http/auth';
import { ApiError, badParam, notFound } from '../http/errors';
import { handle } from '../http/handler';
import { enumParam, intParam, jsonBody, offsetParam, single, textBody } from '../http/params';
import { isoOrNull, writeCsv } from '../http/reply';
import type { EventMatcher, PropertyConditionBuilder } from '../sql/event-match';
import type { Db } from '../sql/executor';
import { nextVersion } from '../sql/version';
import { behavioralMembers } from './compute';
import { CohortDefinitionError, parseCohortDefinition } from './definition';
import {
  cohortListQuery, deleteCohort, fromRow, getCohort, memberOfQuery, membersQuery, memberSet, newCohortId, replaceMembership, stagedIds, unknownSampleQuery,
  type Cohort, type CohortRow,
} from './store';
import { universe } from './universe';

export interface CohortRoutesDeps {
  db: Db;
  catalog: Catalog;
  logger: Logger;
  /** the charts' event definitions (charts/event-match.ts) */
  matchEvents: EventMatcher;
  /** the charts' property conditions (group property conditions on current properties) */
  propertyCondition: PropertyConditionBuilder;
  now?: () => number;
}

export const MAX_UPLOAD_IDS = 1_000_000;
const MAX_ID_LENGTH = 1024;
const UNKNOWN_SAMPLE = 20;
/** deepest JSON page of members (ORDER BY member): beyond it, the CSV download streams them all */
const MAX_MEMBERS_OFFSET = 1_000_000;

export const cohortJson = (c: Cohort) => ({
  id: c.id,
  name: c.name,
  countGroup: c.count_group,
  kind: c.kind,
  size: c.size,
  definition: c.definition,
  created_at: isoOrNull(c.created_at),
  computed_at: isoOrNull(c.computed_at),
});

export async function requireCountGroup(catalog: Catalog, projectId: number, countGroup: unknown, paramName = 'countGroup'): Promise<string> {
  if (countGroup === undefined || countGroup === null || countGroup === '' || countGroup === 'User') return 'User';
  if (typeof countGroup !== 'string') throw badParam(paramName, `${paramName} must be "User" or a group type`);
  await catalog.requireGroupType(projectId, countGroup, paramName);
  return countGroup;
}

export function requireName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw badParam('name', 'name is required');
  if (name.length > 1024) throw badParam('name', 'name is longer than 1024 characters');
  return name.trim();
}

async function loadCohort(db: Db, projectId: number, id: string): Promise<Cohort> {
  const c = await getCohort(db, projectId, id);
  if (!c) throw notFound(`cohort ${id}`);
  return c;
}

/** Creates a static cohort whose members are the rows of `members` (a query yielding `member`). */
export async function saveStaticCohort(
  db: Db,
  log: Logger,
  projectId: number,
  o: { name: string; countGroup: string; definition: unknown; members: Sql; now: number },
): Promise<Cohort> {
  const draft: Cohort = {
    project_id: projectId,
    id: newCohortId(),
    name: o.name,
    count_group: o.countGroup,
    kind: 'static',
    definition: o.definition,
    size: 0,
    members_version: 0,
    created_at: o.now,
    computed_at: o.now,
  };
  return replaceMembership(db, log, draft, o.members, o.now);
}

/** Ids of an upload: strings (numbers accepted), trimmed, blanks dropped, duplicates folded, order kept. */
export function uploadIds(raw: unknown[]): string[] {
  const out = new Set<string>();
  raw.forEach((v, i) => {
    if (typeof v !== 'string' && typeof v !== 'number') throw badParam(`ids[${i}]`, 'ids must be strings');
    const s = String(v).trim();
    if (s === '') return;
    if (s.length > MAX_ID_LENGTH) throw badParam(`ids[${i}]`, `an id is longer than ${MAX_ID_LENGTH} characters`);
    out.add(s);
  });
  if (out.size > MAX_UPLOAD_IDS) throw badParam('ids', `at most ${MAX_UPLOAD_IDS} ids per upload`);
  return [...out];
}

export function registerCohortRoutes(router: Router, deps: CohortRoutesDeps): void {
  const { db, catalog } = deps;
  const log = deps.logger.child({ module: 'cohorts' });
  const now = deps.now ?? Date.now;

  const definition = (raw: unknown) => {
    try {
      return parseCohortDefinition(raw);
    } catch (err) {
      if (err instanceof CohortDefinitionError) throw badParam(err.param, err.message, 'invalid_definition');
      throw err;
    }
  };

  async function compute(c: Cohort): Promise<Cohort> {
    const t = now();
    const members = await behavioralMembers(
      { table: db.table, matchEvents: deps.matchEvents, propertyCondition: deps.propertyCondition, catalog },
      c.project_id,
      c.count_group,
      definition(c.definition),
      t,
    );
    return replaceMembership(db, log, c, members, t);
  }

  router.post(
    '/3/cohorts',
    jsonBody,
    handle(log, 'cohorts_create', async (req, res) => {
      const project = projectOf(res);
      const body = (req.body ?? {}) as Record<string, unknown>;
      const name = requireName(body.name);
      const countGroup = await requireCountGroup(catalog, project.id, body.countGroup);
      const conditions = definition(body.definition);
      const t = now();
      const draft: Cohort = {
        project_id: project.id,
        id: newCohortId(),
        name,
        count_group: countGroup,
        kind: 'behavioral',
        definition: conditions,
        size: 0,
        members_version: 0,
        created_at: t,
        computed_at: t,
      };
      const c = await compute(draft);
      log.info({ project_id: project.id, cohort_id: c.id, size: c.size, count_group: countGroup }, 'cohort_created');
      res.status(201).json({ ...cohortJson(c) });
    }),
  );

  router.post(
    '/3/cohorts/upload',
    jsonBody,
    textBody,
    handle(log, 'cohorts_upload', async (req, res) => {
      const project = projectOf(res);
      let name: unknown;
      let countGroup: unknown;
      let raw: unknown[];
      if (typeof req.body === 'string') {
        name = single('name', req.query.name);
        countGroup = single('countGroup', req.query.countGroup);
        raw = req.body.split(/\r?\n/);
      } else if (req.body && typeof req.body === 'object' && !Array.isArray(req.body)) {
        const b = req.body as Record<string, unknown>;
        name = b.name ?? single('name', req.query.name);
        countGroup = b.countGroup ?? single('countGroup', req.query.countGroup);
        if (!Array.isArray(b.ids)) throw badParam('ids', 'ids must be an array of ids');
        raw = b.ids;
      } else {
        throw new ApiError(415, 'unsupported_media_type', 'send JSON {name, countGroup, ids} or text/plain with one id per line', [{ param: 'body' }]);
      }
      const cohortName = requireName(name);
      const group = await requireCountGroup(catalog, project.id, countGroup);
      const ids = uploadIds(raw);
      const t = now();
      const id = newCohortId();
      // the ids go to ClickHouse first, then one query matches them against the known users or groups
      const stagedVersion = nextVersion();
      for (const chunk of stagedIds(project.id, id, stagedVersion, ids)) await db.insert(chunk);
      const staged = memberSet(db.table, { project_id: project.id, id, members_version: stagedVersion });
      const known = universe(db.table, project.id, group, staged);
      const unknown = (await db.rows<{ member: string }>(unknownSampleQuery(staged, sql`SELECT member FROM (${known})`, UNKNOWN_SAMPLE))).map((r) => r.member);
      const draft: Cohort = {
        project_id: project.id,
        id,
        name: cohortName,
        count_group: group,
        kind: 'static',
        definition: { source: 'upload', total: ids.length },
        size: 0,
        members_version: 0,
        created_at: t,
        computed_at: t,
      };
      const c = await replaceMembership(db, log, draft, known, t);
      log.info({ project_id: project.id, cohort_id: c.id, total: ids.length, matched: c.size }, 'cohort_uploaded');
      res.status(201).json({ ...cohortJson(c), matched: c.size, total: ids.length, unknown: ids.length - c.size, unknown_sample: unknown });
    }),
  );

  router.get(
    '/3/cohorts',
    handle(log, 'cohorts', async (req, res) => {
      const project = projectOf(res);
      // ?member=<id>&countGroup=<unit>: only the cohorts that hold this user or group (an account page's cohorts)
      const member = single('member', req.query.member);
      if (member !== undefined && member !== '') {
        const countGroup = await requireCountGroup(catalog, project.id, single('countGroup', req.query.countGroup));
        return { cohorts: (await db.rows<CohortRow>(memberOfQuery(db.table, project.id, countGroup, member))).map((r) => cohortJson(fromRow(project.id, r))) };
      }
      return { cohorts: (await db.rows<CohortRow>(cohortListQuery(db.table, project.id))).map((r) => cohortJson(fromRow(project.id, r))) };
    }),
  );

  router.get(
    '/3/cohorts/:id',
    handle(log, 'cohort', async (req, res) => {
      return { cohort: cohortJson(await loadCohort(db, projectOf(res).id, String(req.params.id))) };
    }),
  );

  router.post(
    '/3/cohorts/:id/refresh',
    handle(log, 'cohort_refresh', async (req, res) => {
      const c = await loadCohort(db, projectOf(res).id, String(req.params.id));
      if (c.kind !== 'behavioral') throw badParam('id', 'a static cohort has fixed members and cannot be refreshed', 'not_refreshable');
      const next = await compute(c);
      log.info({ project_id: c.project_id, cohort_id: c.id, size: next.size }, 'cohort_refreshed');
      return cohortJson(next);
    }),
  );

  router.get(
    '/3/cohorts/:id/members',
    handle(log, 'cohort_members', async (req, res) => {
      const c = await loadCohort(db, projectOf(res).id, String(req.params.id));
      const format = enumParam(req.query, 'format', ['json', 'csv'] as const, 'json');
      if (format === 'csv') return sendMembersCsv(db, res, c);
      const limit = intParam(req.query, 'limit', 1000, 1, 100_000);
      const offset = offsetParam(req.query, MAX_MEMBERS_OFFSET, 'download every member as CSV (format=csv)');
      const members = await cohortMembers(db, c, limit, offset);
      return { cohort: cohortJson(c), members: members.map((id) => ({ id })), limit, offset };
    }),
  );

  router.delete(
    '/3/cohorts/:id',
    handle(log, 'cohort_delete', async (req, res) => {
      const c = await loadCohort(db, projectOf(res).id, String(req.params.id));
      await deleteCohort(db, log, c);
      log.info({ project_id: c.project_id, cohort_id: c.id }, 'cohort_deleted');
      return { id: c.id, deleted: true };
    }),
  );
}

const cohortMembers = async (db: Db, c: Cohort, limit: number, offset: number) =>
  (await db.rows<{ member: string }>(membersQuery(db.table, c, limit, offset))).map((r) => r.member);

/** The whole membership as CSV, one query streamed as it is read: a large cohort is never held in memory at once. */
function sendMembersCsv(db: Db, res: Response, c: Cohort): Promise<void> {
  return writeCsv(res, {
    filename: `cohort-${c.id}.csv`,
    header: ['id'],
    rows: db.stream<{ member: string }>(membersQuery(db.table, c, Number.MAX_SAFE_INTEGER, 0)),
    line: (r) => [r.member],
  });
}

