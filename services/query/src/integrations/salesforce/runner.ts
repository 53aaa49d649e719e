// Runs Salesforce mappings: reads changed rows, writes each changed group's properties as a group identify, keeps
// pickup dates per group, and records the run. One run at a time per process (scheduled and on-demand runs queue).
//
// A run of a mapping at time T:
//   1. rows changed since the high-water mark (minus an overlap; every row on the first run) are read page by
//      page. Per page, the newest row of each group value: a value that is no group in groupscope is recorded as
//      unknown (not created); a group whose pickup date has come (or that was never updated) gets a `$set` and its
//      next pickup date; a group not due yet is marked pending. A row already applied (its SystemModstamp not newer
//      than the one recorded for the group) is skipped, which de-duplicates the overlap.
//   2. groups whose pickup came and that are pending, and unknown values that have become groups since, are read
//      by name and written.
//   3. for every-N-days mappings, groups due but unchanged get their next pickup date (last update + interval).
// The group identifies of a page are acknowledged by Kafka before the page's pickup rows are written, and the
// high-water mark only advances when the whole run succeeded, so a failure at any point loses nothing: the next run
// reads the same rows again and the enricher drops what it already applied (insert_id).
import { performance } from 'node:perf_hooks';
import type { GroupIdentifyRecord } from '@groupscope/events';
import type { Logger } from '@groupscope/logger';
import { Counter, Histogram } from 'prom-client';
import { ScheduledRunner } from '../../jobs/loop';
import { KafkaUnavailableError, type GroupIdentifyPublisher } from '../../jobs/publisher';
import type { Db } from '../../sql/executor';
import { SalesforceClient, SalesforceError } from './client';
import { credentialsOf, type CredentialSources } from './credentials';
import type { Describe } from './mapping';
import { identifyRecord, latestPerGroup, toRow, type SfRow } from './records';
import { isPickupDue, isRunDue, nextPickup, nextRunAt, type Backoff, type RunHistory } from './schedule';
import { byNamesSoql, changedRowsSoql, chunkByNames } from './soql';
import {
  dueValues, existingGroups, getMapping, listAllMappings, pickupRows, pickupsOf, prunePickupsStatement, rollForwardCandidates, stateFor, stateRow,
  statesOf, type Mapping, type Pickup, type SyncState,
} from './store';

const runs = new Counter({ name: 'groupscope_query_salesforce_runs_total', help: 'Salesforce sync runs by trigger and outcome', labelNames: ['trigger', 'outcome'] as const });
const runSeconds = new Histogram({
  name: 'groupscope_query_salesforce_run_seconds',
  help: 'Duration of a Salesforce sync run (reading, publishing, recording)',
  buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
});
const rowsRead = new Counter({ name: 'groupscope_query_salesforce_rows_read_total', help: 'Salesforce rows read by sync runs' });
const groupsUpdated = new Counter({ name: 'groupscope_query_salesforce_groups_updated_total', help: 'Groups written (group identifies published) by the Salesforce sync' });
const groupsDeferred = new Counter({ name: 'groupscope_query_salesforce_groups_deferred_total', help: 'Changed groups left for their pickup date' });
const unknownValues = new Counter({ name: 'groupscope_query_salesforce_unknown_values_total', help: 'Salesforce rows whose group value is no group in groupscope (per run)' });
const invalidRows = new Counter({ name: 'groupscope_query_salesforce_invalid_rows_total', help: 'Salesforce records without an Id or SystemModstamp (skipped)' });

/** Longest URL path of a by-name query: Salesforce allows 16 KB for the URI and headers together. */
const MAX_QUERY_PATH_BYTES = 12_000;
const UNKNOWN_SAMPLE = 20;

export interface SalesforceSettings {
  apiVersion: string;
  dailyHourUtc: number;
  overlapMs: number;
  batchSize: number;
  requestTimeoutMs: number;
  retries: number;
  requestBackoff: Backoff;
  runBackoff: Backoff;
}

export interface SalesforceRunnerDeps {
  db: Db;
  logger: Logger;
  publisher: GroupIdentifyPublisher;
  credentials: CredentialSources;
  settings: SalesforceSettings;
  now?: () => number;
}

