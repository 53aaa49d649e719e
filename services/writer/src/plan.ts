// Planning a flush, with no I/O: which buffered rows each table still needs (a row at or below the table's
// offset watermark for its Kafka partition and month is there already), and how they are cut into INSERTs.
//
// The watermark test is sound because, per partition and month, rows are inserted in offset order and each
// INSERT stays below ClickHouse's block size, so it commits one part per month atomically: a table never holds
// a row of an offset without holding every row before it.
import { WANT_EVENTS, WANT_EVENT_GROUPS } from '@groupscope/schema';

/** Highest Kafka offset a table holds, per Kafka partition and month (0 for tables not partitioned by month). */
export type Watermarks = Map<number, Map<number, number>>;

/** Most rows, bytes and months per INSERT: below ClickHouse's block size and its max_partitions_per_insert_block (100). */
export interface InsertLimits {
  rows: number;
  bytes: number;
  months: number;
}

export const INSERT_LIMITS: InsertLimits = { rows: 200_000, bytes: 64 * 1024 * 1024, months: 50 };

export function watermark(w: Watermarks | undefined, partition: number, month: number): number {
  return w?.get(partition)?.get(month) ?? -1;
}

/** Raises a watermark to `offset` (never lowers it). */
export function raise(w: Watermarks, partition: number, month: number, offset: number): void {
  let months = w.get(partition);
  if (!months) w.set(partition, (months = new Map()));
  if (offset > (months.get(month) ?? -1)) months.set(month, offset);
}

/** The size of the INSERT being filled, and whether a record's rows may still join it. */
class InsertSize {
  rows = 0;
  bytes = 0;
  months = new Set<number>();

  constructor(private readonly limits: InsertLimits) {}

  /** False when `rows` more rows (of one record: never split) in `month` would pass a limit of a non-empty insert. */
  fits(rows: number, month: number): boolean {
    if (this.rows === 0) return true;
    return !(this.rows + rows > this.limits.rows || this.bytes >= this.limits.bytes || (!this.months.has(month) && this.months.size >= this.limits.months));
  }

  add(rows: number, bytes: number, month: number): void {
    this.rows += rows;
    this.bytes += bytes;
    this.months.add(month);
  }
}

/** A line about to be inserted into `groups` or `group_property_history`. */
export interface PendingLine {
  partition: number;
  offset: number;
  month: number;
  line: string;
  /** table rows the line makes */
  rows: number;
}

/** Splits lines into INSERTs by rows, bytes and months, in order. */
export function chunks<T extends PendingLine>(lines: T[], limits: InsertLimits = INSERT_LIMITS): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let size = new InsertSize(limits);
  for (const l of lines) {
    if (!size.fits(l.rows, l.month)) {
      out.push(cur);
      cur = [];
      size = new InsertSize(limits);
    }
    cur.push(l);
    size.add(l.rows, l.line.length, l.month);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Rows of one partition that the watermark does not cover yet, and how many it does. */
export function unwritten<T extends { offset: number }>(rows: T[], w: Watermarks | undefined, partition: number): { pending: T[]; skipped: number } {
  const max = watermark(w, partition, 0);
  const pending = rows.filter((r) => r.offset > max);
  return { pending, skipped: rows.length - pending.length };
}

/** What the planner needs to know of a partition's buffered event lines (LineBuffer has it). */
export interface EventLines {
  readonly length: number;
  readonly offsets: readonly number[];
  readonly months: readonly number[];
  /** event_groups rows of each line */
  readonly groupRows: readonly number[];
  byteLengthOf(i: number): number;
}

/** One INSERT of event lines: consecutive lines of the parts, and what each table gets from them. */
export interface EventInsert {
  /** lines [from, to) of parts[part] */
  ranges: { part: number; from: number; to: number }[];
  /** rows each table receives (0: that table's INSERT is not needed) */
  rows: { events: number; event_groups: number };
  /** the watermarks each table reaches once its rows are in */
  reaches: { events: Watermarks; event_groups: Watermarks };
}

export interface EventPlan {
  inserts: EventInsert[];
  /** per part, per line: the tables that still need it (WANT_EVENTS | WANT_EVENT_GROUPS bits) */
  wants: Uint8Array[];
  skipped: { events: number; event_groups: number };
}

/**
 * Plans the INSERTs of the enriched events buffered for `parts`: every line goes to each table whose watermark
 * is below it (events, and event_groups when it has group rows), and the lines are cut into INSERTs by their
 * rows (max(1, group rows)), bytes and months.
 */
export function planEvents(
  parts: { partition: number; lines: EventLines }[],
  events: Watermarks,
  eventGroups: Watermarks,
  limits: InsertLimits = INSERT_LIMITS,
): EventPlan {
  const plan: EventPlan = { inserts: [], wants: [], skipped: { events: 0, event_groups: 0 } };
  const next = (): EventInsert => ({ ranges: [], rows: { events: 0, event_groups: 0 }, reaches: { events: new Map(), event_groups: new Map() } });
  let cur = next();
  let size = new InsertSize(limits);
  parts.forEach(({ partition, lines }, part) => {
    const wants = new Uint8Array(lines.length);
    plan.wants.push(wants);
    let from = -1;
    const close = (to: number) => {
      if (from >= 0) cur.ranges.push({ part, from, to });
      from = -1;
    };
    for (let i = 0; i < lines.length; i++) {
      const month = lines.months[i]!;
      const offset = lines.offsets[i]!;
      const groupRows = lines.groupRows[i]!;
      const e = offset > watermark(events, partition, month);
      const g = groupRows > 0 && offset > watermark(eventGroups, partition, month);
      if (!e) plan.skipped.events++;
      if (!g) plan.skipped.event_groups += groupRows;
      const want = (e ? WANT_EVENTS : 0) | (g ? WANT_EVENT_GROUPS : 0);
      wants[i] = want;
      if (want === 0) {
        close(i);
        continue;
      }
      const rows = Math.max(1, groupRows);
      if (!size.fits(rows, month)) {
        close(i);
        plan.inserts.push(cur);
        cur = next();
        size = new InsertSize(limits);
      }
      if (from < 0) from = i;
      size.add(rows, lines.byteLengthOf(i), month);
      if (e) {
        cur.rows.events++;
        raise(cur.reaches.events, partition, month, offset);
      }
      if (g) {
        cur.rows.event_groups += groupRows;
        raise(cur.reaches.event_groups, partition, month, offset);
      }
    }
    close(lines.length);
  });
  if (cur.ranges.length > 0) plan.inserts.push(cur);
  return plan;
}
