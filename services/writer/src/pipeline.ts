// The Kafka -> ClickHouse adapter: buffer decoded records per partition, flush by rows or by age, insert, and only
// after ClickHouse acknowledged every insert (and dead letters are in Kafka) commit the partitions' offsets.
//
// Idempotency: a replayed record is skipped when its table already holds a row from the same Kafka partition (and
// month, for monthly tables) with an offset at or above it. That holds because, per partition and month, rows are
// inserted in offset order and each INSERT below ClickHouse's block size commits one part per month atomically.
// The maxima are read when partitions are (re)assigned and after any failure, then kept up to date in memory.
import { randomBytes } from 'node:crypto';
import type { ClickHouse } from '@groupscope/clickhouse';
import { codecs, type Topics } from '@groupscope/events';
import {
  consumerLag,
  createAdmin,
  createProducer,
  runBatchConsumer,
  sendDeadLetters,
  type Admin,
  type BatchContext,
  type DeadLetter,
  type Kafka,
  type KafkaMessage,
  type Producer,
  type RunningConsumer,
} from '@groupscope/kafka';
import type { Logger } from '@groupscope/logger';
import { LineBuffer } from './lines';
import { WANT_EVENTS, WANT_EVENT_GROUPS, changeRows, eventRows, groupLine, type GroupRow, type Row, type TableName } from '@groupscope/schema';
import { EventWriter, groupKeyText, insertLines, readFirstIdentified, readMaxima, type Maxima } from './sink';
import * as m from './metrics';

export interface PipelineOptions {
  ch: ClickHouse;
  kafka: Kafka;
  topics: Topics;
  groupId: string;
  logger: Logger;
  batchRows: number;
  batchMs: number;
  retryMaxMs: number;
  sessionTimeout?: number;
  /** called after every acknowledged INSERT with the number of inserts so far (tests use it to crash on purpose) */
  afterInsert?(inserts: number): void;
  /** the consumer stopped for good (kafkajs gave up): the process should exit and be restarted */
  onFatal?(err: Error): void;
}

interface PartitionBuffer {
  topic: string;
  partition: number;
  /** highest offset consumed into this buffer */
  lastOffset: number;
  records: number;
  /** enriched events: each line feeds both events and event_groups */
  events: LineBuffer | null;
  groups: GroupRow[];
  history: Row[];
  dead: DeadLetter[];
}

/** One INSERT's worth of event lines: slices of partition buffers, and whether any needs each table. */
interface EventChunk {
  ranges: { part: PartitionBuffer; lines: LineBuffer; from: number; to: number }[];
  rows: number;
  bytes: number;
  months: Set<number>;
  events: boolean;
  eventGroups: boolean;
}

const newChunk = (): EventChunk => ({ ranges: [], rows: 0, bytes: 0, months: new Set(), events: false, eventGroups: false });

/** A line about to be inserted: its Kafka position, month, and how many table rows it makes. */
export interface Pending {
  partition: number;
  offset: number;
  month: number;
  line: string;
  rows: number;
}

interface Snapshot {
  parts: PartitionBuffer[];
  generation: number;
  records: number;
  deadSent: boolean;
}