export interface RunResult {
  mapping_id: string;
  trigger: 'api' | 'schedule';
  full_sync: boolean;
  rows_read: number;
  groups_updated: number;
  groups_deferred: number;
  unknown_values: number;
  unknown_sample: string[];
  rows_without_name: number;
  retries: number;
  high_water_mark: number | null;
  ran_at: number;
  duration_ms: number;
}

class RunStats {
  rowsRead = 0;
  groupsUpdated = 0;
  groupsDeferred = 0;
  rowsWithoutName = 0;
  retries = 0;
  readonly unknown = new Set<string>();
  sample(): string[] {
    return [...this.unknown].slice(0, UNKNOWN_SAMPLE);
  }
}

export const historyOf = (m: Mapping, s: SyncState): RunHistory => ({
  // a mapping whose data changed starts over from the change, like a new one
  createdAt: m.updated_at,
  lastSuccessAt: s.last_success_at,
  lastAttemptAt: s.last_attempt_at,
  consecutiveFailures: s.consecutive_failures,
});

export class SalesforceRunner extends ScheduledRunner {
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly clients = new Map<number, SalesforceClient>();
  private active: RunStats | undefined;
  private readonly running = new Set<string>();

  constructor(private readonly deps: SalesforceRunnerDeps) {
    const log = deps.logger.child({ module: 'salesforce' });
    super(log, 'salesforce_tick_failed');
    this.log = log;
    this.now = deps.now ?? Date.now;
  }

  /** One client per project: it keeps the project's access token between runs. */
  private client(projectId: number): SalesforceClient {
    let c = this.clients.get(projectId);
    if (!c) {
      const s = this.deps.settings;
      c = new SalesforceClient({
        credentials: () => credentialsOf(this.deps.credentials, projectId),
        apiVersion: s.apiVersion,
        requestTimeoutMs: s.requestTimeoutMs,
        retries: s.retries,
        backoff: s.requestBackoff,
        batchSize: s.batchSize,
        onRetry: () => {
          if (this.active) this.active.retries++;
        },
      });
      this.clients.set(projectId, c);
    }
    return c;
  }

  /** The object's describe, to validate a mapping (outside the run queue: it only reads). */
  describe(projectId: number, sobject: string): Promise<Describe> {
    return this.client(projectId).describe(sobject);
  }

  /** Fetches a new access token: whether the credentials work. */
  async checkConnection(projectId: number): Promise<{ instance_url: string }> {
    return { instance_url: await this.client(projectId).connect() };
  }

  isRunning(projectId: number, id: string): boolean {
    return this.running.has(`${projectId}:${id}`);
  }

  nextRunAt(m: Mapping, s: SyncState): number {
    return nextRunAt(m.def.cadence, historyOf(m, s), this.deps.settings.dailyHourUtc, this.deps.settings.runBackoff);
  }

  /** Runs one mapping now (on demand or scheduled) and records the run; undefined when the mapping does not exist. */
  run(projectId: number, id: string, trigger: 'api' | 'schedule' = 'api'): Promise<RunResult | undefined> {
    return this.queued(async () => {
      // read inside the queue: the mapping may have been deleted, changed or run meanwhile
      const m = await getMapping(this.deps.db, projectId, id);
      if (!m) return undefined;
      const key = `${projectId}:${id}`;
      this.running.add(key);
      try {
        return await this.runMapping(m, stateFor(await statesOf(this.deps.db, projectId), m), trigger);
      } finally {
        this.running.delete(key);
      }
    });
  }

