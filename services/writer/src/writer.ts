// The writer's chain, in the spirit of Snuba's consumers (arroyo): Kafka batch -> decode -> buffer (rows, age) ->
// plan -> insert (with retry) -> commit. This file only wires the stages to the consumer group and decides when a
// flush starts; each stage lives in its own module.
import type { ClickHouse } from '@groupscope/clickhouse';
import type { Topics } from '@groupscope/events';
import { ConsumerProgress, createProducer, reportStalls, runBatchConsumer, type BatchContext, type Kafka, type Producer, type RunningConsumer } from '@groupscope/kafka';
import type { Logger } from '@groupscope/logger';
import type { TableName } from '@groupscope/schema';
import { WriteBuffer } from './buffer';
import { Fences } from './fence';
import { Flusher, type Snapshot } from './flush';
import { Inserter } from './insert';
import { pollConsumerLag } from './lag';
import { Membership } from './membership';
import { Refusals } from './refusals';
import * as m from './metrics';
import { TableWatermarks } from './watermarks';

export interface WriterOptions {
  ch: ClickHouse;
  kafka: Kafka;
  topics: Topics;
  groupId: string;
  logger: Logger;
  batchRows: number;
  batchMs: number;
  retryMaxMs: number;
  sessionTimeout?: number;
  /** called after every acknowledged INSERT with the number of inserts so far, before offsets are committed */
  afterInsert?(inserts: number): void;
  /** called synchronously right before each INSERT is sent (a test entry point pauses the writer there) */
  beforeInsert?(table: TableName): void;
  /** the consumer stopped for good (kafkajs gave up): the process should exit and be restarted */
  onFatal?(err: Error): void;
  /** failing with lag and no commit for this long: stalled (readiness, groupscope_writer_stalled) */
  stallAfterMs?: number;
  /** how often the consumer group's lag is polled */
  lagPollMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Writer {
  private readonly log: Logger;
  private readonly membership = new Membership();
  private readonly buffer: WriteBuffer;
  private readonly watermarks: TableWatermarks;
  private readonly inserter: Inserter;
  private readonly fences: Fences;
  /** the group heartbeat of the consumer's latest batch: a membership check before each flush */
  private heartbeat: (() => Promise<void>) | null = null;
  private consumer: RunningConsumer | null = null;
  private producer: Producer | null = null;
  private flusher: Flusher | null = null;
  private flushing: Promise<void> | null = null;
  private stopLag: (() => Promise<void>) | null = null;
  private ageTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private crashed = false;
  private inserts = 0;
  /** commits and failed flushes, for readiness and the stalled gauge */
  readonly progress: ConsumerProgress;
  private readonly unreportStalls: () => void;

  constructor(private readonly o: WriterOptions) {
    this.log = o.logger.child({ module: 'writer' });
    this.progress = new ConsumerProgress(o.stallAfterMs ?? 60_000);
    this.unreportStalls = reportStalls('writer', this.progress);
    this.buffer = new WriteBuffer((topic) => (topic === o.topics.enriched ? 'events' : 'changes'));
    this.watermarks = new TableWatermarks(o.ch);
    this.fences = new Fences({ ch: o.ch, logger: o.logger });
    this.inserter = new Inserter(
      o.ch,
      this.watermarks,
      {
        skipped: (table, rows) => {
          if (rows === 0) return;
          m.rowsSkipped.inc({ table }, rows);
          this.log.info({ table, skipped: rows }, 'replayed_rows_skipped');
        },
        inserted: (table, rows, seconds) => {
          m.insertDuration.observe({ table }, seconds);
          m.batchRows.observe({ table }, rows);
          m.rowsWritten.inc({ table }, rows);
          this.o.afterInsert?.(++this.inserts);
        },
        beforeInsert: o.beforeInsert,
      },
    );
  }

  running(): boolean {
    return this.consumer !== null && !this.stopping && !this.crashed;
  }

  async start(): Promise<void> {
    const producer = createProducer(this.o.kafka);
    this.producer = producer;
    await producer.connect();
    this.flusher = new Flusher({
      inserter: this.inserter,
      watermarks: this.watermarks,
      membership: this.membership,
      fences: this.fences,
      // kafkajs sends at most one heartbeat per heartbeat interval: a recent answer stands for the coordinator's,
      // and a writer cut off from it for longer (the zombie case) asks it here
      checkMembership: () => this.heartbeat?.() ?? Promise.resolve(),
      dlq: { sender: producer, topic: this.o.topics.dlq },
      commit: (offsets) => (this.consumer ? this.consumer.commit(offsets) : Promise.reject(new Error('consumer not started yet'))),
      retryMaxMs: this.o.retryMaxMs,
      logger: this.log,
      progress: this.progress,
    });
    this.consumer = await runBatchConsumer({
      kafka: this.o.kafka,
      groupId: this.o.groupId,
      topics: [this.o.topics.enriched, this.o.topics.groupChanges],
      logger: this.o.logger,
      handlerCommits: true,
      readCommitted: true,
      sessionTimeout: this.o.sessionTimeout,
      handle: (batch) => this.consume(batch),
      onRevoked: () => this.membership.revoked(),
      onAssigned: (assignment) => {
        this.membership.assigned();
        this.progress.reset();
        this.buffer.reset();
        this.watermarks.forget();
        m.recordsBuffered.set(0);
        this.fences.assigned(this.membership.generation, assignment);
        this.log.info({ assignment, generation: this.membership.generation }, 'partitions_assigned');
        // the fence goes up at once, while the first batch is fetched; a flush waits for it (and retries it)
        const generation = this.membership.generation;
        this.fences.establish(generation).catch((err: unknown) => this.log.debug({ err, generation }, 'fence_not_established_yet'));
      },
      onCrash: (err) => {
        this.crashed = true;
        this.log.fatal({ err }, 'writer_consumer_crashed');
        this.o.onFatal?.(err);
      },
    });
    this.ageTimer = setInterval(() => this.flushIfDue(), Math.max(5, Math.min(250, Math.floor(this.o.batchMs / 2))));
    this.ageTimer.unref();
    this.stopLag = await pollConsumerLag(this.o.kafka, this.o.groupId, [this.o.topics.enriched, this.o.topics.groupChanges], this.log, this.o.lagPollMs, this.progress);
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.unreportStalls();
    if (this.ageTimer) clearInterval(this.ageTimer);
    this.flusher?.interrupt();
    await this.flushing; // a flush under way finishes its attempt, without retrying
    // one last flush while the partitions are still ours; what it cannot write is simply not committed
    if (this.buffer.records > 0 && !this.membership.rebalancing && !this.membership.dropped) {
      this.startFlush(true);
      await this.flushing;
    }
    await this.consumer?.stop();
    await this.producer?.disconnect();
    await this.stopLag?.();
    this.consumer = null;
  }

  /** A fetched batch into the buffer. A full buffer starts a flush; the next fills meanwhile. */
  private async consume(batch: BatchContext): Promise<void> {
    if (this.stopping) return;
    this.heartbeat = batch.heartbeat;
    if (this.buffer.add(batch, Date.now()) === 0) return;
    m.recordsBuffered.set(this.buffer.records);
    // when the next batch is full too while the first is still being written (or retried: ClickHouse down), hold
    // the fetch loop: at most two batches are ever in memory
    if (this.buffer.records >= this.o.batchRows) this.startFlush();
    while (this.buffer.records >= this.o.batchRows && batch.isRunning() && !this.stopping && !this.membership.rebalancing) {
      await this.waitForFlush(batch);
      this.startFlush();
    }
  }

  private async waitForFlush(batch: BatchContext): Promise<void> {
    while (this.flushing && batch.isRunning() && !this.stopping) {
      const settled = await Promise.race([this.flushing.then(() => true), sleep(1000).then(() => false)]);
      if (settled) return;
      try {
        await batch.heartbeat();
      } catch (err) {
        // the group is rebalancing: let kafkajs rejoin; what is buffered comes again after the join
        this.log.info({ err }, 'rebalance_while_flushing');
        this.membership.revoked();
        return;
      }
    }
  }

  private flushIfDue(): void {
    if (this.flushing || this.stopping || this.membership.rebalancing || this.buffer.records === 0) return;
    if (Date.now() - this.buffer.oldestAt >= this.o.batchMs) this.startFlush();
  }

  private startFlush(final = false): void {
    if (this.flushing || this.buffer.records === 0 || !this.flusher) return;
    if (this.membership.dropped) {
      // an earlier batch was not written: committing this one would skip it; all of it comes again later
      this.buffer.discard();
      m.recordsBuffered.set(0);
      return;
    }
    const snap: Snapshot = { generation: this.membership.generation, records: this.buffer.records, parts: this.buffer.take(), deadSent: false, refusals: new Refusals() };
    m.recordsBuffered.set(0);
    this.flushing = this.flusher.run(snap, { final, stopping: () => this.stopping }).finally(() => {
      this.flushing = null;
    });
  }
}
