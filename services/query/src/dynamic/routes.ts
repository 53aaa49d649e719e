// Dynamic group properties: create, list, delete, run now.
import type { Router } from 'express';
import type { ClickHouse } from '@groupscope/clickhouse';
import type { Logger } from '@groupscope/logger';
import type { EventMatcher } from '../accounts/event-match';
import { ApiError, badParam, handler, isoOrNull, notFound } from '../accounts/http';
import { requireGroupType } from '../accounts/routes';
import { projectOf } from '../auth';
import { jsonBody } from '../cohorts/routes';
import { DefinitionError, parseDynamicDefinition } from './definition';
import { KafkaUnavailableError } from './publisher';
import type { DynamicRunner } from './runner';
import { getDynamic, listDynamic, newDynamicId, saveDynamic, type DynamicProperty } from './store';

export interface DynamicRoutesDeps {
  ch: ClickHouse;
  logger: Logger;
  matchEvents: EventMatcher;
  /** absent when the service has no Kafka: definitions can be managed, runs answer 503 */
  runner?: DynamicRunner;
  now?: () => number;
}

const propertyJson = (p: DynamicProperty) => ({
  id: p.id,
  group_type: p.group_type,
  name: p.name,
  metric: p.definition.metric,
  window: p.definition.window,
  created_at: isoOrNull(p.created_at),
  last_run_at: isoOrNull(p.last_run_at),
  last_window: p.last_window_start === null ? null : { start: isoOrNull(p.last_window_start), end: isoOrNull(p.last_window_end) },
  last_groups: p.last_groups,
});

export function registerDynamicRoutes(router: Router, deps: DynamicRoutesDeps): void {
  const { ch } = deps;
  const log = deps.logger.child({ module: 'dynamic_properties' });
  const now = deps.now ?? Date.now;

  router.post(
    '/3/dynamic-properties',
    jsonBody,
    handler(log, async (req, res) => {
      const project = projectOf(res);
      let def;
      try {
        def = parseDynamicDefinition(req.body);
      } catch (err) {
        if (err instanceof DefinitionError) throw badParam(err.param, err.message, err.code);
        throw err;
      }
      await requireGroupType(ch, project.id, def.group_type, 'group_type');
      // the event definition is checked now (unknown event property, bad operator), not at the first run
      await deps.matchEvents({ projectId: project.id, e: def.metric.e, table: 'event_groups', groupType: def.group_type, param: 'metric.e' });
      const existing = await listDynamic(ch, project.id);
      if (existing.some((p) => p.group_type === def.group_type && p.name === def.name)) {
        throw new ApiError(409, 'duplicate_property', `a dynamic property ${JSON.stringify(def.name)} already exists for group type ${def.group_type}`, [{ param: 'name' }]);
      }
      const p: DynamicProperty = {
        project_id: project.id,
        id: newDynamicId(),
        group_type: def.group_type,
        name: def.name,
        definition: { metric: def.metric, window: def.window },
        created_at: now(),
        last_run_at: null,
        last_window_start: null,
        last_window_end: null,
        last_groups: 0,
      };
      await saveDynamic(ch, p);
      log.info({ project_id: project.id, property_id: p.id, group_type: p.group_type }, 'dynamic_property_created');
      // the first computation happens on the scheduler's next check, or at once with POST .../run
      res.status(201).json(propertyJson(p));
    }),
  );

  router.get(
    '/3/dynamic-properties',
    handler(log, async (req, res) => {
      res.json({ properties: (await listDynamic(ch, projectOf(res).id)).map(propertyJson) });
    }),
  );

  router.get(
    '/3/dynamic-properties/:id',
    handler(log, async (req, res) => {
      const p = await getDynamic(ch, projectOf(res).id, String(req.params.id));
      if (!p) throw notFound(`dynamic property ${String(req.params.id)}`);
      res.json(propertyJson(p));
    }),
  );

  router.delete(
    '/3/dynamic-properties/:id',
    handler(log, async (req, res) => {
      const p = await getDynamic(ch, projectOf(res).id, String(req.params.id));
      if (!p) throw notFound(`dynamic property ${String(req.params.id)}`);
      await saveDynamic(ch, p, true);
      log.info({ project_id: p.project_id, property_id: p.id }, 'dynamic_property_deleted');
      // values already written stay on the groups (and in history), as any group property would
      res.json({ id: p.id, deleted: true });
    }),
  );

  router.post(
    '/3/dynamic-properties/:id/run',
    handler(log, async (req, res) => {
      const project = projectOf(res);
      const id = String(req.params.id);
      if (!deps.runner) throw new ApiError(503, 'kafka_unavailable', 'this query service has no Kafka configured');
      let result;
      try {
        result = await deps.runner.run(project.id, id, 'api');
      } catch (err) {
        if (err instanceof KafkaUnavailableError) throw new ApiError(503, 'kafka_unavailable', 'Kafka is unreachable; nothing was recorded as run, try again later');
        throw err;
      }
      if (!result) throw notFound(`dynamic property ${id}`);
      res.json({ id, groups: result.groups, window: { start: isoOrNull(result.window.start), end: isoOrNull(result.window.end) }, ran_at: isoOrNull(result.ran_at) });
    }),
  );
}