  private async runMapping(m: Mapping, prev: SyncState, trigger: 'api' | 'schedule'): Promise<RunResult> {
    const { db, settings } = this.deps;
    const startedAt = this.now();
    const t0 = performance.now();
    const stats = new RunStats();
    this.active = stats;
    const full = prev.high_water_mark === null;
    let hwm = prev.high_water_mark;
    try {
      const client = this.client(m.project_id);
      // 1. rows changed since the high-water mark
      const since = hwm === null ? null : hwm - settings.overlapMs;
      for await (const page of client.query(changedRowsSoql(m.def, since))) {
        const rows = this.rows(m, page, stats);
        for (const r of rows) if (hwm === null || r.modstamp > hwm) hwm = r.modstamp;
        await this.apply(m, rows, startedAt, trigger === 'api', stats);
      }
      // 2. pending groups whose pickup came, unknown values that are groups now
      const due = await dueValues(db, { ...m, group_type: m.def.group_type }, startedAt, trigger === 'api');
      if (due.length > 0) await this.pickUp(m, client, due, startedAt, stats);
      // 3. every-N-days: groups due and unchanged move to their next pickup date
      if (m.def.cadence.type === 'days') await this.rollForward(m, startedAt);

      const state: SyncState = {
        ...this.stateAfter(prev, m, stats, startedAt, trigger, t0),
        high_water_mark: hwm,
        last_success_at: startedAt,
        last_outcome: 'ok',
        full_sync: full,
        last_error_code: '',
        last_error_message: '',
        consecutive_failures: 0,
      };
      await db.insert(stateRow(state));
      if (full) await db.exec(prunePickupsStatement(db.table, m.project_id, m.id, m.revision), { lightweight_deletes_sync: 0 }).catch((err: unknown) => this.log.warn({ err, mapping_id: m.id }, 'salesforce_prune_failed'));
      runs.inc({ trigger, outcome: 'ok' });
      this.log.info(
        { project_id: m.project_id, mapping_id: m.id, trigger, full_sync: full, rows_read: stats.rowsRead, groups_updated: stats.groupsUpdated, groups_deferred: stats.groupsDeferred, unknown_values: stats.unknown.size, retries: stats.retries, duration_ms: state.duration_ms },
        'salesforce_run_finished',
      );
      return {
        mapping_id: m.id,
        trigger,
        full_sync: full,
        rows_read: stats.rowsRead,
        groups_updated: stats.groupsUpdated,
        groups_deferred: stats.groupsDeferred,
        unknown_values: stats.unknown.size,
        unknown_sample: stats.sample(),
        rows_without_name: stats.rowsWithoutName,
        retries: stats.retries,
        high_water_mark: hwm,
        ran_at: startedAt,
        duration_ms: state.duration_ms,
      };
    } catch (err) {
      runs.inc({ trigger, outcome: 'error' });
      const failed: SyncState = {
        ...this.stateAfter(prev, m, stats, startedAt, trigger, t0),
        last_outcome: 'error',
        last_error_code: errorCode(err),
        last_error_message: (err instanceof Error ? err.message : String(err)).slice(0, 2000),
        consecutive_failures: prev.consecutive_failures + 1,
      };
      await db.insert(stateRow(failed)).catch((e2: unknown) => this.log.warn({ err: e2, mapping_id: m.id }, 'salesforce_state_write_failed'));
      this.log.warn({ err, project_id: m.project_id, mapping_id: m.id, trigger, error_code: failed.last_error_code, rows_read: stats.rowsRead, groups_updated: stats.groupsUpdated }, 'salesforce_run_failed');
      throw err;
    } finally {
      this.active = undefined;
      runSeconds.observe((performance.now() - t0) / 1000);
    }
  }

  private stateAfter(prev: SyncState, m: Mapping, stats: RunStats, at: number, trigger: string, t0: number): SyncState {
    return {
      ...prev,
      revision: m.revision,
      last_attempt_at: at,
      last_trigger: trigger,
      rows_read: stats.rowsRead,
      groups_updated: stats.groupsUpdated,
      groups_deferred: stats.groupsDeferred,
      unknown_values: stats.unknown.size,
      rows_without_name: stats.rowsWithoutName,
      retries: stats.retries,
      duration_ms: Math.round(performance.now() - t0),
    };
  }

  private rows(m: Mapping, records: unknown[], stats: RunStats): SfRow[] {
    stats.rowsRead += records.length;
    rowsRead.inc(records.length);
    const out: SfRow[] = [];
    for (const rec of records) {
      const r = toRow(m.def, rec);
      if (r.kind === 'invalid') {
        invalidRows.inc();
        this.log.warn({ mapping_id: m.id, error: r.error }, 'salesforce_row_invalid');
        continue;
      }
      if (r.row.groupValue === null) stats.rowsWithoutName++;
      out.push(r.row);
    }
    return out;
  }

