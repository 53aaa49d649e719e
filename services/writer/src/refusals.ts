// Rows ClickHouse refuses for what they hold. An INSERT that fails for a data reason (a value ClickHouse cannot
// parse or hold: see classifyFailure) is split in halves and each half tried again, down to single records; a
// record refused on its own is dead-lettered with ClickHouse's reason and the rest of the batch is stored once.
// Infrastructure failures are not split: they stall the flush, which retries the whole batch (nothing is lost, and
// a transient error can never make a good record look bad, since a record is refused only when it fails alone).
//
// Splitting keeps offset order (the left half first), so the watermarks stay sound: per partition and month a table
// holds every record up to its watermark except those dead-lettered. A refused record is not inserted again on a
// retry of the same flush, and its letter is published once with the flush's other dead letters.
import { classifyFailure, type Failure } from '@groupscope/clickhouse';
import type { DeadLetter, KafkaMessage } from '@groupscope/kafka';
import { WANT_EVENTS, WANT_EVENT_GROUPS, type TableName } from '@groupscope/schema';
import type { PartitionBuffer } from './buffer';
import * as m from './metrics';
import { raise, type Watermarks } from './plan';

/**
 * Inserts `items` with `insert`. When ClickHouse refuses them for a data reason, each half is inserted the same way,
 * in order, down to single items, which go to `refuse`. Any other failure is thrown.
 */
export async function insertIsolating<T>(items: readonly T[], insert: (items: readonly T[]) => Promise<void>, refuse: (item: T, failure: Failure) => void): Promise<void> {
  if (items.length === 0) return;
  try {
    await insert(items);
  } catch (err) {
    const failure = classifyFailure(err);
    if (failure.kind !== 'data') throw err;
    if (items.length === 1) return refuse(items[0]!, failure);
    const mid = Math.ceil(items.length / 2);
    await insertIsolating(items.slice(0, mid), insert, refuse);
    await insertIsolating(items.slice(mid), insert, refuse);
  }
}

