// The ClickHouse side of the writer: what was already written (per Kafka partition and month), pre-encoded
// inserts, and the first_identified lookup for group rows.
import { Readable } from 'node:stream';
import { param, queryRows, sql, trusted, type ClickHouse } from '@groupscope/clickhouse';
import { COLUMNS, EVENT_INPUT, type GroupKey, type TableName } from '@groupscope/schema';

/** Highest Kafka offset written per (kafka_partition, month) of one table. */
export type Maxima = Map<number, Map<number, number>>;

/** Tables partitioned by month; a multi-month INSERT commits one part per month, each atomically. */
const MONTHLY: Record<TableName, boolean> = { events: true, event_groups: true, groups: false, group_property_history: false };

/**
 * Reads max(kafka_offset) per Kafka partition (and month, for monthly tables) of `partitions`. A replayed
 * record at or below it was written already. Migration 010's projections answer this without a scan.
 */
export async function readMaxima(ch: ClickHouse, table: TableName, partitions: number[]): Promise<Maxima> {
  const month = MONTHLY[table] ? sql`toYYYYMM(event_time)` : sql`0`;
  const rows = await queryRows<{ p: number; m: number; o: number | string }>(
    ch,
    sql`SELECT kafka_partition AS p, ${month} AS m, max(kafka_offset) AS o FROM ${trusted(ch.table(table))}
        WHERE kafka_partition IN ${param(partitions, 'Array(UInt32)')} GROUP BY p, m`,
  );
  const out: Maxima = new Map(partitions.map((p) => [p, new Map()]));
  for (const r of rows) out.get(Number(r.p))?.set(Number(r.m), Number(r.o));
  return out;
}

/** The event line's columns, as ClickHouse reads them. */
const LINE_STRUCTURE = EVENT_INPUT.map(([name, type]) => `${name} ${type}`).join(', ');
const EVENT_COLUMNS = EVENT_INPUT.map(([name]) => name);

/** event_groups columns in order, from an event line and one of its group_rows entries `g`. */
function eventGroupsSelect(): string {
  const from: Record<string, string> = { group_type: 'g.1', group_value: 'g.2', group_properties: 'g.3', all_group_properties: 'group_properties' };
  return COLUMNS.event_groups
    .map((c) => {
      const expr = from[c] ?? (EVENT_COLUMNS.includes(c) ? c : undefined);
      if (!expr) throw new Error(`event_groups column ${c} has no source in the event line`);
      return expr;
    })
    .join(', ');
}

/**
 * Writes event lines to both `events` and `event_groups`, each line parsed ONCE by ClickHouse: into a temporary
 * Memory table (chDB), or by `input()` on a server (where it reads the request body; no session needed). ClickHouse
 * then makes the event_groups rows itself (ARRAY JOIN group_rows). Each target gets one INSERT ... SELECT, atomic
 * per month as a plain INSERT is; `afterInsert` runs after each acknowledged one.
 */
export class EventWriter {
  private scratchReady = false;

