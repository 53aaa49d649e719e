// Cohorts of users or groups: behavioral (computed on creation and refresh) and static (uploaded ids, or saved
// from the microscope); list, members (JSON or CSV), delete.
import { express, type Response } from '@groupscope/http';
import type { Router } from 'express';
import type { RequestHandler } from 'express';
import { sql, type ClickHouse, type Sql } from '@groupscope/clickhouse';
import type { Logger } from '@groupscope/logger';
import type { EventMatcher } from '../accounts/event-match';
import { ApiError, badParam, csvLine, enumParam, handler, intParam, isoOrNull, notFound, queryString } from '../accounts/http';
import { requireGroupType } from '../accounts/routes';
import { projectOf } from '../auth';
import { behavioralMembers } from './compute';
import { CohortDefinitionError, parseCohortDefinition } from './definition';
import {
  cohortMembers,
  deleteCohort,
  getCohort,
  listCohorts,
  newCohortId,
  replaceMembership,
  stageIds,
  stagedSet,
  unknownSample,
  type Cohort,
} from './store';
import { universe } from './universe';

export interface CohortRoutesDeps {
  ch: ClickHouse;
  logger: Logger;
  matchEvents: EventMatcher;
  now?: () => number;
}

export const MAX_UPLOAD_IDS = 1_000_000;
const MAX_ID_LENGTH = 1024;
const UNKNOWN_SAMPLE = 20;

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

/** Body parsers that answer a malformed body in the query API's error shape. */
function parser(p: RequestHandler): RequestHandler {
  return (req, res, next) =>
    p(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = err as { type?: string; status?: number; message?: string };
      if (e.type === 'entity.too.large') return res.status(413).json({ error: { code: 'payload_too_large', message: 'the body is too large', details: [{ param: 'body' }] } });
      res.status(400).json({ error: { code: 'invalid_body', message: `malformed body: ${e.message ?? 'unreadable'}`, details: [{ param: 'body' }] } });
    });
}
export const jsonBody = parser(express.json({ limit: '64mb' }));
const textBody = parser(express.text({ type: ['text/plain', 'text/csv'], limit: '64mb' }));

export async function requireCountGroup(ch: ClickHouse, projectId: number, countGroup: unknown, paramName = 'countGroup'): Promise<string> {
  if (countGroup === undefined || countGroup === null || countGroup === '' || countGroup === 'User') return 'User';
  if (typeof countGroup !== 'string') throw badParam(paramName, `${paramName} must be "User" or a group type`);
  await requireGroupType(ch, projectId, countGroup, paramName);
  return countGroup;
}

export function requireName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw badParam('name', 'name is required');
  if (name.length > 1024) throw badParam('name', 'name is longer than 1024 characters');
  return name.trim();
}

async function loadCohort(ch: ClickHouse, projectId: number, id: string): Promise<Cohort> {
  const c = await getCohort(ch, projectId, id);
  if (!c) throw notFound(`cohort ${id}`);
  return c;
}

