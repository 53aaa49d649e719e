// The Kafka -> ClickHouse adapter: buffer decoded records per partition, flush by rows or by age, insert, and only
// after ClickHouse acknowledged every insert (and dead letters are in Kafka) commit the partitions' offsets.
//
// Idempotency: a replayed record is skipped when its table already holds a row from the same Kafka partition (and
// month, for monthly tables) with an offset at or above it. That holds because, per partition and month, rows are
// inserted in offset order and each INSERT below ClickHouse's block size commits one part per month atomically.
// The maxima are read when partitions are (re)assigned and after any failure, then kept up to date in memory.
import { writeSync } from 'node:fs';
import type { ClickHouse } from '@groupscope/clickhouse';
import { codecs, type Topics } from '@groupscope/events';
import {
  consumerLag,
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
import { changeRows, eventRows, groupLine, type GroupRow, type Row, type TableName } from './rows';
import { groupKeyText, insertLines, readFirstIdentified, readMaxima, type Maxima } from './sink';
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
  /** test hook: SIGKILL the process after this many acknowledged inserts, before the commit */
  crashAfterInserts?: number;
}

interface PartitionBuffer {
  topic: string;
  partition: number;
  /** highest offset consumed into this buffer */
  lastOffset: number;
  records: number;
  events: Row[];
  eventGroups: Row[];
  groups: GroupRow[];
  history: Row[];
  dead: DeadLetter[];
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
const TABLE_ORDER: TableName[] = ['events', 'event_groups', 'groups', 'group_property_history'];

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
  private maxima = new Map<TableName, Maxima>();
  private inserts = 0;
  private consumer: RunningConsumer | null = null;
  private producer: Producer | null = null;
  private admin: Admin | null = null;
  private timers: NodeJS.Timeout[] = [];
  private wake: (() => void) | null = null;

  constructor(private readonly o: PipelineOptions) {
    this.log = o.logger.child({ module: 'pipeline' });
  }

