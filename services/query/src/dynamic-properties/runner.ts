// Computes dynamic group properties and publishes them as group identifies; runs them on schedule.
// One run at a time per process (scheduled and on-demand runs queue one after another); last_run_at is persisted, so a
// restart does not re-run a property that already ran in the current day/period.
import { randomUUID } from 'node:crypto';
import { sql, param, trusted, type Sql } from '@groupscope/clickhouse';
import type { GroupIdentifyRecord } from '@groupscope/events';
import type { Logger } from '@groupscope/logger';
import { Counter, Histogram } from 'prom-client';
import type { EventMatcher } from '../sql/event-match';
import type { Db, TableRef } from '../sql/executor';
import { ScheduledRunner } from '../jobs/loop';
import type { GroupIdentifyPublisher } from '../jobs/publisher';
import { getDynamic, listAllDynamic, propertyRow, type DynamicProperty } from './store';
import { isDue, windowAt } from './window';

const runs = new Counter({
  name: 'groupscope_query_dynamic_property_runs_total',
  help: 'Dynamic group property runs by trigger and outcome',
  labelNames: ['trigger', 'outcome'] as const,
});
const identifies = new Counter({
  name: 'groupscope_query_dynamic_property_identifies_total',
  help: 'Group identifies published for dynamic group properties',
});
const runSeconds = new Histogram({
  name: 'groupscope_query_dynamic_property_run_seconds',
  help: 'Duration of a dynamic group property run (compute and publish)',
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
});

export interface RunResult {
  id: string;
  groups: number;
  window: { start: number; end: number };
  ran_at: number;
}

export interface DynamicRunnerDeps {
  db: Db;
  logger: Logger;
  publisher: GroupIdentifyPublisher;
  matchEvents: EventMatcher;
  /** a project's time zone (calendar windows and "once a day" follow it) */
  timeZoneOf(projectId: number): string;
  now?: () => number;
}

/**
 * Per group, the metric over [start, end): uniques = distinct users, totals = events (rows: group_value, value).
 * Groups that had the metric in the previous run's window are read too, and get 0 if it fell to nothing, so a
 * value never goes stale.
 */
export function valuesQuery(t: TableRef, p: DynamicProperty, window: { start: number; end: number }, match: Sql): Sql {
  const inWindow = sql`event_time >= fromUnixTimestamp64Milli(${param(window.start, 'Int64')}, 'UTC')`;
  const metric = p.definition.metric.m === 'uniques' ? sql`uniqExactIf(user_key, ${inWindow})` : sql`countIf(${inWindow})`;
  const from = Math.min(window.start, p.last_window_start ?? window.start);
  return sql`SELECT group_value, ${metric} AS value
    FROM ${trusted(t('event_groups'))}
    WHERE project_id = ${param(p.project_id, 'UInt32')} AND group_type = ${param(p.group_type, 'String')}
      AND event_time >= fromUnixTimestamp64Milli(${param(from, 'Int64')}, 'UTC')
      AND event_time < fromUnixTimestamp64Milli(${param(window.end, 'Int64')}, 'UTC')
      AND (${match})
    GROUP BY group_value`;
}

/** Groups whose current value of the property is not 0: they get 0 when the metric found nothing (rows: group_value). */
export function staleGroupsQuery(t: TableRef, p: DynamicProperty): Sql {
  // the newest value of the one property, not the newest whole map: maps of every group cost far more to carry
  const name = param(p.name, 'String');
  return sql`SELECT group_value FROM (
      SELECT group_value, argMax((mapContains(properties, ${name}), properties[${name}]), kafka_offset) AS v FROM ${trusted(t('groups'))}
      WHERE project_id = ${param(p.project_id, 'UInt32')} AND group_type = ${param(p.group_type, 'String')} GROUP BY group_value)
    WHERE v.1 AND v.2 NOT IN ('0', '')`;
}