/** Creates a static cohort whose members are the rows of `members` (a query yielding `member`). */
export async function saveStaticCohort(
  ch: ClickHouse,
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
  return replaceMembership(ch, log, draft, o.members, o.now);
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
  const { ch } = deps;
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
    const members = await behavioralMembers(deps, c.project_id, c.count_group, definition(c.definition), t);
    return replaceMembership(ch, log, c, members, t);
  }

  router.post(
    '/3/cohorts',
    jsonBody,
    handler(log, async (req, res) => {
      const project = projectOf(res);
      const body = (req.body ?? {}) as Record<string, unknown>;
      const name = requireName(body.name);
      const countGroup = await requireCountGroup(ch, project.id, body.countGroup);
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
    handler(log, async (req, res) => {
      const project = projectOf(res);
      let name: unknown;
      let countGroup: unknown;
      let raw: unknown[];
      if (typeof req.body === 'string') {
        name = queryString(req, 'name');
        countGroup = queryString(req, 'countGroup');
        raw = req.body.split(/\r?\n/);
      } else if (req.body && typeof req.body === 'object' && !Array.isArray(req.body)) {
        const b = req.body as Record<string, unknown>;
        name = b.name ?? queryString(req, 'name');
        countGroup = b.countGroup ?? queryString(req, 'countGroup');
        if (!Array.isArray(b.ids)) throw badParam('ids', 'ids must be an array of ids');
        raw = b.ids;
      } else {
        throw new ApiError(415, 'unsupported_media_type', 'send JSON {name, countGroup, ids} or text/plain with one id per line', [{ param: 'body' }]);
      }
      const cohortName = requireName(name);
      const group = await requireCountGroup(ch, project.id, countGroup);
      const ids = uploadIds(raw);
      const t = now();
      const id = newCohortId();
      // the ids go to ClickHouse first, then one query matches them against the known users or groups
      const stagedVersion = await stageIds(ch, project.id, id, ids);
      const staged = stagedSet(ch, project.id, id, stagedVersion);
      const known = universe(ch, project.id, group, staged);
      const unknown = await unknownSample(ch, staged, sql`SELECT member FROM (${known})`, UNKNOWN_SAMPLE);
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
      const c = await replaceMembership(ch, log, draft, known, t);
      log.info({ project_id: project.id, cohort_id: c.id, total: ids.length, matched: c.size }, 'cohort_uploaded');
      res.status(201).json({ ...cohortJson(c), matched: c.size, total: ids.length, unknown: ids.length - c.size, unknown_sample: unknown });
    }),
  );

  router.get(
    '/3/cohorts',
    handler(log, async (req, res) => {
      res.json({ cohorts: (await listCohorts(ch, projectOf(res).id)).map(cohortJson) });
    }),
  );

  router.get(
    '/3/cohorts/:id',
    handler(log, async (req, res) => {
      res.json({ cohort: cohortJson(await loadCohort(ch, projectOf(res).id, String(req.params.id))) });
    }),
  );

  router.post(
    '/3/cohorts/:id/refresh',
    handler(log, async (req, res) => {
      const c = await loadCohort(ch, projectOf(res).id, String(req.params.id));
      if (c.kind !== 'behavioral') throw badParam('id', 'a static cohort has fixed members and cannot be refreshed', 'not_refreshable');
      const next = await compute(c);
      log.info({ project_id: c.project_id, cohort_id: c.id, size: next.size }, 'cohort_refreshed');
      res.json(cohortJson(next));
    }),
  );

  router.get(
    '/3/cohorts/:id/members',
    handler(log, async (req, res) => {
      const c = await loadCohort(ch, projectOf(res).id, String(req.params.id));
      const format = enumParam(req, 'format', ['json', 'csv'] as const, 'json');
      if (format === 'csv') return sendMembersCsv(ch, res, c);
      const limit = intParam(req, 'limit', 1000, 1, 100_000);
      const offset = intParam(req, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
      const members = await cohortMembers(ch, c, limit, offset);
      res.json({ cohort: cohortJson(c), members: members.map((id) => ({ id })), limit, offset });
    }),
  );

  router.delete(
    '/3/cohorts/:id',
    handler(log, async (req, res) => {
      const c = await loadCohort(ch, projectOf(res).id, String(req.params.id));
      await deleteCohort(ch, log, c);
      log.info({ project_id: c.project_id, cohort_id: c.id }, 'cohort_deleted');
      res.json({ id: c.id, deleted: true });
    }),
  );
}

/** The whole membership as CSV, read in pages so a large cohort is never held in memory at once. */
async function sendMembersCsv(ch: ClickHouse, res: Response, c: Cohort): Promise<void> {
  res.status(200);
  res.setHeader('Content-Type', 'text/csv; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="cohort-${c.id}.csv"`);
  res.write(csvLine(['id']));
  const page = 100_000;
  for (let offset = 0; ; offset += page) {
    const members = await cohortMembers(ch, c, page, offset);
    if (members.length) res.write(members.map((m) => csvLine([m])).join(''));
    if (members.length < page) break;
  }
  res.end();
}

