// The ClickHouse side of the writer: what was already written (per Kafka partition and month), pre-encoded
// inserts, and the first_identified lookup for group rows.
import { Readable } from 'node:stream';
import { param, queryRows, sql, trusted, type ClickHouse } from '@groupscope/clickhouse';
import { COLUMNS, type GroupKey, type TableName } from './rows';

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

/**
 * Inserts pre-encoded JSONCompactEachRow lines. `exec` sends the rows as the request body (a server) or inline
 * after the statement (chDB), so nothing re-encodes them on the way.
 */
export async function insertLines(ch: ClickHouse, table: TableName, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  const body = Buffer.from(lines.join(''));
  const res = await ch.client.exec({
    query: `INSERT INTO ${ch.table(table)} (${COLUMNS[table].join(', ')}) FORMAT JSONCompactEachRow`,
    values: Readable.from([body], { objectMode: false }),
  });
  // the (empty) response must be read, or a server connection stays busy
  res.stream.resume();
  await new Promise<void>((resolve, reject) => {
    res.stream.once('end', resolve);
    res.stream.once('close', resolve);
    res.stream.once('error', reject);
  });
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