export async function computeValues(deps: Pick<DynamicRunnerDeps, 'db' | 'matchEvents'>, p: DynamicProperty, window: { start: number; end: number }): Promise<Map<string, number>> {
  const { db } = deps;
  const match = await deps.matchEvents({ projectId: p.project_id, e: p.definition.metric.e, table: 'event_groups', groupType: p.group_type, param: 'metric.e' });
  // streamed: the groups of a large project are more than one JSON read may hold (QUERY_MAX_RESULT_BYTES)
  const values = new Map<string, number>();
  for await (const chunk of db.stream<{ group_value: string; value: number }>(valuesQuery(db.table, p, window, match))) {
    for (const r of chunk) values.set(r.group_value, Number(r.value));
  }
  for await (const chunk of db.stream<{ group_value: string }>(staleGroupsQuery(db.table, p))) {
    for (const r of chunk) if (!values.has(r.group_value)) values.set(r.group_value, 0);
  }
  return values;
}

/** The group identifies one run publishes: `$set` of the property, one per group. */
export function identifyRecords(p: DynamicProperty, values: Map<string, number>, now: number): GroupIdentifyRecord[] {
  return [...values].map(([group_value, value]) => ({
    project_id: p.project_id,
    uuid: randomUUID(),
    receive_time: now,
    event_time: now,
    group_type: p.group_type,
    group_value,
    group_properties: JSON.stringify({ $set: { [p.name]: value } }),
    source: 'dynamic_property',
    user_id: null,
    device_id: null,
    insert_id: `${p.id}:${now}:${group_value}`,
  }));
}

export class DynamicRunner extends ScheduledRunner {
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly deps: DynamicRunnerDeps) {
    const log = deps.logger.child({ module: 'dynamic_properties' });
    super(log, 'dynamic_property_tick_failed');
    this.log = log;
    this.now = deps.now ?? Date.now;
  }

  /** Computes and publishes one property now (on demand or scheduled), then records the run. */
  run(projectId: number, id: string, trigger: 'api' | 'schedule' = 'api'): Promise<RunResult | undefined> {
    return this.queued(async () => {
      // re-read inside the queue: it may have been deleted or run meanwhile
      const p = await getDynamic(this.deps.db, projectId, id);
      if (!p) return undefined;
      const end = runSeconds.startTimer();
      const now = this.now();
      try {
        const window = windowAt(p.definition.window, now, this.deps.timeZoneOf(projectId));
        const values = await computeValues(this.deps, p, window);
        await this.deps.publisher.publish(identifyRecords(p, values, now));
        identifies.inc(values.size);
        await this.deps.db.insert(propertyRow({ ...p, last_run_at: now, last_window_start: window.start, last_window_end: window.end, last_groups: values.size }));
        runs.inc({ trigger, outcome: 'ok' });
        this.log.info({ project_id: projectId, property_id: id, trigger, groups: values.size, duration_ms: Math.round(end() * 1000) }, 'dynamic_property_ran');
        return { id, groups: values.size, window, ran_at: now };
      } catch (err) {
        end();
        runs.inc({ trigger, outcome: 'error' });
        throw err;
      }
    });
  }

  /** Runs every property that is due (one after another). */
  async tick(): Promise<void> {
    const all = await listAllDynamic(this.deps.db);
    const now = this.now();
    const tz = (p: DynamicProperty) => this.deps.timeZoneOf(p.project_id);
    const due = all.filter((p) => {
      try {
        return isDue(p.definition.window, p.last_run_at, now, tz(p));
      } catch (err) {
        this.log.warn({ err, project_id: p.project_id, property_id: p.id }, 'dynamic_property_run_failed');
        return false;
      }
    });
    // the next tick tries again
    await this.runEach(due, (p) => this.run(p.project_id, p.id, 'schedule'), (p, err) =>
      this.log.warn({ err, project_id: p.project_id, property_id: p.id, time_zone: tz(p) }, 'dynamic_property_run_failed'),
    );
  }
}
