// GET /api/2/microscope (JSON, or CSV with format=csv) and POST /api/3/cohorts/from-microscope (the same point
// saved as a static cohort).
import type { Router } from 'express';
import { sql, param, queryRows, type ClickHouse } from '@groupscope/clickhouse';
import type { Logger } from '@groupscope/logger';
import type { ApiContext } from '../app';
import type { Query } from '../charts/common';
import type { EventMatcher } from '../accounts/event-match';
import { csvLine, enumParam, handler, intParam, isoOrNull, queryString } from '../accounts/http';
import { cohortJson, jsonBody, requireName, saveStaticCohort } from '../cohorts/routes';
import { selectMembers } from './members';

export interface MicroscopeRoutesDeps {
  ch: ClickHouse;
  logger: Logger;
  matchEvents: EventMatcher;
  api: ApiContext;
  now?: () => number;
}

const CSV_MAX = 1_000_000;

/** The chart parameters of a request: the query string (what the chart would get), minus the microscope's own. */
function chartQuery(q: Query): Query {
  const { format: _f, limit: _l, offset: _o, name: _n, ...rest } = q;
  return rest;
}

export function registerMicroscopeRoutes(router: Router, deps: MicroscopeRoutesDeps): void {
  const { ch, api } = deps;
  const log = deps.logger.child({ module: 'microscope' });
  const now = deps.now ?? Date.now;

  router.get(
    '/2/microscope',
    handler(log, async (req, res) => {
      const env = api.env(res);
      const format = enumParam(req, 'format', ['json', 'csv'] as const, 'json');
      const limit = format === 'csv' ? intParam(req, 'limit', CSV_MAX, 1, CSV_MAX) : intParam(req, 'limit', 1000, 1, 100_000);
      const offset = intParam(req, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
      const sel = await selectMembers(env, chartQuery(req.query as Query));
      const rows = await queryRows<{ id: string; first_ms: number; total: number }>(
        ch,
        sql`SELECT id, first_ms, count() OVER () AS total FROM (${sel.members})
            ORDER BY first_ms, id LIMIT ${param(limit, 'UInt64')} OFFSET ${param(offset, 'UInt64')}`,
        env.settings,
      );
      const members = rows.map((r) => ({ id: r.id, first_time: isoOrNull(Number(r.first_ms)) }));
      if (format === 'csv') {
        res.setHeader('Content-Type', 'text/csv; charset=utf-8');
        res.setHeader('Content-Disposition', `attachment; filename="microscope-${sel.chart}.csv"`);
        res.send(csvLine(['id', 'first_time']) + members.map((m) => csvLine([m.id, m.first_time])).join(''));
        return;
      }
      res.json({ members, countGroup: sel.countGroup, chart: sel.chart, point: sel.point, total: Number(rows[0]?.total ?? 0), limit, offset });
    }),
  );

  router.post(
    '/3/cohorts/from-microscope',
    jsonBody,
    handler(log, async (req, res) => {
      const env = api.env(res);
      const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
      const name = requireName(body.name ?? queryString(req, 'name'));
      const query = chartQuery(req.query as Query);
      const sel = await selectMembers(env, query);
      const c = await saveStaticCohort(ch, log, env.project.id, {
        name,
        countGroup: sel.countGroup,
        definition: { source: 'microscope', chart: sel.chart, point: sel.point, params: query },
        members: sql`SELECT id AS member FROM (${sel.members})`,
        now: now(),
      });
      log.info({ project_id: env.project.id, cohort_id: c.id, chart: sel.chart, size: c.size }, 'cohort_from_microscope');
      res.status(201).json(cohortJson(c));
    }),
  );
}
