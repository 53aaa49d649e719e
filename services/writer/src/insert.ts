// Fourth stage: the planned INSERTs, against ClickHouse. Event lines feed both `events` and `event_groups`
// (insertEventLines of @groupscope/clickhouse); group changes go to `groups` (with the earliest first_identified of
// the group) and `group_property_history`. After each acknowledged INSERT the table's watermarks rise and
// `inserted` is told. Every INSERT is fenced by the writer's token for its partitions (fence.ts).
import { insertEventLines, insertLines, param, queryRows, sql, tableRef, type ClickHouse, type Failure } from '@groupscope/clickhouse';
import { COLUMNS, groupLine, type GroupKey, type TableName } from '@groupscope/schema';
import type { PartitionBuffer } from './buffer';
import { chunks, planEvents, raise, unwritten, type PendingLine, type Watermarks } from './plan';
import { insertEventsIsolating, insertIsolating, type Refusals } from './refusals';
import type { TableWatermarks } from './watermarks';

export interface InsertHooks {
  /** rows already in a table, not written again */
  skipped(table: TableName, rows: number): void;
  /** an INSERT was acknowledged */
  inserted(table: TableName, rows: number, seconds: number): void;
  /** called synchronously right before each INSERT is sent: a test entry point's hook (never production config) */
  beforeInsert?(table: TableName): void;
}

/** Throws when the flush must stop before its next INSERT (its partitions were revoked). */
export type CheckCurrent = () => void;

/** Earliest first_identified already stored for each group (groups not stored yet are absent). */
async function readFirstIdentified(ch: ClickHouse, keys: GroupKey[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (keys.length === 0) return out;
  // a superset by each column (portable bound parameters, still an index range), matched exactly below
  const uniq = <T>(xs: T[]) => [...new Set(xs)];
  const rows = await queryRows<{ project_id: number; group_type: string; group_value: string; t: number | string }>(
    ch,
    sql`SELECT project_id, group_type, group_value, toUnixTimestamp64Milli(min(first_identified)) AS t
        FROM ${tableRef(ch, 'groups')}
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

const groupKeyText = (k: GroupKey): string => JSON.stringify([Number(k.project_id), k.group_type, k.group_value]);

export class Inserter {
  constructor(
    private readonly ch: ClickHouse,
    private readonly watermarks: TableWatermarks,
    private readonly hooks: InsertHooks,
  ) {}

  /**
   * Enriched events -> events and event_groups (rows ClickHouse refuses go to `refusals`); returns the rows written.
   * Every INSERT is fenced by `token` (fence.ts): it fails when another writer took one of its partitions.
   */
  async events(parts: PartitionBuffer[], checkCurrent: CheckCurrent, refusals: Refusals, token: string): Promise<number> {
    const withLines = parts.filter((p) => p.events && p.events.length > 0).map((p) => ({ partition: p.partition, lines: p.events!, buffer: p }));
    if (withLines.length === 0) return 0;
    const partitions = withLines.map((p) => p.partition);
    const plan = planEvents(withLines, await this.watermarks.of('events', partitions), await this.watermarks.of('event_groups', partitions));
    this.hooks.skipped('events', plan.skipped.events);
    this.hooks.skipped('event_groups', plan.skipped.event_groups);
    plan.wants.forEach((wants, part) => wants.forEach((w, i) => withLines[part]!.lines.setWant(i, w)));
    let written = 0;
    const topic = withLines[0]!.buffer.topic;
    const ctx = {
      insert: (table: 'events' | 'event_groups', body: Buffer, partitions: readonly number[]) => {
        this.hooks.beforeInsert?.(table);
        return insertEventLines(this.ch, table, body, { topic, partitions, token });
      },
      refusals,
      checkCurrent,
      acknowledged: (table: 'events' | 'event_groups', reached: Watermarks, rows: number, seconds: number) => {
        this.watermarks.raise(table, reached);
        this.hooks.inserted(table, rows, seconds);
        written += rows;
      },
    };
    for (const insert of plan.inserts) await insertEventsIsolating(ctx, withLines, insert.ranges);
    return written;
  }

  /**
   * Group changes -> groups (current) and group_property_history (refused rows go to `refusals`); returns the rows
   * written. Fenced by `token` like the events.
   */
  async changes(parts: PartitionBuffer[], checkCurrent: CheckCurrent, refusals: Refusals, token: string): Promise<number> {
    const fence = { topic: parts.find((p) => p.groups.length > 0 || p.history.length > 0)?.topic ?? '', token };
    const byPartition = new Map(parts.filter((p) => p.groups.length > 0 || p.history.length > 0).map((p) => [p.partition, p]));
    const refuse = (table: TableName) => (l: PendingLine, failure: Failure) => refusals.add(byPartition.get(l.partition)!, l.offset, table, failure);
    let written = 0;
    const groups = await this.pending('groups', parts, (p) => p.groups);
    if (groups.length > 0) {
      const first = await readFirstIdentified(this.ch, groups.map((g) => g.row.key));
      const lines = groups.map(({ partition, row }) => {
        // the earliest time the group was seen: stored, or earlier in this batch
        const k = groupKeyText(row.key);
        const t = Math.min(first.get(k) ?? Number.POSITIVE_INFINITY, row.updatedAt);
        first.set(k, t);
        return { partition, offset: row.offset, month: 0, line: groupLine(row, t), rows: 1 };
      });
      written += await this.insertChanges('groups', lines, checkCurrent, refuse('groups'), fence);
    }
    const history = await this.pending('group_property_history', parts, (p) => p.history);
    const historyLines = history.map(({ partition, row }) => ({ partition, offset: row.offset, month: 0, line: row.line, rows: 1 }));
    written += await this.insertChanges('group_property_history', historyLines, checkCurrent, refuse('group_property_history'), fence);
    return written;
  }

  /** The rows of `table` the table does not hold yet, with their partition. */
  private async pending<T extends { offset: number }>(table: TableName, parts: PartitionBuffer[], rowsOf: (p: PartitionBuffer) => T[]) {
    const sources = parts.filter((p) => rowsOf(p).length > 0);
    if (sources.length === 0) return [];
    const marks = await this.watermarks.of(table, sources.map((p) => p.partition));
    const out: { partition: number; row: T }[] = [];
    let skipped = 0;
    for (const p of sources) {
      const u = unwritten(rowsOf(p), marks, p.partition);
      skipped += u.skipped;
      for (const row of u.pending) out.push({ partition: p.partition, row });
    }
    this.hooks.skipped(table, skipped);
    return out;
  }

  private async insertChanges(
    table: 'groups' | 'group_property_history',
    lines: PendingLine[],
    checkCurrent: CheckCurrent,
    refuse: (line: PendingLine, failure: Failure) => void,
    fence: { topic: string; token: string },
  ): Promise<number> {
    let written = 0;
    const insert = async (chunk: readonly PendingLine[]) => {
      checkCurrent();
      const t0 = performance.now();
      const partitions = [...new Set(chunk.map((r) => r.partition))];
      this.hooks.beforeInsert?.(table);
      await insertLines(this.ch, table, COLUMNS[table], chunk.map((r) => r.line), { fence: { ...fence, partitions } });
      const reached: Watermarks = new Map();
      for (const r of chunk) raise(reached, r.partition, 0, r.offset);
      this.watermarks.raise(table, reached);
      this.hooks.inserted(table, chunk.length, (performance.now() - t0) / 1000);
      written += chunk.length;
    };
    for (const chunk of chunks(lines)) await insertIsolating(chunk, insert, refuse);
    return written;
  }
}