  constructor(
    private readonly ch: ClickHouse,
    /** this writer's temporary table (chDB): unique per instance, since tests run several in one process */
    private readonly scratch: string,
  ) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(scratch)) throw new Error(`invalid scratch table name ${scratch}`);
  }

  /** `body`: event lines; `wantEvents`/`wantGroups`: whether any of them has that bit of `want` set. */
  async write(
    body: Buffer,
    wantEvents: boolean,
    wantGroups: boolean,
    afterInsert: (table: 'events' | 'event_groups', seconds: number) => void,
  ): Promise<void> {
    if (!wantEvents && !wantGroups) return;
    const targets: ['events' | 'event_groups', string][] = [];
    const embedded = this.ch.kind === 'embedded';
    const source = embedded ? this.scratch : `input('${LINE_STRUCTURE}')`;
    const format = embedded ? '' : ' FORMAT JSONCompactEachRow';
    if (wantEvents) {
      targets.push(['events', `INSERT INTO ${this.ch.table('events')} (${COLUMNS.events.join(', ')}) SELECT ${COLUMNS.events.join(', ')} FROM ${source} WHERE bitTest(want, 0) SETTINGS max_insert_threads = 1${format}`]);
    }
    if (wantGroups) {
      targets.push(['event_groups', `INSERT INTO ${this.ch.table('event_groups')} (${COLUMNS.event_groups.join(', ')}) SELECT ${eventGroupsSelect()} FROM ${source} ARRAY JOIN group_rows AS g WHERE bitTest(want, 1) SETTINGS max_insert_threads = 1${format}`]);
    }
    if (embedded) {
      if (!this.scratchReady) {
        await this.command(`CREATE TEMPORARY TABLE IF NOT EXISTS ${this.scratch} (${LINE_STRUCTURE}) ENGINE = Memory`);
        this.scratchReady = true;
      }
      await this.command(`TRUNCATE TABLE ${this.scratch}`);
      await this.send(`INSERT INTO ${this.scratch} FORMAT JSONCompactEachRow`, body);
      for (const [table, query] of targets) {
        const t0 = performance.now();
        await this.command(query);
        afterInsert(table, (performance.now() - t0) / 1000);
      }
      await this.command(`TRUNCATE TABLE ${this.scratch}`);
    } else {
      for (const [table, query] of targets) {
        const t0 = performance.now();
        await this.send(query, body);
        afterInsert(table, (performance.now() - t0) / 1000);
      }
    }
  }

  /** Frees the temporary table (chDB keeps it for the life of the process otherwise). */
  async close(): Promise<void> {
    if (this.ch.kind === 'embedded' && this.scratchReady) await this.command(`DROP TEMPORARY TABLE IF EXISTS ${this.scratch}`).catch(() => undefined);
  }

  private async command(query: string): Promise<void> {
    try {
      await this.ch.client.command({ query });
    } catch (err) {
      this.scratchReady = false; // e.g. a lost chDB session: create it again on the next attempt
      throw err;
    }
  }

  private send(query: string, body: Buffer): Promise<void> {
    return execWithBody(this.ch, query, body);
  }
}

/**
 * Runs an INSERT whose rows follow as the body. `exec` sends them as the request body (a server) or inline after
 * the statement (chDB), so nothing re-encodes them on the way.
 */
async function execWithBody(ch: ClickHouse, query: string, body: Buffer): Promise<void> {
  const res = await ch.client.exec({ query, values: Readable.from([body], { objectMode: false }) });
  // the (empty) response must be read, or a server connection stays busy
  res.stream.resume();
  await new Promise<void>((resolve, reject) => {
    res.stream.once('end', resolve);
    res.stream.once('close', resolve);
    res.stream.once('error', reject);
  });
}

/** Inserts pre-encoded JSONCompactEachRow lines of the groups or group_property_history table. */
export async function insertLines(ch: ClickHouse, table: 'groups' | 'group_property_history', lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  await execWithBody(ch, `INSERT INTO ${ch.table(table)} (${COLUMNS[table].join(', ')}) FORMAT JSONCompactEachRow`, Buffer.from(lines.join('')));
}

/** Earliest first_identified already stored for each group (groups not stored yet are absent). */
export async function readFirstIdentified(ch: ClickHouse, keys: GroupKey[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (keys.length === 0) return out;
  // a superset by each column (portable bound parameters, still an index range), matched exactly below
  const uniq = <T>(xs: T[]) => [...new Set(xs)];
  const rows = await queryRows<{ project_id: number; group_type: string; group_value: string; t: number | string }>(
    ch,
    sql`SELECT project_id, group_type, group_value, toUnixTimestamp64Milli(min(first_identified)) AS t
        FROM ${trusted(ch.table('groups'))}
        WHERE project_id IN ${param(uniq(keys.map((k) => k.project_id)), 'Array(UInt32)')}
          AND group_type IN ${param(uniq(keys.map((k) => k.group_type)), 'Array(String)')}
          AND group_value IN ${param(uniq(keys.map((k) => k.group_value)), 'Array(String)')}
        GROUP BY project_id, group_type, group_value`,
  );
  const wanted = new Set(keys.map(groupKeyText));
  for (const r of rows) {
    const k = groupKeyText(r);
    if (wanted.has(k)) out.set(k, Number(r.t));
  }
  return out;
}

export function groupKeyText(k: GroupKey): string {
  return JSON.stringify([Number(k.project_id), k.group_type, k.group_value]);
}
