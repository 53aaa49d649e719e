// Computes health scores and writes them as group properties (the score and its band) through the group-identify
// path, once a day on a schedule and on demand. A run scores every group of the type from its usage as of a day
// (sql/usage.ts) and publishes only the groups whose score or band differs from their current properties, so
// property history holds the changes, not a copy a day. Runs queue one after another in a process (jobs/loop.ts).
import { randomUUID } from 'node:crypto';
import type { GroupIdentifyRecord } from '@groupscope/events';
import type { Logger } from '@groupscope/logger';
import { Counter, Histogram } from 'prom-client';
import { ScheduledRunner } from '../jobs/loop';
import type { GroupIdentifyPublisher } from '../jobs/publisher';
import type { Db } from '../sql/executor';
import { groupsWithUsage, lastCompleteDay, usageNumbers, type GroupUsageRow } from '../sql/usage';
import { propertyNames, scoreOf, type Band } from './definition';
import { getHealthScore, healthScoreRow, listAllHealthScores, type HealthScore } from './store';

const runs = new Counter({
  name: 'groupscope_query_health_score_runs_total',
  help: 'Health score runs by trigger (api, schedule) and outcome (ok, error)',
  labelNames: ['trigger', 'outcome'] as const,
});
const written = new Counter({
  name: 'groupscope_query_health_score_groups_written_total',
  help: 'Groups whose health score or band changed and was written (group identifies published)',
});
const runSeconds = new Histogram({
  name: 'groupscope_query_health_score_run_seconds',
  help: 'Duration of a health score run (usage query, scoring, publish)',
  buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
});

export interface HealthRunResult {
  id: string;
  as_of: string;
  /** groups that got a score */
  groups: number;
  /** groups whose score or band changed, written as group identifies */
  written: number;
  ran_at: number;
}

export interface HealthRunnerDeps {
  db: Db;
  logger: Logger;
  publisher: GroupIdentifyPublisher;
  /** scheduled runs start at or after this UTC hour, so the day just ended has arrived (a new score runs at once) */
  hourUtc: number;
  now?: () => number;
}

export interface GroupScore {
  group_value: string;
  score: number;
  band: Band;
}

/** Each group's score where its score or band differs from the properties it has now. */
export function changedScores(h: HealthScore, rows: readonly GroupUsageRow[]): { scored: number; changed: GroupScore[] } {
  const names = propertyNames(h.name);
  const changed: GroupScore[] = [];
  let scored = 0;
  for (const row of rows) {
    const { score, band } = scoreOf(h.definition, usageNumbers(row));
    if (score === null || band === null) continue;
    scored++;
    const props = row.group_properties ?? {};
    if (props[names.score] === String(score) && props[names.band] === band) continue;
    changed.push({ group_value: row.group_value, score, band });
  }
  return { scored, changed };
}

/**
 * The group identifies of a run: `$set` of the score and band. The insert_id names the definition's revision, the
 * day and the values, so the same result published twice (a retried run) is dropped by the enricher, and a
 * different one is not.
 */
export function identifyRecords(h: HealthScore, asOf: string, scores: readonly GroupScore[], now: number): GroupIdentifyRecord[] {
  const names = propertyNames(h.name);
  return scores.map((s) => ({
    project_id: h.project_id,
    uuid: randomUUID(),
    receive_time: now,
    event_time: now,
    group_type: h.group_type,
    group_value: s.group_value,
    group_properties: JSON.stringify({ $set: { [names.score]: s.score, [names.band]: s.band } }),
    source: 'health_score',
    user_id: null,
    device_id: null,
    insert_id: `hs:${h.id}:${h.updated_at}:${asOf}:${s.score}:${s.band}:${s.group_value}`,
  }));
}

/** Whether a score is due at `now`: never run, edited since its last run, or its last run covered an earlier day than yesterday (after `hourUtc`). */
export function isDue(h: HealthScore, now: number, hourUtc: number): boolean {
  if (h.last_run_at === null || h.last_as_of === null || h.updated_at > h.last_run_at) return true;
  return h.last_as_of < lastCompleteDay(now) && new Date(now).getUTCHours() >= hourUtc;
}

export class HealthRunner extends ScheduledRunner {
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly deps: HealthRunnerDeps) {
    const log = deps.logger.child({ module: 'health_scores' });
    super(log, 'health_score_tick_failed');
    this.log = log;
    this.now = deps.now ?? Date.now;
  }

  /** Scores every group of the score's type as of `asOf` (default: the last complete day), publishes the changes, records the run. */
  run(projectId: number, id: string, trigger: 'api' | 'schedule' = 'api', asOf?: string): Promise<HealthRunResult | undefined> {
    return this.queued(async () => {
      // re-read inside the queue: it may have been deleted, edited or run meanwhile
      const h = await getHealthScore(this.deps.db, projectId, id);
      if (!h) return undefined;
      const end = runSeconds.startTimer();
      const now = this.now();
      const day = asOf ?? lastCompleteDay(now);
      try {
        // read as a stream: every group of the type (100k and more) is more than one JSON read may hold; only the
        // components' metrics and the score's own properties (to skip groups whose score did not change)
        let scored = 0;
        const changed: GroupScore[] = [];
        const names = propertyNames(h.name);
        const needs = { numbers: h.definition.components.map((c) => c.metric), properties: [names.score, names.band], seen: false };
        for await (const chunk of this.deps.db.stream<GroupUsageRow>(groupsWithUsage(this.deps.db.table, projectId, h.group_type, day, undefined, needs))) {
          const part = changedScores(h, chunk);
          scored += part.scored;
          for (const c of part.changed) changed.push(c);
        }
        await this.deps.publisher.publish(identifyRecords(h, day, changed, now));
        written.inc(changed.length);
        await this.deps.db.insert(healthScoreRow({ ...h, last_run_at: now, last_as_of: day, last_groups: scored, last_written: changed.length }));
        runs.inc({ trigger, outcome: 'ok' });
        this.log.info({ project_id: projectId, health_score_id: id, trigger, as_of: day, groups: scored, written: changed.length, duration_ms: Math.round(end() * 1000) }, 'health_score_ran');
        return { id, as_of: day, groups: scored, written: changed.length, ran_at: now };
      } catch (err) {
        end();
        runs.inc({ trigger, outcome: 'error' });
        throw err;
      }
    });
  }

  /** Runs every score that is due, one after another. */
  async tick(): Promise<void> {
    const now = this.now();
    const due = (await listAllHealthScores(this.deps.db)).filter((h) => isDue(h, now, this.deps.hourUtc));
    await this.runEach(due, (h) => this.run(h.project_id, h.id, 'schedule'), (h, err) =>
      this.log.warn({ err, project_id: h.project_id, health_score_id: h.id }, 'health_score_run_failed'),
    );
  }
}
