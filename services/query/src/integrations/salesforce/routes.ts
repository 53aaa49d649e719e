// The Salesforce sync's API (/api/3/integrations/salesforce/...): the connection (never its secret), mappings
// (create, list, read, replace, delete, export and import as JSON), run now, status, unknown group values.
import type { Router } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import type { Catalog } from '../../domain/catalog';
import { projectOf } from '../../http/auth';
import { ApiError, badParam, notFound } from '../../http/errors';
import { handle } from '../../http/handler';
import { boolParam, intParam, jsonBody } from '../../http/params';
import { isoOrNull } from '../../http/reply';
import { KafkaUnavailableError } from '../../jobs/publisher';
import type { Db } from '../../sql/executor';
import { nextVersion } from '../../sql/version';
import { SalesforceError } from './client';
import { connectionOf, CredentialsError, type CredentialSources } from './credentials';
import { cadenceJson, MappingError, MAX_MAPPINGS, parseImport, parseMapping, resolveFields, sameData, type Describe, type MappingDef } from './mapping';
import type { RunResult, SalesforceRunner } from './runner';
import {
  getMapping, listMappings, mappingRow, newMappingId, pickupSummary, prunePickupsStatement, stateFor, statesOf, valuesInState, type Mapping, type SyncState,
} from './store';

export interface SalesforceRoutesDeps {
  db: Db;
  catalog: Catalog;
  logger: Logger;
  runner: SalesforceRunner;
  credentials: CredentialSources;
  now?: () => number;
}

const BASE = '/3/integrations/salesforce';
const UNKNOWN_SAMPLE = 20;

/** Errors of Salesforce, the credentials and Kafka in the API's error shape. */
export function salesforceApiError(err: unknown): ApiError | undefined {
  if (err instanceof CredentialsError) return new ApiError(409, err.code, err.message);
  if (err instanceof SalesforceError) {
    const details = [{ salesforce_error: err.code }];
    if (err.retryable) return new ApiError(503, 'salesforce_unavailable', `Salesforce is unavailable (${err.code}): ${err.message}; try again later`, details);
    return new ApiError(502, 'salesforce_error', `Salesforce refused the request (${err.code}): ${err.message}`, details);
  }
  if (err instanceof KafkaUnavailableError) return new ApiError(503, 'kafka_unavailable', 'Kafka is unreachable; nothing was recorded as run, try again later');
  return undefined;
}

const rethrow = (err: unknown): never => {
  throw salesforceApiError(err) ?? err;
};

export const mappingJson = (m: Mapping) => ({
  id: m.id,
  sobject: m.def.sobject,
  group_type: m.def.group_type,
  name_field: m.def.name_field,
  properties: m.def.properties,
  cadence: cadenceJson(m.def.cadence),
  created_at: isoOrNull(m.created_at),
  updated_at: isoOrNull(m.updated_at),
});

const exportJson = (m: Mapping) => ({
  sobject: m.def.sobject,
  group_type: m.def.group_type,
  name_field: m.def.name_field,
  properties: m.def.properties,
  cadence: cadenceJson(m.def.cadence),
});

const runJson = (r: RunResult) => ({ ...r, high_water_mark: isoOrNull(r.high_water_mark), ran_at: isoOrNull(r.ran_at) });