/** Most rows and bytes per INSERT: below ClickHouse's block size, so each insert commits one part per month. */
const MAX_INSERT_ROWS = 200_000;
const MAX_INSERT_BYTES = 64 * 1024 * 1024;
/** ClickHouse refuses an INSERT spanning more than max_partitions_per_insert_block (100) months */
const MAX_INSERT_MONTHS = 50;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class WriterPipeline {
  private readonly log: Logger;
  private buffers = new Map<string, PartitionBuffer>();
  private consumedUpTo = new Map<string, number>();
  private bufferedRecords = 0;
  private oldestAt = 0;
  private generation = 0;
  private rebalancing = false;
  private stopping = false;
  private flushing: Promise<void> | null = null;
  /** a batch of this generation was dropped unwritten: nothing after it may be committed until partitions are reassigned */
  private dropped = false;
  private crashed = false;
  private maxima = new Map<TableName, Maxima>();
  private inserts = 0;
  private consumer: RunningConsumer | null = null;
  private producer: Producer | null = null;
  private admin: Admin | null = null;
  private timers: NodeJS.Timeout[] = [];
  private wake: (() => void) | null = null;
  private readonly events: EventWriter;

  constructor(private readonly o: PipelineOptions) {
    this.log = o.logger.child({ module: 'pipeline' });
    this.events = new EventWriter(o.ch, `writer_scratch_${randomBytes(6).toString('hex')}`);
  }

  running(): boolean {
    return this.consumer !== null && !this.stopping && !this.crashed;
  }

  async start(): Promise<void> {
    this.producer = createProducer(this.o.kafka);
    await this.producer.connect();
    this.consumer = await runBatchConsumer({
      kafka: this.o.kafka,
      groupId: this.o.groupId,
      topics: [this.o.topics.enriched, this.o.topics.groupChanges],
      logger: this.o.logger,
      handlerCommits: true,
      readCommitted: true,
      sessionTimeout: this.o.sessionTimeout,
      handle: (batch) => this.handle(batch),
      onCrash: (err) => {
        this.crashed = true;
        this.log.fatal({ err }, 'writer_consumer_crashed');
        this.o.onFatal?.(err);
      },
      onRevoked: () => {
        this.rebalancing = true;
      },
      onAssigned: (assignment) => {
        // offsets restart from the last commit: what is buffered comes again, and another writer may have written
        this.generation++;
        this.rebalancing = false;
        this.dropped = false;
        this.buffers = new Map();
        this.consumedUpTo = new Map();
        this.bufferedRecords = 0;
        this.maxima = new Map();
        m.recordsBuffered.set(0);
        this.log.info({ assignment, generation: this.generation }, 'partitions_assigned');
      },
    });
    const tick = Math.max(5, Math.min(250, Math.floor(this.o.batchMs / 2)));
    this.timers.push(setInterval(() => this.maybeFlushByAge(), tick));
    this.admin = createAdmin(this.o.kafka);
    await this.admin.connect();
    this.timers.push(setInterval(() => void this.pollLag(), 10_000));
    for (const t of this.timers) t.unref();
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.wake?.();
    await this.flushing; // a flush under way finishes its attempt, without retrying
    // one last flush while the partitions are still ours; what it cannot write is simply not committed
    if (this.bufferedRecords > 0 && !this.rebalancing && !this.dropped) {
      this.startFlush(true);
      await this.flushing;
    }
    await this.consumer?.stop();
    await this.producer?.disconnect();
    await this.admin?.disconnect();
    await this.events.close();
    this.consumer = null;
  }

  // ---- consuming

  private async handle(batch: BatchContext): Promise<void> {
    if (this.stopping) return;
    const key = `${batch.topic}:${batch.partition}`;
    const seen = this.consumedUpTo.get(key) ?? -1;
    let buf = this.buffers.get(key);
    let added = 0;
    for (const msg of batch.messages) {
      const offset = Number(msg.offset);
      if (offset <= seen) continue; // the same batch handed over again
      if (!buf) {
        buf = { topic: batch.topic, partition: batch.partition, lastOffset: -1, records: 0, events: null, groups: [], history: [], dead: [] };
        this.buffers.set(key, buf);
      }
      this.add(buf, msg, offset);
      buf.lastOffset = offset;
      added++;
    }
    if (added === 0) return;
    // a transaction marker after the last message belongs to this batch too: committing past it leaves no lag
    const last = Number(batch.lastOffset ?? -1);
    if (last > buf!.lastOffset) buf!.lastOffset = last;
    this.consumedUpTo.set(key, buf!.lastOffset);
    if (this.bufferedRecords === 0) this.oldestAt = Date.now();
    this.bufferedRecords += added;
    m.recordsBuffered.set(this.bufferedRecords);
    // full: write it; the next batch fills meanwhile. When that one is full too while the first is still being
    // written (or retried: ClickHouse down), hold the fetch loop: at most two batches are ever in memory.
    if (this.bufferedRecords >= this.o.batchRows) this.startFlush();
    while (this.bufferedRecords >= this.o.batchRows && batch.isRunning() && !this.stopping && !this.rebalancing) {
      await this.waitForFlush(batch);
      this.startFlush();
    }
  }

  private add(buf: PartitionBuffer, msg: KafkaMessage, offset: number): void {
    buf.records++;
    const source = { topic: buf.topic, partition: buf.partition, offset: String(offset) };
    const dead = (reason: string, error: string): void => {
      buf.dead.push({ reason, error, stage: 'writer', source, key: msg.key, value: msg.value, headers: msg.headers });
    };
    if (!msg.value) return dead('invalid_record', 'empty record value');
    if (buf.topic === this.o.topics.enriched) {
      let e;
      try {
        e = codecs.enriched.decode(msg.value, msg.headers);
      } catch (err) {
        return dead('decode_error', (err as Error).message);
      }
      const out = eventRows(e, buf.partition, offset);
      if (out.kind === 'invalid') return dead('invalid_record', out.error);
      (buf.events ??= new LineBuffer()).append(out.value.line, offset, out.value.month, out.value.groupRows);
    } else {
      let c;
      try {
        c = codecs.groupChange.decode(msg.value, msg.headers);
      } catch (err) {
        return dead('decode_error', (err as Error).message);
      }
      const out = changeRows(c, buf.partition, offset);
      if (out.kind === 'invalid') return dead('invalid_record', out.error);
      buf.groups.push(out.value.group);
      for (const r of out.value.history) buf.history.push(r);
    }
  }

  private async waitForFlush(batch: BatchContext): Promise<void> {
    while (this.flushing && batch.isRunning() && !this.stopping) {
      const done = this.flushing.then(() => true);
      const settled = await Promise.race([done, sleep(1000).then(() => false)]);
      if (settled) return;
      try {
        await batch.heartbeat();
      } catch (err) {
        // the group is rebalancing: let kafkajs rejoin; what is buffered comes again after the join
        this.log.info({ err }, 'rebalance_while_flushing');
        this.rebalancing = true;
        return;
      }
    }
  }

  // ---- flushing

  private maybeFlushByAge(): void {
    if (this.flushing || this.stopping || this.rebalancing || this.bufferedRecords === 0) return;
    if (Date.now() - this.oldestAt >= this.o.batchMs) this.startFlush();
  }

  private startFlush(final = false): void {
    if (this.flushing || this.bufferedRecords === 0) return;
    if (this.dropped) {
      // an earlier batch was not written: committing this one would skip it; all of it comes again later
      this.buffers = new Map();
      this.bufferedRecords = 0;
      m.recordsBuffered.set(0);
      return;
    }
    const snap: Snapshot = { parts: [...this.buffers.values()], generation: this.generation, records: this.bufferedRecords, deadSent: false };
    this.buffers = new Map();
    this.bufferedRecords = 0;
    m.recordsBuffered.set(0);
    this.flushing = this.flushWithRetry(snap, final).finally(() => {
      this.flushing = null;
    });
  }

  private async flushWithRetry(snap: Snapshot, final: boolean): Promise<void> {
    let delay = 200;
    for (let attempt = 1; ; attempt++) {
      if (this.abandoned(snap) || (this.stopping && !final)) {
        this.dropped = true;
        this.log.info({ records: snap.records, generation: snap.generation }, 'batch_dropped_for_redelivery');
        return;
      }
      try {
        await this.write(snap);
        if (attempt > 1) this.log.info({ attempt, records: snap.records }, 'batch_written_after_retry');
        return;
      } catch (err) {
        this.maxima = new Map(); // something may have landed: read what ClickHouse holds before the next attempt
        m.flushFailures.inc({ stage: (err as { stage?: string }).stage ?? 'clickhouse' });
        if (final) {
          this.dropped = true;
          this.log.warn({ err, records: snap.records }, 'final_flush_failed_not_committed');
          return;
        }
        this.log.warn({ err, attempt, records: snap.records, retry_in_ms: delay }, 'batch_failed_retrying');
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = null;
        delay = Math.min(delay * 2, this.o.retryMaxMs);
      }
    }
  }

  private abandoned(snap: Snapshot): boolean {
    return snap.generation !== this.generation || this.rebalancing;
  }

  private async write(snap: Snapshot): Promise<void> {
    const started = Date.now();
    const written = (await this.writeEvents(snap)) + (await this.writeChanges(snap));
    if (!snap.deadSent) {
      const dead = snap.parts.flatMap((p) => p.dead);
      if (dead.length > 0) {
        try {
          await sendDeadLetters(this.producer!, this.o.topics.dlq, dead);
        } catch (err) {
          throw Object.assign(err as Error, { stage: 'dlq' });
        }
        this.log.warn({ count: dead.length, reasons: [...new Set(dead.map((d) => d.reason))] }, 'records_dead_lettered');
      }
      snap.deadSent = true;
    }
    if (this.abandoned(snap)) throw Object.assign(new Error('partitions revoked before the commit'), { stage: 'rebalance' });
    if (!this.consumer) throw Object.assign(new Error('consumer not started yet'), { stage: 'commit' });
    try {
      await this.consumer.commit(
        snap.parts.map((p) => ({ topic: p.topic, partition: p.partition, offset: String(p.lastOffset + 1) })),
      );
    } catch (err) {
      throw Object.assign(err as Error, { stage: 'commit' });
    }
    m.commitsTotal.inc();
    this.log.debug({ records: snap.records, rows: written, duration_ms: Date.now() - started }, 'batch_written');
  }

  /** Enriched events -> events and event_groups; a line goes to each table that does not hold its offset yet. */
  private async writeEvents(snap: Snapshot): Promise<number> {
    const parts = snap.parts.filter((p) => p.events && p.events.length > 0);
    if (parts.length === 0) return 0;
    const partitions = parts.map((p) => p.partition);
    const maxEvents = await this.maximaFor('events', partitions);
    const maxGroups = await this.maximaFor('event_groups', partitions);
    const skipped = { events: 0, event_groups: 0 };
    // mark each line with the tables that still need it, and cut the lines into inserts
    const plan: EventChunk[] = [];
    let cur: EventChunk = newChunk();
    for (const p of parts) {
      const lines = p.events!;
      const me = maxEvents.get(p.partition);
      const mg = maxGroups.get(p.partition);
      let from = -1;
      const close = (to: number) => {
        if (from >= 0) cur.ranges.push({ part: p, lines, from, to });
        from = -1;
      };
      for (let i = 0; i < lines.length; i++) {
        const month = lines.months[i]!;
        const offset = lines.offsets[i]!;
        const groupRows = lines.groupRows[i]!;
        const e = offset > (me?.get(month) ?? -1);
        const g = groupRows > 0 && offset > (mg?.get(month) ?? -1);
        if (!e) skipped.events++;
        if (!g) skipped.event_groups += groupRows;
        const want = (e ? WANT_EVENTS : 0) | (g ? WANT_EVENT_GROUPS : 0);
        lines.setWant(i, want);
        if (want === 0) {
          close(i);
          continue;
        }
        const rows = Math.max(1, groupRows);
        if (cur.rows + rows > MAX_INSERT_ROWS || cur.bytes >= MAX_INSERT_BYTES || (!cur.months.has(month) && cur.months.size >= MAX_INSERT_MONTHS)) {
          close(i);
          plan.push(cur);
          cur = newChunk();
        }
        if (from < 0) from = i;
        cur.rows += rows;
        cur.bytes += lines.byteLengthOf(i);
        cur.months.add(month);
        cur.events ||= e;
        cur.eventGroups ||= g;
      }
      close(lines.length);
    }
    if (cur.ranges.length > 0) plan.push(cur);
    this.noteSkipped('events', skipped.events);
    this.noteSkipped('event_groups', skipped.event_groups);
    let written = 0;
    for (const chunk of plan) {
      if (this.abandoned(snap)) throw Object.assign(new Error('partitions revoked during the flush'), { stage: 'rebalance' });
      const body = Buffer.concat(chunk.ranges.map((r) => r.lines.slice(r.from, r.to)));
      await this.events.write(body, chunk.events, chunk.eventGroups, (table, seconds) => {
        const bit = table === 'events' ? WANT_EVENTS : WANT_EVENT_GROUPS;
        const maxima = table === 'events' ? maxEvents : maxGroups;
        let n = 0;
        for (const r of chunk.ranges) {
          for (let i = r.from; i < r.to; i++) {
            if (!(r.lines.want(i) & bit)) continue;
            n += table === 'events' ? 1 : r.lines.groupRows[i]!;
            raise(maxima, r.part.partition, r.lines.months[i]!, r.lines.offsets[i]!);
          }
        }
        this.inserted(table, n, seconds);
        written += n;
      });
    }
    return written;
  }

  /** Group changes -> groups (current) and group_property_history. */
  private async writeChanges(snap: Snapshot): Promise<number> {
    let written = 0;
    for (const table of ['groups', 'group_property_history'] as const) {
      const parts = snap.parts.filter((p) => (table === 'groups' ? p.groups : p.history).length > 0);
      if (parts.length === 0) continue;
      const maxima = await this.maximaFor(table, parts.map((p) => p.partition));
      let pending: Pending[] = [];
      let skipped = 0;
      for (const p of parts) {
        const max = maxima.get(p.partition)?.get(0) ?? -1;
        for (const r of table === 'groups' ? p.groups : p.history) {
          if (r.offset <= max) skipped++;
          else pending.push({ partition: p.partition, offset: r.offset, month: 0, line: 'line' in r ? r.line : '', rows: 1 });
        }
      }
      this.noteSkipped(table, skipped);
      if (table === 'groups' && pending.length > 0) pending = await this.groupLines(snap, pending);
      for (const chunk of chunks(pending)) {
        if (this.abandoned(snap)) throw Object.assign(new Error('partitions revoked during the flush'), { stage: 'rebalance' });
        const t0 = performance.now();
        await insertLines(this.o.ch, table, chunk.map((r) => r.line));
        for (const r of chunk) raise(maxima, r.partition, 0, r.offset);
        this.inserted(table, chunk.length, (performance.now() - t0) / 1000);
        written += chunk.length;
      }
    }
    return written;
  }

  private noteSkipped(table: TableName, n: number): void {
    if (n === 0) return;
    m.rowsSkipped.inc({ table }, n);
    this.log.info({ table, skipped: n }, 'replayed_rows_skipped');
  }

  /** After an acknowledged INSERT: metrics, then the test crash hook. */
  private inserted(table: TableName, rows: number, seconds: number): void {
    m.insertDuration.observe({ table }, seconds);
    m.batchRows.observe({ table }, rows);
    m.rowsWritten.inc({ table }, rows);
    this.afterInsert();
  }

  /** Lines of the groups rows, each carrying the earliest first_identified of its group. */
  private async groupLines(snap: Snapshot, pending: Pending[]): Promise<Pending[]> {
    const byOffset = new Map<string, GroupRow>();
    for (const p of snap.parts) for (const g of p.groups) byOffset.set(`${p.partition}:${g.offset}`, g);
    const rows = pending.map((r) => ({ ...r, g: byOffset.get(`${r.partition}:${r.offset}`)! }));
    const first = await readFirstIdentified(this.o.ch, rows.map((r) => r.g.key));
    return rows.map((r) => {
      const k = groupKeyText(r.g.key);
      const t = Math.min(first.get(k) ?? Number.POSITIVE_INFINITY, r.g.updatedAt);
      first.set(k, t);
      return { partition: r.partition, offset: r.offset, month: 0, line: groupLine(r.g, t), rows: 1 };
    });
  }

  private async maximaFor(table: TableName, partitions: number[]): Promise<Maxima> {
    let known = this.maxima.get(table);
    if (!known) this.maxima.set(table, (known = new Map()));
    const missing = partitions.filter((p) => !known!.has(p));
    if (missing.length > 0) {
      const read = await readMaxima(this.o.ch, table, missing);
      for (const [p, months] of read) known.set(p, months);
    }
    return known;
  }

  private afterInsert(): void {
    this.inserts++;
    this.o.afterInsert?.(this.inserts);
  }

  private async pollLag(): Promise<void> {
    if (!this.admin || this.stopping) return;
    for (const topic of [this.o.topics.enriched, this.o.topics.groupChanges]) {
      try {
        m.consumerLagGauge.set({ topic }, await consumerLag(this.admin, this.o.groupId, topic));
      } catch (err) {
        this.log.debug({ err, topic }, 'lag_poll_failed');
      }
    }
  }
}

function raise(maxima: Maxima, partition: number, month: number, offset: number): void {
  let pm = maxima.get(partition);
  if (!pm) maxima.set(partition, (pm = new Map()));
  if (offset > (pm.get(month) ?? -1)) pm.set(month, offset);
}

/** Splits lines into inserts by rows, bytes and months, never separating the rows of one Kafka record. */
export function chunks<T extends Pending>(rows: T[]): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let count = 0;
  let bytes = 0;
  let months = new Set<number>();
  for (const r of rows) {
    const full = count + r.rows > MAX_INSERT_ROWS || bytes >= MAX_INSERT_BYTES || (!months.has(r.month) && months.size >= MAX_INSERT_MONTHS);
    if (full && cur.length > 0) {
      out.push(cur);
      cur = [];
      count = 0;
      bytes = 0;
      months = new Set();
    }
    cur.push(r);
    count += r.rows;
    bytes += r.line.length;
    months.add(r.month);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
