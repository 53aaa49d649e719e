// Health scores: named weighted sums of normalised usage metrics per project and group type (definition.ts),
// computed once a day and on demand and written as group properties through the group-identify path (runner.ts);
// CRUD under /api/3/health-scores and one account's scores with their components at
// GET /api/2/groups/{type}/{value}/health. The scheduler is started and stopped by the composition root.
import { sql, param } from '@groupscope/clickhouse';
import type { Router } from '@groupscope/http';
import type { Logger } from '@groupscope/logger';
import type { Catalog } from '../domain/catalog';
import { projectOf } from '../http/auth';
import { ApiError, badParam, notFound } from '../http/errors';
import { handle } from '../http/handler';
import { jsonBody } from '../http/params';
import { isoOrNull } from '../http/reply';
import type { Db } from '../sql/executor';
import { KafkaUnavailableError, type GroupIdentifyPublisher } from '../jobs/publisher';
import { currentProperties } from '../sql/groups';
import { groupsWithUsage, lastCompleteDay, usageNumbers, type GroupUsageRow } from '../sql/usage';
import { HealthDefinitionError, parseHealthScore, propertyNames, scoreOf, type HealthScoreInput } from './definition';
import { HealthRunner } from './runner';
import { getHealthScore, healthScoreRow, listHealthScores, newHealthScoreId, type HealthScore } from './store';

export { healthEnv } from './config';
export type { HealthRunner } from './runner';

export interface HealthScoresDeps {
  db: Db;
  catalog: Catalog;
  logger: Logger;
  publisher: GroupIdentifyPublisher;
  /** scheduled runs start at or after this UTC hour */
  hourUtc: number;
  now?: () => number;
}

const scoreJson = (h: HealthScore) => ({
  id: h.id,
  group_type: h.group_type,
  name: h.name,
  properties: propertyNames(h.name),
  components: h.definition.components,
  thresholds: h.definition.thresholds,
  created_at: isoOrNull(h.created_at),
  updated_at: isoOrNull(h.updated_at),
  last_run_at: isoOrNull(h.last_run_at),
  last_as_of: h.last_as_of,
  last_groups: h.last_groups,
  last_written: h.last_written,
});