  /** Applies one page of rows: identifies for due groups (acknowledged by Kafka), then their pickup rows. */
  private async apply(m: Mapping, rows: SfRow[], now: number, force: boolean, stats: RunStats): Promise<void> {
    const { db, settings } = this.deps;
    const latest = latestPerGroup(rows);
    if (latest.size === 0) return;
    const values = [...latest.keys()];
    const [exists, pickups] = await Promise.all([existingGroups(db, m.project_id, m.def.group_type, values), pickupsOf(db, m, values)]);
    const publish: GroupIdentifyRecord[] = [];
    const writes: Pickup[] = [];
    const ref = { project_id: m.project_id, id: m.id, revision: m.revision, group_type: m.def.group_type };
    let unknown = 0;
    let deferred = 0;
    for (const [value, row] of latest) {
      const p = pickups.get(value);
      if (!exists.has(value)) {
        // the reference's rule: the group value must exist in groupscope; Salesforce does not create groups
        stats.unknown.add(value);
        unknown++;
        if (!(p?.state === 'unknown' && p.sf_modstamp >= row.modstamp)) {
          writes.push({ group_value: value, state: 'unknown', sf_modstamp: row.modstamp, last_update: p?.last_update ?? null, next_pickup: p?.next_pickup ?? null });
        }
        continue;
      }
      if (p?.state === 'synced' && p.sf_modstamp >= row.modstamp) continue; // applied already (read again in the overlap)
      const due = force || !p || p.last_update === null || isPickupDue(p.next_pickup, now);
      if (due) {
        publish.push(identifyRecord(ref, { ...row, groupValue: value }, now));
        writes.push({ group_value: value, state: 'synced', sf_modstamp: row.modstamp, last_update: now, next_pickup: nextPickup(m.def.cadence, now, settings.dailyHourUtc) });
        stats.groupsUpdated++;
      } else {
        stats.groupsDeferred++;
        deferred++;
        if (!(p.state === 'pending' && p.sf_modstamp >= row.modstamp)) writes.push({ ...p, state: 'pending', sf_modstamp: Math.max(p.sf_modstamp, row.modstamp) });
      }
    }
    await this.deps.publisher.publish(publish);
    groupsUpdated.inc(publish.length);
    groupsDeferred.inc(deferred);
    unknownValues.inc(unknown);
    await db.insert(pickupRows(m, writes));
  }

  /** Reads the current rows of due groups by name and writes them; values Salesforce no longer has become missing. */
  private async pickUp(m: Mapping, client: SalesforceClient, due: Pickup[], now: number, stats: RunStats): Promise<void> {
    const found = new Set<string>();
    // a value too long to ask for cannot be found either
    const { chunks } = chunkByNames(m.def, this.deps.settings.apiVersion, due.map((d) => d.group_value), MAX_QUERY_PATH_BYTES);
    for (const chunk of chunks) {
      for await (const page of client.query(byNamesSoql(m.def, chunk))) {
        const rows = this.rows(m, page, stats);
        for (const r of rows) if (r.groupValue !== null) found.add(r.groupValue);
        await this.apply(m, rows, now, true, stats);
      }
    }
    const missing = due.filter((d) => !found.has(d.group_value));
    if (missing.length > 0) await this.deps.db.insert(pickupRows(m, missing.map((d) => ({ ...d, state: 'missing' as const }))));
  }

  /** Due groups that did not change in Salesforce: picked up without a write, so the next pickup is an interval on. */
  private async rollForward(m: Mapping, now: number): Promise<void> {
    const due = await rollForwardCandidates(this.deps.db, m, now);
    if (due.length === 0) return;
    const next = nextPickup(m.def.cadence, now, this.deps.settings.dailyHourUtc);
    await this.deps.db.insert(pickupRows(m, due.map((p) => ({ ...p, last_update: now, next_pickup: next }))));
  }

  /** Runs every mapping that is due (one after another); failures are in each mapping's status. */
  async tick(): Promise<void> {
    const { db, settings } = this.deps;
    const [all, states] = await Promise.all([listAllMappings(db), statesOf(db, null)]);
    const now = this.now();
    const due = all.filter((m) => isRunDue(m.def.cadence, historyOf(m, stateFor(states, m)), now, settings.dailyHourUtc, settings.runBackoff));
    await this.runEach(due, (m) => this.run(m.project_id, m.id, 'schedule'), () => undefined);
  }
}

/** The code a failed run records: Salesforce's errorCode, or what kind of failure it was. */
export function errorCode(err: unknown): string {
  if (err instanceof SalesforceError) return err.code;
  if (err instanceof KafkaUnavailableError) return 'KAFKA_UNAVAILABLE';
  const c = (err as { code?: unknown })?.code;
  return typeof c === 'string' && /^[a-z_]+$/i.test(c) ? c : 'INTERNAL';
}