/** The message of `offset` in a partition's buffer (records are buffered in offset order). */
function messageAt(part: PartitionBuffer, offset: number): KafkaMessage | undefined {
  const list = part.messages;
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const o = Number(list[mid]!.offset);
    if (o === offset) return list[mid];
    if (o < offset) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** The records of one flush that ClickHouse refused, as dead letters (one per record, whichever tables refused it). */
export class Refusals {
  private readonly letters = new Map<string, DeadLetter>();
  private readonly sent = new Set<string>();

  private static key(topic: string, partition: number, offset: number): string {
    return `${topic}\u0000${partition}\u0000${offset}`;
  }

  has(part: PartitionBuffer, offset: number): boolean {
    return this.letters.has(Refusals.key(part.topic, part.partition, offset));
  }

  add(part: PartitionBuffer, offset: number, table: TableName, failure: Failure): void {
    const key = Refusals.key(part.topic, part.partition, offset);
    if (this.letters.has(key)) return;
    const msg = messageAt(part, offset);
    const what = failure.name ?? (failure.code === undefined ? 'error' : `code ${failure.code}`);
    this.letters.set(key, {
      reason: 'storage_refused',
      error: `ClickHouse refused the ${table} row: ${what}: ${failure.message}`,
      stage: 'writer',
      source: { topic: part.topic, partition: part.partition, offset: String(offset) },
      key: msg?.key ?? null,
      value: msg?.value ?? null,
      headers: { ...(msg?.headers ?? {}), 'dlq-table': table, ...(failure.code === undefined ? {} : { 'dlq-clickhouse-code': String(failure.code) }) },
    });
    m.rowsRefused.inc({ table, code: String(failure.code ?? '') });
  }

  get size(): number {
    return this.letters.size;
  }

  /** Letters not published yet. */
  unsent(): DeadLetter[] {
    return [...this.letters].filter(([k]) => !this.sent.has(k)).map(([, d]) => d);
  }

  /** Everything unsent so far was published. */
  markSent(): void {
    for (const k of this.letters.keys()) this.sent.add(k);
  }
}

/** One buffered event line: line `i` of `parts[part]`. */
interface LineRef {
  part: number;
  i: number;
}

type EventTable = 'events' | 'event_groups';

export interface EventLinesContext {
  /** one INSERT of event lines into one table (each line's `want` bits say whether the table takes it), from `partitions` */
  insert(table: EventTable, body: Buffer, partitions: readonly number[]): Promise<void>;
  refusals: Refusals;
  /** the table now holds everything up to `reached`, `rows` more rows */
  acknowledged(table: EventTable, reached: Watermarks, rows: number, seconds: number): void;
  /** throws when the flush must stop before its next INSERT */
  checkCurrent(): void;
}

const BITS = { events: WANT_EVENTS, event_groups: WANT_EVENT_GROUPS } as const;

/**
 * Inserts planned event lines (`ranges` of `parts`, each line's `want` bits naming the tables that still need it)
 * into events and event_groups, isolating lines ClickHouse refuses. A table's bit is cleared on a line once the
 * table acknowledged it, so a half tried again only goes to the tables still missing it.
 */
export async function insertEventsIsolating(
  ctx: EventLinesContext,
  parts: { buffer: PartitionBuffer; lines: NonNullable<PartitionBuffer['events']> }[],
  ranges: readonly { part: number; from: number; to: number }[],
): Promise<void> {
  const refs: LineRef[] = [];
  for (const r of ranges) {
    const { buffer, lines } = parts[r.part]!;
    for (let i = r.from; i < r.to; i++) {
      // refused by an earlier attempt of this flush: not tried again
      if (ctx.refusals.has(buffer, lines.offsets[i]!)) lines.setWant(i, 0);
      else if (lines.want(i) !== 0) refs.push({ part: r.part, i });
    }
  }
  let failedTable: EventTable = 'events';
  await insertIsolating(
    refs,
    async (items) => {
      ctx.checkCurrent();
      const tables = (['events', 'event_groups'] as const).filter((t) => items.some((x) => (parts[x.part]!.lines.want(x.i) & BITS[t]) !== 0));
      if (tables.length === 0) return;
      const rows = { events: 0, event_groups: 0 };
      const reaches: Record<'events' | 'event_groups', Watermarks> = { events: new Map(), event_groups: new Map() };
      const chunks: Buffer[] = [];
      let run: { part: number; from: number; to: number } | null = null;
      for (const x of items) {
        const { buffer, lines } = parts[x.part]!;
        const want = lines.want(x.i);
        if (want & WANT_EVENTS) {
          rows.events++;
          raise(reaches.events, buffer.partition, lines.months[x.i]!, lines.offsets[x.i]!);
        }
        if (want & WANT_EVENT_GROUPS) {
          rows.event_groups += lines.groupRows[x.i]!;
          raise(reaches.event_groups, buffer.partition, lines.months[x.i]!, lines.offsets[x.i]!);
        }
        // consecutive lines of one partition travel as one slice of its buffer
        if (run && run.part === x.part && run.to === x.i) run.to++;
        else {
          if (run) chunks.push(parts[run.part]!.lines.slice(run.from, run.to));
          run = { part: x.part, from: x.i, to: x.i + 1 };
        }
      }
      if (run) chunks.push(parts[run.part]!.lines.slice(run.from, run.to));
      const body = Buffer.concat(chunks);
      const partitions = [...new Set(items.map((x) => parts[x.part]!.buffer.partition))];
      for (const table of tables) {
        failedTable = table;
        const t0 = performance.now();
        await ctx.insert(table, body, partitions);
        // the table holds these lines now: a half tried again goes only to the tables still missing them
        for (const x of items) {
          const lines = parts[x.part]!.lines;
          lines.setWant(x.i, lines.want(x.i) & ~BITS[table]);
        }
        ctx.acknowledged(table, reaches[table], rows[table], (performance.now() - t0) / 1000);
      }
    },
    (x, failure) => {
      const { buffer, lines } = parts[x.part]!;
      lines.setWant(x.i, 0);
      ctx.refusals.add(buffer, lines.offsets[x.i]!, failedTable, failure);
    },
  );
}
