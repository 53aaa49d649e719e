// What each table already holds, per Kafka partition (and month): read from ClickHouse when a partition is first
// written after an assignment or a failure, then kept up to date in memory as inserts are acknowledged.
import { param, queryRows, sql, tableRef, type ClickHouse } from '@groupscope/clickhouse';
import { MONTHLY, type TableName } from '@groupscope/schema';
import { raise, type Watermarks } from './plan';

/**
 * Reads max(kafka_offset) per Kafka partition (and month, for monthly tables) of `partitions`. A replayed
 * record at or below it was written already. Migration 010's projections answer this without a scan.
 */
export async function readWatermarks(ch: ClickHouse, table: TableName, partitions: number[]): Promise<Watermarks> {
  const month = MONTHLY[table] ? sql`toYYYYMM(event_time)` : sql`0`;
  const rows = await queryRows<{ p: number; m: number; o: number | string }>(
    ch,
    sql`SELECT kafka_partition AS p, ${month} AS m, max(kafka_offset) AS o FROM ${tableRef(ch, table)}
        WHERE kafka_partition IN ${param(partitions, 'Array(UInt32)')} GROUP BY p, m`,
  );
  const out: Watermarks = new Map(partitions.map((p) => [p, new Map()]));
  for (const r of rows) out.get(Number(r.p))?.set(Number(r.m), Number(r.o));
  return out;
}

/** The watermarks of every table, read on demand. */
export class TableWatermarks {
  private known = new Map<TableName, Watermarks>();

  constructor(private readonly ch: ClickHouse) {}

  /** The table's watermarks, with those of `partitions` read from ClickHouse where not known yet. */
  async of(table: TableName, partitions: number[]): Promise<Watermarks> {
    let w = this.known.get(table);
    if (!w) this.known.set(table, (w = new Map()));
    const missing = partitions.filter((p) => !w.has(p));
    if (missing.length === 0) return w;
    const read = await readWatermarks(this.ch, table, missing);
    // forgotten while reading (a new assignment): what was read may predate the new owner's fence, so the
    // next flush reads again; this (stale) flush gets them without keeping them
    const kept = this.known.get(table) === w ? w : new Map(w);
    for (const [p, months] of read) kept.set(p, months);
    return kept;
  }

  /** After an acknowledged insert: the table now holds everything up to `reached`. */
  raise(table: TableName, reached: Watermarks): void {
    const w = this.known.get(table);
    if (!w) return;
    for (const [p, months] of reached) for (const [m, o] of months) raise(w, p, m, o);
  }

  /** Forgets everything: after a failure something may have landed, after a rebalance another writer may have written. */
  forget(): void {
    this.known = new Map();
  }
}