export function registerSalesforceRoutes(router: Router, deps: SalesforceRoutesDeps): void {
  const { db, catalog, runner } = deps;
  const log = deps.logger.child({ module: 'salesforce' });
  const now = deps.now ?? Date.now;

  /** Checks a definition against groupscope (the group type) and Salesforce (the object's describe). */
  async function validate(projectId: number, def: MappingDef, prefix: string, describes: Map<string, Describe>): Promise<MappingDef> {
    await catalog.requireGroupType(projectId, def.group_type, `${prefix}group_type`);
    const key = def.sobject.toLowerCase();
    let d = describes.get(key);
    if (!d) {
      try {
        d = await runner.describe(projectId, def.sobject);
      } catch (err) {
        if (err instanceof SalesforceError && (err.code === 'NOT_FOUND' || err.code === 'INVALID_TYPE')) {
          throw badParam(`${prefix}sobject`, `Salesforce has no object ${def.sobject} (or this connected app may not read it)`, 'unknown_sobject');
        }
        rethrow(err);
      }
      describes.set(key, d!);
    }
    try {
      return resolveFields(def, d!, prefix);
    } catch (err) {
      if (err instanceof MappingError) throw badParam(err.param, err.message, err.code);
      throw err;
    }
  }

  const parsed = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof MappingError) throw badParam(err.param, err.message, err.code);
      throw err;
    }
  };

  const sameTarget = (a: MappingDef, b: MappingDef) => a.sobject.toLowerCase() === b.sobject.toLowerCase() && a.group_type === b.group_type;

  async function mappingOr404(projectId: number, id: string): Promise<Mapping> {
    const m = await getMapping(db, projectId, id);
    if (!m) throw notFound(`Salesforce mapping ${id}`);
    return m;
  }

  /** A new state of `m` with definition `def`: the revision changes (a full sync follows) when the data read changes. */
  function revised(m: Mapping, def: MappingDef, at: number): Mapping {
    return { ...m, def, revision: sameData(m.def, def) ? m.revision : nextVersion(at), updated_at: at };
  }

  async function saveRevised(before: Mapping, after: Mapping): Promise<void> {
    await db.insert(mappingRow(after));
    if (after.revision !== before.revision) {
      await db.exec(prunePickupsStatement(db.table, after.project_id, after.id, after.revision), { lightweight_deletes_sync: 0 }).catch((err: unknown) => log.warn({ err, mapping_id: after.id }, 'salesforce_prune_failed'));
    }
  }

  async function statusJson(m: Mapping, s: SyncState) {
    const summary = await pickupSummary(db, m);
    return {
      mapping_id: m.id,
      running: runner.isRunning(m.project_id, m.id),
      last_run_at: isoOrNull(s.last_attempt_at),
      last_success_at: isoOrNull(s.last_success_at),
      last_outcome: s.last_outcome || null,
      last_trigger: s.last_trigger || null,
      next_run_at: isoOrNull(runner.nextRunAt(m, s)),
      full_sync: s.full_sync,
      high_water_mark: isoOrNull(s.high_water_mark),
      rows_read: s.rows_read,
      groups_updated: s.groups_updated,
      groups_deferred: s.groups_deferred,
      unknown_values: s.unknown_values,
      rows_without_name: s.rows_without_name,
      retries: s.retries,
      duration_ms: s.duration_ms,
      last_error: s.last_error_code ? { code: s.last_error_code, message: s.last_error_message, at: isoOrNull(s.last_attempt_at) } : null,
      consecutive_failures: s.consecutive_failures,
      groups: { synced: summary.synced, pending: summary.pending, unknown: summary.unknown, missing: summary.missing },
      unknown_sample: summary.unknown > 0 ? await valuesInState(db, m, 'unknown', UNKNOWN_SAMPLE, 0) : [],
      next_pickup_at: isoOrNull(summary.next_pickup),
    };
  }

  router.get(
    `${BASE}/connection`,
    handle(log, 'salesforce_connection', async (req, res) => {
      const project = projectOf(res);
      let c;
      try {
        c = await connectionOf(deps.credentials, project.id);
      } catch (err) {
        throw salesforceApiError(err) ?? err;
      }
      const reply: Record<string, unknown> = { configured: c.configured, login_url: c.login_url, client_id: c.client_id, from: c.from, missing: c.missing, secrets_file: c.secrets_file };
      if (boolParam(req.query, 'check') && c.configured) {
        try {
          reply.check = { ok: true, ...(await runner.checkConnection(project.id)) };
        } catch (err) {
          const e = salesforceApiError(err);
          if (!e) throw err;
          reply.check = { ok: false, error: { code: e.code, message: e.message } };
        }
      }
      return reply;
    }),
  );

  router.get(
    `${BASE}/mappings`,
    handle(log, 'salesforce_mappings', async (_req, res) => ({ mappings: (await listMappings(db, projectOf(res).id)).map(mappingJson) })),
  );

  router.post(
    `${BASE}/mappings`,
    jsonBody,
    handle(log, 'salesforce_mapping_create', async (req, res) => {
      const project = projectOf(res);
      const def = await validate(project.id, parsed(() => parseMapping(req.body)), '', new Map());
      const existing = await listMappings(db, project.id);
      if (existing.some((m) => sameTarget(m.def, def))) {
        throw new ApiError(409, 'duplicate_mapping', `a mapping of ${def.sobject} to group type ${def.group_type} already exists`, [{ param: 'sobject' }]);
      }
      if (existing.length >= MAX_MAPPINGS) throw badParam('body', `at most ${MAX_MAPPINGS} mappings per project`, 'too_many_mappings');
      const at = now();
      const m: Mapping = { project_id: project.id, id: newMappingId(), def, revision: nextVersion(at), created_at: at, updated_at: at };
      await db.insert(mappingRow(m));
      log.info({ project_id: project.id, mapping_id: m.id, sobject: def.sobject, group_type: def.group_type }, 'salesforce_mapping_created');
      res.status(201).json(mappingJson(m));
    }),
  );

  // before /mappings/:id, which would take "export" for an id
  router.get(
    `${BASE}/mappings/export`,
    handle(log, 'salesforce_mappings_export', async (_req, res) => {
      res.setHeader('content-disposition', 'attachment; filename="salesforce-mappings.json"');
      return { version: 1, mappings: (await listMappings(db, projectOf(res).id)).map(exportJson) };
    }),
  );

  router.post(
    `${BASE}/mappings/import`,
    jsonBody,
    handle(log, 'salesforce_mappings_import', async (req, res) => {
      const project = projectOf(res);
      const replace = boolParam(req.query, 'replace');
      const defs = parsed(() => parseImport(req.body));
      // every mapping is checked before anything is written: an import is all or nothing
      const describes = new Map<string, Describe>();
      const valid: MappingDef[] = [];
      for (const [i, d] of defs.entries()) valid.push(await validate(project.id, d, `mappings[${i}].`, describes));
      const existing = await listMappings(db, project.id);
      const kept = replace ? [] : existing.filter((m) => !valid.some((d) => sameTarget(m.def, d)));
      if (kept.length + valid.length > MAX_MAPPINGS) throw badParam('mappings', `at most ${MAX_MAPPINGS} mappings per project`, 'too_many_mappings');
      const at = now();
      const out: Mapping[] = [];
      let created = 0;
      let updated = 0;
      let unchanged = 0;
      for (const def of valid) {
        const prior = existing.find((m) => sameTarget(m.def, def));
        if (!prior) {
          const m: Mapping = { project_id: project.id, id: newMappingId(), def, revision: nextVersion(at), created_at: at, updated_at: at };
          await db.insert(mappingRow(m));
          out.push(m);
          created++;
        } else if (JSON.stringify(exportJson(prior)) === JSON.stringify(exportJson({ ...prior, def }))) {
          out.push(prior);
          unchanged++;
        } else {
          const m = revised(prior, def, at);
          await saveRevised(prior, m);
          out.push(m);
          updated++;
        }
      }
      let deleted = 0;
      if (replace) {
        for (const m of existing.filter((e) => !valid.some((d) => sameTarget(e.def, d)))) {
          await db.insert(mappingRow(m, true));
          deleted++;
        }
      }
      log.info({ project_id: project.id, created, updated, unchanged, deleted }, 'salesforce_mappings_imported');
      return { created, updated, unchanged, deleted, mappings: out.map(mappingJson) };
    }),
  );

  router.get(
    `${BASE}/mappings/:id`,
    handle(log, 'salesforce_mapping', async (req, res) => mappingJson(await mappingOr404(projectOf(res).id, String(req.params.id)))),
  );

  router.put(
    `${BASE}/mappings/:id`,
    jsonBody,
    handle(log, 'salesforce_mapping_replace', async (req, res) => {
      const project = projectOf(res);
      const prior = await mappingOr404(project.id, String(req.params.id));
      const def = await validate(project.id, parsed(() => parseMapping(req.body)), '', new Map());
      if ((await listMappings(db, project.id)).some((m) => m.id !== prior.id && sameTarget(m.def, def))) {
        throw new ApiError(409, 'duplicate_mapping', `a mapping of ${def.sobject} to group type ${def.group_type} already exists`, [{ param: 'sobject' }]);
      }
      const m = revised(prior, def, now());
      await saveRevised(prior, m);
      log.info({ project_id: project.id, mapping_id: m.id, full_sync_next: m.revision !== prior.revision }, 'salesforce_mapping_updated');
      return mappingJson(m);
    }),
  );

  router.delete(
    `${BASE}/mappings/:id`,
    handle(log, 'salesforce_mapping_delete', async (req, res) => {
      const m = await mappingOr404(projectOf(res).id, String(req.params.id));
      await db.insert(mappingRow(m, true));
      await db.exec(prunePickupsStatement(db.table, m.project_id, m.id), { lightweight_deletes_sync: 0 }).catch((err: unknown) => log.warn({ err, mapping_id: m.id }, 'salesforce_prune_failed'));
      log.info({ project_id: m.project_id, mapping_id: m.id }, 'salesforce_mapping_deleted');
      // properties already written stay on the groups (and in history), as any group property would
      return { id: m.id, deleted: true };
    }),
  );

  router.post(
    `${BASE}/mappings/:id/run`,
    handle(log, 'salesforce_mapping_run', async (req, res) => {
      const project = projectOf(res);
      const m = await mappingOr404(project.id, String(req.params.id));
      const wait = req.query.wait === undefined ? true : boolParam(req.query, 'wait');
      const running = runner.run(project.id, m.id, 'api');
      if (!wait) {
        // the outcome goes to the status endpoint (and the log)
        running.catch(() => undefined);
        res.status(202).json({ mapping_id: m.id, started: true });
        return undefined;
      }
      let result: RunResult | undefined;
      try {
        result = await running;
      } catch (err) {
        rethrow(err);
      }
      if (!result) throw notFound(`Salesforce mapping ${m.id}`);
      return runJson(result);
    }),
  );

  router.get(
    `${BASE}/mappings/:id/status`,
    handle(log, 'salesforce_mapping_status', async (req, res) => {
      const project = projectOf(res);
      const m = await mappingOr404(project.id, String(req.params.id));
      return statusJson(m, stateFor(await statesOf(db, project.id), m));
    }),
  );

  router.get(
    `${BASE}/mappings/:id/unknown`,
    handle(log, 'salesforce_mapping_unknown', async (req, res) => {
      const project = projectOf(res);
      const m = await mappingOr404(project.id, String(req.params.id));
      const limit = intParam(req.query, 'limit', 100, 1, 10_000);
      const offset = intParam(req.query, 'offset', 0, 0, 10_000_000);
      const [summary, values] = await Promise.all([pickupSummary(db, m), valuesInState(db, m, 'unknown', limit, offset)]);
      return { mapping_id: m.id, total: summary.unknown, values, limit, offset };
    }),
  );
}
