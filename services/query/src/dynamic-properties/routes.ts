// Dynamic group properties: create, list, delete, run now (/api/3/dynamic-properties...).
import type { Router } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import type { Catalog } from '../domain/catalog';
import { projectOf } from '../http/auth';
import { ApiError, badParam, notFound } from '../http/errors';
import { handle } from '../http/handler';
import { jsonBody } from '../http/params';
import { isoOrNull } from '../http/reply';
import type { EventMatcher } from '../sql/event-match';
import type { Db } from '../sql/executor';
import { DefinitionError, parseDynamicDefinition } from './definition';
import { KafkaUnavailableError } from '../jobs/publisher';
import type { DynamicRunner } from './runner';
import { getDynamic, listDynamic, newDynamicId, propertyRow, type DynamicProperty } from './store';

export interface DynamicRoutesDeps {
  db: Db;
  catalog: Catalog;
  logger: Logger;
  /** the charts' event definitions (charts/event-match.ts) */
  matchEvents: EventMatcher;
  runner: DynamicRunner;
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
  const { db, catalog } = deps;
  const log = deps.logger.child({ module: 'dynamic_properties' });
  const now = deps.now ?? Date.now;

  router.post(
    '/3/dynamic-properties',
    jsonBody,
    handle(log, 'dynamic_properties_create', async (req, res) => {
      const project = projectOf(res);
      let def;
      try {
        def = parseDynamicDefinition(req.body);
      } catch (err) {
        if (err instanceof DefinitionError) throw badParam(err.param, err.message, err.code);
        throw err;
      }
      await catalog.requireGroupType(project.id, def.group_type, 'group_type');
      // the event definition is checked now (unknown event property, bad operator), not at the first run
      await deps.matchEvents({ projectId: project.id, e: def.metric.e, table: 'event_groups', groupType: def.group_type, param: 'metric.e' });
      const existing = await listDynamic(db, project.id);
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
      await db.insert(propertyRow(p));
      log.info({ project_id: project.id, property_id: p.id, group_type: p.group_type }, 'dynamic_property_created');
      // the first computation happens on the scheduler's next check, or at once with POST .../run
      res.status(201).json(propertyJson(p));
    }),
  );

  router.get(
    '/3/dynamic-properties',
    handle(log, 'dynamic_properties', async (req, res) => {
      return { properties: (await listDynamic(db, projectOf(res).id)).map(propertyJson) };
    }),
  );

  router.get(
    '/3/dynamic-properties/:id',
    handle(log, 'dynamic_property', async (req, res) => {
      const p = await getDynamic(db, projectOf(res).id, String(req.params.id));
      if (!p) throw notFound(`dynamic property ${String(req.params.id)}`);
      return propertyJson(p);
    }),
  );

  router.delete(
    '/3/dynamic-properties/:id',
    handle(log, 'dynamic_property_delete', async (req, res) => {
      const p = await getDynamic(db, projectOf(res).id, String(req.params.id));
      if (!p) throw notFound(`dynamic property ${String(req.params.id)}`);
      await db.insert(propertyRow(p, true));
      log.info({ project_id: p.project_id, property_id: p.id }, 'dynamic_property_deleted');
      // values already written stay on the groups (and in history), as any group property would
      return { id: p.id, deleted: true };
    }),
  );

  router.post(
    '/3/dynamic-properties/:id/run',
    handle(log, 'dynamic_property_run', async (req, res) => {
      const project = projectOf(res);
      const id = String(req.params.id);
      let result;
      try {
        result = await deps.runner.run(project.id, id, 'api');
      } catch (err) {
        if (err instanceof KafkaUnavailableError) throw new ApiError(503, 'kafka_unavailable', 'Kafka is unreachable; nothing was recorded as run, try again later');
        throw err;
      }
      if (!result) throw notFound(`dynamic property ${id}`);
      return { id, groups: result.groups, window: { start: isoOrNull(result.window.start), end: isoOrNull(result.window.end) }, ran_at: isoOrNull(result.ran_at) };
    }),
  );
}
