// The microscope: who is behind one data point of a chart. GET /api/2/microscope lists the units (JSON, or CSV with
// format=csv); POST /api/3/cohorts/from-microscope saves the same point as a static cohort. Which units a point holds
// is the charts' to say and saving a cohort is the cohorts' to do: both are handed in at composition.
import { sql, param, type Sql } from '@groupscope/clickhouse';
import type { Router } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import type { Project } from '@groupscope/projects';
import { projectOf } from '../http/auth';
import { handle } from '../http/handler';
import { enumParam, intParam, jsonBody, offsetParam, single, type Query } from '../http/params';
import { isoOrNull, writeCsv } from '../http/reply';
import type { Db } from '../sql/executor';

/** The units behind a point: `members` yields (id, first_ms), one row per unit. */
export interface PointUnits {
  chart: string;
  /** 'User' or the group type counted */
  countGroup: string;
  members: Sql;
  /** the point, for the reply and for a cohort saved from it */
  point: Record<string, unknown>;
}

export interface MicroscopeDeps {
  db: Db;
  logger: Logger;
  /** parses the chart parameters plus the point (charts/units.ts) */
  selectUnits(project: Project, query: Query): Promise<PointUnits>;
  /** saving a static cohort (the cohorts feature) */
  cohorts: {
    checkName(raw: unknown): string;
    save(projectId: number, o: { name: string; countGroup: string; definition: unknown; members: Sql }): Promise<{ id: string; size: number }>;
  };
}

const CSV_MAX = 1_000_000;
/** deepest JSON page: further pages cost a sort of everything before them */
const MAX_OFFSET = 1_000_000;

/** The chart parameters of a request: the query string (what the chart would get), minus the microscope's own. */
function chartQuery(q: Query): Query {
  const { format: _f, limit: _l, offset: _o, name: _n, ...rest } = q;
  return rest;
}

/** A page of the units, first to arrive first, with the total (rows: id, first_ms, total). */
export function unitsPageQuery(units: PointUnits, limit: number, offset: number): Sql {
  return sql`SELECT id, first_ms, count() OVER () AS total FROM (${units.members})
    ORDER BY first_ms, id LIMIT ${param(limit, 'UInt64')} OFFSET ${param(offset, 'UInt64')}`;
}

/** The units in CSV order, without the total (rows: id, first_ms). */
function unitsCsvQuery(units: PointUnits, limit: number, offset: number): Sql {
  return sql`SELECT id, first_ms FROM (${units.members})
    ORDER BY first_ms, id LIMIT ${param(limit, 'UInt64')} OFFSET ${param(offset, 'UInt64')}`;
}

export function microscopeFeature(deps: MicroscopeDeps): { register(router: Router): void } {
  const { db } = deps;
  const log = deps.logger.child({ module: 'microscope' });

  return {
    register(router) {
      router.get(
        '/2/microscope',
        handle(log, 'microscope', async (req, res) => {
          const format = enumParam(req.query, 'format', ['json', 'csv'] as const, 'json');
          const limit = format === 'csv' ? intParam(req.query, 'limit', CSV_MAX, 1, CSV_MAX) : intParam(req.query, 'limit', 1000, 1, 100_000);
          const offset = offsetParam(req.query, MAX_OFFSET, 'list the rest as CSV (format=csv)');
          const units = await deps.selectUnits(projectOf(res), chartQuery(req.query as Query));
          if (format === 'csv') {
            // streamed as ClickHouse sends it: a million units are never held at once
            return writeCsv(res, {
              filename: `microscope-${units.chart}.csv`,
              header: ['id', 'first_time'],
              rows: db.stream<{ id: string; first_ms: number }>(unitsCsvQuery(units, limit, offset)),
              line: (r) => [r.id, isoOrNull(Number(r.first_ms))],
            });
          }
          const rows = await db.rows<{ id: string; first_ms: number; total: number }>(unitsPageQuery(units, limit, offset));
          const members = rows.map((r) => ({ id: r.id, first_time: isoOrNull(Number(r.first_ms)) }));
          return { members, countGroup: units.countGroup, chart: units.chart, point: units.point, total: Number(rows[0]?.total ?? 0), limit, offset };
        }),
      );

      router.post(
        '/3/cohorts/from-microscope',
        jsonBody,
        handle(log, 'cohort_from_microscope', async (req, res) => {
          const project = projectOf(res);
          const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
          const name = deps.cohorts.checkName(body.name ?? single('name', req.query.name));
          const query = chartQuery(req.query as Query);
          const units = await deps.selectUnits(project, query);
          const cohort = await deps.cohorts.save(project.id, {
            name,
            countGroup: units.countGroup,
            definition: { source: 'microscope', chart: units.chart, point: units.point, params: query },
            members: sql`SELECT id AS member FROM (${units.members})`,
          });
          log.info({ project_id: project.id, cohort_id: cohort.id, chart: units.chart, size: cohort.size }, 'cohort_from_microscope');
          res.status(201);
          return cohort;
        }),
      );
    },
  };
}