export function healthScoresFeature(deps: HealthScoresDeps): { register(router: Router): void; scheduler: HealthRunner } {
  const { db, catalog } = deps;
  const log = deps.logger.child({ module: 'health_scores' });
  const now = deps.now ?? Date.now;
  const runner = new HealthRunner({ db, logger: deps.logger, publisher: deps.publisher, hourUtc: deps.hourUtc, now });

  const parse = (body: unknown): HealthScoreInput => {
    try {
      return parseHealthScore(body);
    } catch (err) {
      if (err instanceof HealthDefinitionError) throw badParam(err.param, err.message, err.code);
      throw err;
    }
  };

  /** 409 when another score of the group type writes a property this one would write. */
  async function checkNames(projectId: number, input: HealthScoreInput, self?: string): Promise<void> {
    const mine = Object.values(propertyNames(input.name));
    const clash = (await listHealthScores(db, projectId)).find(
      (h) => h.id !== self && h.group_type === input.group_type && Object.values(propertyNames(h.name)).some((n) => mine.includes(n)),
    );
    if (clash) {
      throw new ApiError(409, 'duplicate_health_score', `health score ${JSON.stringify(clash.name)} (${clash.id}) already writes ${mine.map((n) => JSON.stringify(n)).join(' or ')} on ${input.group_type}`, [{ param: 'name' }]);
    }
  }

  async function load(projectId: number, id: string): Promise<HealthScore> {
    const h = await getHealthScore(db, projectId, id);
    if (!h) throw notFound(`health score ${id}`);
    return h;
  }

  return {
    scheduler: runner,
    register(router) {
      router.post(
        '/3/health-scores',
        jsonBody,
        handle(log, 'health_scores_create', async (req, res) => {
          const project = projectOf(res);
          const input = parse(req.body);
          await catalog.requireGroupType(project.id, input.group_type, 'group_type');
          await checkNames(project.id, input);
          const t = now();
          const h: HealthScore = {
            project_id: project.id, id: newHealthScoreId(), group_type: input.group_type, name: input.name, definition: input.definition,
            created_at: t, updated_at: t, last_run_at: null, last_as_of: null, last_groups: 0, last_written: 0,
          };
          await db.insert(healthScoreRow(h));
          log.info({ project_id: project.id, health_score_id: h.id, group_type: h.group_type }, 'health_score_created');
          // the first computation happens on the scheduler's next check, or at once with POST .../run
          res.status(201).json(scoreJson(h));
        }),
      );

      router.get(
        '/3/health-scores',
        handle(log, 'health_scores', async (_req, res) => ({ health_scores: (await listHealthScores(db, projectOf(res).id)).map(scoreJson) })),
      );

      router.get(
        '/3/health-scores/:id',
        handle(log, 'health_score', async (req, res) => scoreJson(await load(projectOf(res).id, String(req.params.id)))),
      );

      router.put(
        '/3/health-scores/:id',
        jsonBody,
        handle(log, 'health_score_update', async (req, res) => {
          const project = projectOf(res);
          const h = await load(project.id, String(req.params.id));
          const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? { group_type: h.group_type, ...(req.body as object) } : req.body;
          const input = parse(body);
          if (input.group_type !== h.group_type) throw badParam('group_type', 'the group type of a health score cannot change: create another score', 'immutable');
          await checkNames(project.id, input, h.id);
          // edited after its last run, so the scheduler's next check computes it again
          const next: HealthScore = { ...h, name: input.name, definition: input.definition, updated_at: Math.max(now(), (h.last_run_at ?? 0) + 1) };
          await db.insert(healthScoreRow(next));
          log.info({ project_id: project.id, health_score_id: h.id }, 'health_score_updated');
          return scoreJson(next);
        }),
      );

      router.delete(
        '/3/health-scores/:id',
        handle(log, 'health_score_delete', async (req, res) => {
          const h = await load(projectOf(res).id, String(req.params.id));
          await db.insert(healthScoreRow(h, true));
          log.info({ project_id: h.project_id, health_score_id: h.id }, 'health_score_deleted');
          // values already written stay on the groups (and in history), as any group property would
          return { id: h.id, deleted: true };
        }),
      );

      router.post(
        '/3/health-scores/:id/run',
        handle(log, 'health_score_run', async (req, res) => {
          const project = projectOf(res);
          const id = String(req.params.id);
          let result;
          try {
            result = await runner.run(project.id, id, 'api');
          } catch (err) {
            if (err instanceof KafkaUnavailableError) throw new ApiError(503, 'kafka_unavailable', 'Kafka is unreachable; nothing was recorded as run, try again later');
            throw err;
          }
          if (!result) throw notFound(`health score ${id}`);
          return { id, as_of: result.as_of, groups: result.groups, written: result.written, ran_at: isoOrNull(result.ran_at) };
        }),
      );

      router.get(
        '/2/groups/:groupType/:groupValue/health',
        handle(log, 'group_health', async (req, res) => {
          const project = projectOf(res);
          const { groupType, groupValue } = req.params as { groupType: string; groupValue: string };
          await catalog.requireGroupType(project.id, groupType, 'group_type');
          const scores = (await listHealthScores(db, project.id)).filter((h) => h.group_type === groupType);
          const asOfDays = [...new Set(scores.map((h) => h.last_as_of ?? lastCompleteDay(now())))];
          const byDay = new Map<string, GroupUsageRow | undefined>();
          await Promise.all(
            asOfDays.map(async (day) => {
              const [row] = await db.rows<GroupUsageRow>(groupsWithUsage(db.table, project.id, groupType, day, sql`group_value = ${param(groupValue, 'String')}`));
              byDay.set(day, row);
            }),
          );
          if (asOfDays.length > 0 && [...byDay.values()].every((r) => r === undefined)) throw notFound(`group ${groupType}=${groupValue}`);
          return {
            group_type: groupType,
            group_value: groupValue,
            health_scores: scores.map((h) => {
              const day = h.last_as_of ?? lastCompleteDay(now());
              const row = byDay.get(day);
              const names = propertyNames(h.name);
              const current = row ? currentProperties(row.group_properties, row.properties_json) : {};
              const computed = scoreOf(h.definition, row ? usageNumbers(row) : {});
              return {
                id: h.id,
                name: h.name,
                // what the group carries now (written by the last run that changed it)
                score: typeof current[names.score] === 'number' ? current[names.score] : null,
                band: typeof current[names.band] === 'string' ? current[names.band] : null,
                last_run_at: isoOrNull(h.last_run_at),
                as_of: day,
                thresholds: h.definition.thresholds,
                // the formula over the usage of that day, component by component
                computed: { score: computed.score, band: computed.band },
                components: computed.components,
              };
            }),
          };
        }),
      );
    },
  };
}