  running(): boolean {
    return this.consumer !== null && !this.stopping;
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
      onCrash: (err) => this.log.fatal({ err }, 'writer_consumer_crashed'),
    });
    const c = this.consumer.consumer;
    c.on(c.events.REBALANCING, () => {
      this.rebalancing = true;
    });
    c.on(c.events.GROUP_JOIN, (e) => {
      // offsets restart from the last commit: what is buffered comes again, and another writer may have written
      this.generation++;
      this.rebalancing = false;
      this.buffers = new Map();
      this.consumedUpTo = new Map();
      this.bufferedRecords = 0;
      this.maxima = new Map();
      m.recordsBuffered.set(0);
      this.log.info({ assignment: e.payload.memberAssignment, generation: this.generation }, 'partitions_assigned');
    });
    const tick = Math.max(5, Math.min(250, Math.floor(this.o.batchMs / 2)));
    this.timers.push(setInterval(() => this.maybeFlushByAge(), tick));
    this.admin = this.o.kafka.admin();
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
    if (this.bufferedRecords > 0 && !this.rebalancing) {
      this.startFlush(true);
      await this.flushing;
    }
    await this.consumer?.stop();
    await this.producer?.disconnect();
    await this.admin?.disconnect();
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
        buf = { topic: batch.topic, partition: batch.partition, lastOffset: -1, records: 0, events: [], eventGroups: [], groups: [], history: [], dead: [] };
        this.buffers.set(key, buf);
      }
      this.add(buf, msg, offset);
      buf.lastOffset = offset;
      added++;
    }
    if (added === 0) return;
    this.consumedUpTo.set(key, buf!.lastOffset);
    if (this.bufferedRecords === 0) this.oldestAt = Date.now();
    this.bufferedRecords += added;
    m.recordsBuffered.set(this.bufferedRecords);
    // full: write now, and hold this partition's fetch loop (a back-pressure) until it is written
    while (this.bufferedRecords >= this.o.batchRows && batch.isRunning() && !this.stopping && !this.rebalancing) {
      this.startFlush();
      await this.waitForFlush(batch);
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
      buf.events.push(out.value.events);
      for (const r of out.value.eventGroups) buf.eventGroups.push(r);
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
    const rows = {
      events: (p: PartitionBuffer) => p.events,
      event_groups: (p: PartitionBuffer) => p.eventGroups,
      group_property_history: (p: PartitionBuffer) => p.history,
    } as const;
    let written = 0;
    for (const table of TABLE_ORDER) {
      const parts = snap.parts.filter((p) => (table === 'groups' ? p.groups.length > 0 : table in rows && rows[table as keyof typeof rows](p).length > 0));
      if (parts.length === 0) continue;
      const maxima = await this.maximaFor(table, parts.map((p) => p.partition));
      let pending: { partition: number; offset: number; month: number; line: string }[] = [];
      let skipped = 0;
      for (const p of parts) {
        const pm = maxima.get(p.partition) ?? new Map<number, number>();
        if (table === 'groups') {
          for (const g of p.groups) {
            if (g.offset <= (pm.get(0) ?? -1)) skipped++;
            else pending.push({ partition: p.partition, offset: g.offset, month: 0, line: '' });
          }
        } else {
          for (const r of rows[table as keyof typeof rows](p)) {
            if (r.offset <= (pm.get(r.month) ?? -1)) skipped++;
            else pending.push({ partition: p.partition, offset: r.offset, month: r.month, line: r.line });
          }
        }
      }
      if (skipped > 0) {
        m.rowsSkipped.inc({ table }, skipped);
        this.log.info({ table, skipped }, 'replayed_rows_skipped');
      }
      if (table === 'groups' && pending.length > 0) pending = await this.groupLines(snap, pending);
      for (const chunk of chunks(pending)) {
        if (this.abandoned(snap)) throw Object.assign(new Error('partitions revoked during the flush'), { stage: 'rebalance' });
        const t0 = performance.now();
        await insertLines(this.o.ch, table, chunk.map((r) => r.line));
        m.insertDuration.observe({ table }, (performance.now() - t0) / 1000);
        m.batchRows.observe({ table }, chunk.length);
        m.rowsWritten.inc({ table }, chunk.length);
        written += chunk.length;
        for (const r of chunk) {
          let pm = maxima.get(r.partition);
          if (!pm) maxima.set(r.partition, (pm = new Map()));
          if (r.offset > (pm.get(r.month) ?? -1)) pm.set(r.month, r.offset);
        }
        this.afterInsert();
      }
    }
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
    try {
      await this.consumer!.consumer.commitOffsets(
        snap.parts.map((p) => ({ topic: p.topic, partition: p.partition, offset: String(p.lastOffset + 1) })),
      );
    } catch (err) {
      throw Object.assign(err as Error, { stage: 'commit' });
    }
    m.commitsTotal.inc();
    this.log.debug({ records: snap.records, rows: written, duration_ms: Date.now() - started }, 'batch_written');
  }

  /** Lines of the groups rows, each carrying the earliest first_identified of its group. */
  private async groupLines(snap: Snapshot, pending: { partition: number; offset: number; month: number; line: string }[]) {
    const byOffset = new Map<string, GroupRow>();
    for (const p of snap.parts) for (const g of p.groups) byOffset.set(`${p.partition}:${g.offset}`, g);
    const rows = pending.map((r) => ({ ...r, g: byOffset.get(`${r.partition}:${r.offset}`)! }));
    const first = await readFirstIdentified(this.o.ch, rows.map((r) => r.g.key));
    return rows.map((r) => {
      const k = groupKeyText(r.g.key);
      const t = Math.min(first.get(k) ?? Number.POSITIVE_INFINITY, r.g.updatedAt);
      first.set(k, t);
      return { partition: r.partition, offset: r.offset, month: 0, line: groupLine(r.g, t) };
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
    if (this.o.crashAfterInserts && this.inserts >= this.o.crashAfterInserts) {
      // written synchronously: pino's buffered output would die with the process
      writeSync(2, `${JSON.stringify({ level: 40, inserts: this.inserts, msg: 'test_crash_after_insert' })}\n`);
      process.kill(process.pid, 'SIGKILL');
    }
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

/** Splits rows into inserts by rows, bytes and months, never separating the rows of one Kafka record. */
export function chunks<T extends { partition: number; offset: number; month: number; line: string }>(rows: T[]): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  let months = new Set<number>();
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const prev = rows[i - 1];
    const boundary = !prev || prev.partition !== r.partition || prev.offset !== r.offset;
    const full = cur.length >= MAX_INSERT_ROWS || bytes >= MAX_INSERT_BYTES || (!months.has(r.month) && months.size >= MAX_INSERT_MONTHS);
    if (boundary && full && cur.length > 0) {
      out.push(cur);
      cur = [];
      bytes = 0;
      months = new Set();
    }
    cur.push(r);
    bytes += r.line.length;
    months.add(r.month);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
