// The thin Kafka adapter around enrich.ts: one worker per owned input partition. A worker owns a transactional
// producer whose id is stable per input partition, so taking a partition over fences every older producer of
// it (a zombie's commit then fails); it restores the partition's state after fencing, and commits each batch's
// outputs, changelog updates and input offsets in one transaction. Any failure drops the worker's state: the
// next attempt fences again and restores from the changelog, whose checkpoint tells which input was already
// applied (even when the consumer fetched an older committed offset).
//
// Ingest and group-identify partitions are consumed by two consumer groups: an ingest batch may wait for the
// group-identify side's watermark (see watermark.ts), and one consumer's fetch loop waits for every batch it handed
// out, so a shared consumer would wait for itself.
import { codecs, decodeMark, groupKey, isMark, recordMessage, type Codec, type GroupIdentifyRecord, type IngestRecord, type Topics } from '@groupscope/events';
import {
  createProducer,
  readPartitionToEnd,
  sendDeadLetters,
  type Admin,
  type BatchContext,
  type ChangelogRecord,
  type ChangelogTail,
  type DeadLetter,
  type Kafka,
  type KafkaMessage,
  type Message,
  type Producer,
  type Transaction,
} from '@groupscope/kafka';
import type { Logger } from '@groupscope/logger';
import {
  changelogText,
  checkpointKey,
  decodeCheckpoint,
  decodeDedupSegment,
  decodeUser,
  dedupSegmentKey,
  encodeCheckpoint,
  encodeDedupSegment,
  encodeGroupCheckpoint,
  encodeType,
  encodeUser,
  encodeVersion,
  parseKey,
  typeKey,
  versionKey,
  type GroupPartitionState,
} from './changelog';
import { GroupBatch, IngestBatch, applyGroupIdentify, enrich, type BatchStats, type Limits } from './enrich';
import * as m from './metrics';
import { enqueue, queuedFrom, releasable, wasQueued, type Queued } from './pending';
import { DedupWindow, GroupStore, type UserStore } from './state';
import { PartitionWatermark, positionOf } from './watermark';

/** Kafka rejects record batches over message.max.bytes (1 MB by default): output is sent in smaller requests. */
const MAX_REQUEST_BYTES_PER_TOPIC = 800 * 1024;
/**
 * A bound on a send's records per topic; the byte limit above binds first for records of usual sizes (~2,700 of
 * 300 B), so a 4 MB batch goes out in 5 sends rather than 13 (each a round trip inside the transaction).
 */
const MAX_MESSAGES_PER_TOPIC = 10_000;
/** An enriched event larger than this goes to the DLQ instead of blocking its partition. */
const MAX_RECORD_BYTES = 900 * 1024;
/**
 * Retries of a transaction's requests. A transaction that starts right after the previous one of the same id may be
 * refused while the coordinator still completes that one (CONCURRENT_TRANSACTIONS, a matter of milliseconds);
 * kafkajs' default first back-off of 300 ms would add that much to the latency of every such transaction (a
 * group-identify partition commits with every mark). Bounded: a failing transaction is retried whole by the worker.
 */
const TRANSACTION_RETRY = { initialRetryTime: 20, maxRetryTime: 2000, retries: 10 };

/** How receive-order stamping is tuned; positions are microseconds. */
export interface StampSettings {
  /** a producer this far behind the newest position on a group-identify partition is no longer waited for */
  producerExpiry: number;
  /** group versions kept behind the watermark (besides the newest older one) */
  history: number;
  /** most versions and bytes of properties kept per group */
  maxVersions: number;
  maxVersionBytes: number;
}

export const DEFAULT_STAMP: StampSettings = {
  producerExpiry: 15_000_000,
  history: 24 * 3600 * 1_000_000,
  maxVersions: 500,
  maxVersionBytes: 8 * 1024 * 1024,
};

export interface WorkerContext {
  kafka: Kafka;
  admin: Admin;
  topics: Topics;
  /** the ingest consumer group; also names every transactional id */
  groupId: string;
  /** the group-identify consumer group */
  groupsGroupId: string;
  limits: Limits;
  stamp: StampSettings;
  dedupCapacity: number;
  groups: GroupStore;
  groupsTail: ChangelogTail;
  logger: Logger;
}

type Out = Message & { topic: string };

function size(msg: Message): number {
  const k = msg.key ? (typeof msg.key === 'string' ? Buffer.byteLength(msg.key) : msg.key.length) : 0;
  const v = msg.value ? (typeof msg.value === 'string' ? Buffer.byteLength(msg.value) : msg.value.length) : 0;
  return k + v + 80;
}

/** Sends records inside a transaction in requests that stay under the broker's size limit. */
async function sendChunked(tx: Transaction, out: Out[]): Promise<void> {
  let chunk = new Map<string, Message[]>();
  let bytes = new Map<string, number>();
  const flush = async () => {
    if (chunk.size === 0) return;
    await tx.sendBatch({ acks: -1, topicMessages: [...chunk].map(([topic, messages]) => ({ topic, messages })) });
    chunk = new Map();
    bytes = new Map();
  };
  for (const { topic, ...msg } of out) {
    const b = size(msg);
    if ((bytes.get(topic) ?? 0) + b > MAX_REQUEST_BYTES_PER_TOPIC || (chunk.get(topic)?.length ?? 0) >= MAX_MESSAGES_PER_TOPIC) await flush();
    let list = chunk.get(topic);
    if (!list) chunk.set(topic, (list = []));
    list.push(msg);
    bytes.set(topic, (bytes.get(topic) ?? 0) + b);
  }
  await flush();
}

function countStats(source: string, stats: BatchStats): void {
  if (stats.duplicates > 0) m.dedupDrops.inc({ source }, stats.duplicates);
  for (const [limit, n] of Object.entries(stats.limitDrops)) if (n > 0) m.limitDrops.inc({ limit }, n);
  if (stats.ignoredOperations > 0) m.ignoredOperations.inc(stats.ignoredOperations);
  if (stats.historyMisses > 0) m.stampHistoryMisses.inc(stats.historyMisses);
}

/** A wait for the group watermark ended because the partition is going away: nothing failed. */
class WaitAborted extends Error {}

/** A consumed or re-read input record, as a dead letter needs it. */
type Raw = Pick<KafkaMessage, 'key' | 'value' | 'headers' | 'offset'>;

export abstract class PartitionWorker {
  protected producer?: Producer;
  protected ready = false;
  /** next input offset to process, as committed with the state (-1: none) */
  protected checkpoint = -1;
  private chain: Promise<unknown> = Promise.resolve();
  protected readonly log: Logger;
  abstract readonly source: 'ingest' | 'group_identify';

  constructor(
    protected readonly ctx: WorkerContext,
    readonly topic: string,
    readonly partition: number,
  ) {
    this.log = ctx.logger.child({ module: 'partition_worker', topic, partition });
  }

  get transactionalId(): string {
    return `${this.ctx.groupId}-${this.topic}-${this.partition}`;
  }

  /** Runs fn after everything queued on this worker (a batch, a restore, a close) has finished. */
  locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  handle(batch: BatchContext): Promise<void> {
    return this.locked(async () => {
      if (!this.ready) await this.open(batch.heartbeat);
      try {
        await this.process(batch);
      } catch (err) {
        // what was committed before the wait is merged already: the state stays valid
        if (err instanceof WaitAborted) throw err;
        await this.reset();
        throw err;
      }
    });
  }

  /** Fences every older producer of this partition, then restores the partition's state. */
  private async open(heartbeat: () => Promise<void>): Promise<void> {
    const t0 = performance.now();
    const producer = createProducer(this.ctx.kafka, { transactionalId: this.transactionalId, retry: TRANSACTION_RETRY });
    this.producer = producer;
    try {
      await producer.connect();
      // the first transaction call registers the id with the coordinator (InitProducerId): the epoch is bumped,
      // older producers with this id are fenced and their unfinished transaction is aborted (or completed)
      const tx = await producer.transaction();
      await tx.abort();
      await this.restore(heartbeat);
    } catch (err) {
      await this.reset();
      throw err;
    }
    this.ready = true;
    const seconds = (performance.now() - t0) / 1000;
    m.restoreDuration.observe({ source: this.source }, seconds);
    this.log.info({ duration_ms: Math.round(seconds * 1000), checkpoint: this.checkpoint, ...this.sizes() }, 'partition_opened');
  }

  /** Drops the state and the producer; the next batch opens the partition again. */
  async reset(): Promise<void> {
    this.ready = false;
    this.checkpoint = -1;
    this.clearState();
    const p = this.producer;
    this.producer = undefined;
    await p?.disconnect().catch((err) => this.log.warn({ err }, 'producer_disconnect_failed'));
  }

  /** The partition was revoked: release it once its current batch (if any) is done. */
  close(): Promise<void> {
    return this.locked(() => this.reset());
  }

  /** Input messages not yet applied to the state (below the checkpoint: already committed by an earlier owner). */
  protected pending(batch: BatchContext): KafkaMessage[] {
    const fresh = batch.messages.filter((msg) => Number(msg.offset) >= this.checkpoint);
    if (fresh.length < batch.messages.length) m.replaySkipped.inc(batch.messages.length - fresh.length);
    return fresh;
  }

  /** The offset after `last`; never below the checkpoint (a batch replayed from a stale offset must not move it back). */
  protected nextAfter(last: { offset: string }): number {
    return Math.max(this.checkpoint, Number(last.offset) + 1);
  }

  /** the consumer group whose offsets this worker commits */
  protected abstract readonly consumerGroupId: string;

  protected async commit(out: Out[], letters: DeadLetter[], next: number): Promise<void> {
    const producer = this.producer;
    if (!producer) throw new Error('partition worker has no producer');
    const tx = await producer.transaction();
    try {
      await sendChunked(tx, out);
      await sendDeadLetters(tx, this.ctx.topics.dlq, letters);
      await tx.sendOffsets({
        consumerGroupId: this.consumerGroupId,
        topics: [{ topic: this.topic, partitions: [{ partition: this.partition, offset: String(next) }] }],
      });
      await tx.commit();
    } catch (err) {
      // kafkajs: a transaction that failed must be aborted before the producer can start another
      if (tx.isActive()) await tx.abort().catch(() => undefined);
      m.transactions.inc({ result: 'failed' });
      throw err;
    }
    m.transactions.inc({ result: 'committed' });
  }

  /** The record a message holds, or null once it is dead-lettered as undecodable. */
  protected decoded<T>(codec: Codec<T>, msg: Raw, letters: DeadLetter[]): T | null {
    try {
      if (!msg.value) throw new Error('record has no value');
      return codec.decode(msg.value, msg.headers);
    } catch (err) {
      letters.push(this.deadLetter(msg, 'decode_error', (err as Error).message));
      return null;
    }
  }

  protected deadLetter(msg: Raw, reason: string, error: string): DeadLetter {
    return {
      reason,
      error,
      stage: 'enricher',
      source: { topic: this.topic, partition: this.partition, offset: msg.offset },
      key: msg.key,
      value: msg.value,
      headers: msg.headers,
    };
  }

  protected abstract restore(heartbeat: () => Promise<void>): Promise<void>;
  protected abstract process(batch: BatchContext): Promise<void>;
  protected abstract clearState(): void;
  abstract sizes(): { users: number; dedup: number };
}

interface IngestItem {
  msg: KafkaMessage;
  /** null: undecodable, `letter` holds its dead letter */
  r: IngestRecord | null;
  letter?: DeadLetter;
  pos: number;
}

/**
 * An ingest partition: its users' state and its de-duplication window. An event with a receive position is
 * stamped only once the group watermark reached it, so it carries exactly the group identifies received before it;
 * a batch is therefore processed in chunks, each one transaction, waiting between them as needed.
 */
export class IngestWorker extends PartitionWorker {
  readonly source = 'ingest' as const;
  protected readonly consumerGroupId: string;
  private readonly users: UserStore = new Map();
  private readonly dedup: DedupWindow;
  private lastStallLog = 0;

  constructor(ctx: WorkerContext, topic: string, partition: number) {
    super(ctx, topic, partition);
    this.consumerGroupId = ctx.groupId;
    this.dedup = new DedupWindow(ctx.limits.dedupWindowMs, ctx.dedupCapacity);
  }

  sizes() {
    return { users: this.users.size, dedup: this.dedup.size };
  }

  protected clearState(): void {
    this.users.clear();
    this.dedup.clear();
  }

  protected async restore(heartbeat: () => Promise<void>): Promise<void> {
    const { usersChangelog, dedupChangelog } = this.ctx.topics;
    const records = await readPartitionToEnd({
      kafka: this.ctx.kafka,
      admin: this.ctx.admin,
      groupIdPrefix: this.ctx.groupId,
      topics: [usersChangelog, dedupChangelog],
      partition: this.partition,
      heartbeat,
      logger: this.log,
      onRecord: (r) => {
        try {
          const { key, value } = changelogText(r);
          const k = parseKey(key, r.topic === usersChangelog ? 'users' : 'dedup');
          if (k.kind === 'user') {
            if (value === null) this.users.delete(k.key);
            else this.users.set(k.key, decodeUser(value));
          } else if (k.kind === 'checkpoint') {
            if (k.topic === this.topic && k.partition === this.partition && value !== null) this.checkpoint = decodeCheckpoint(value);
          } else if (k.kind === 'dedup') {
            this.dedup.load(k.key, k.seq, value === null ? null : decodeDedupSegment(value));
          }
        } catch (err) {
          this.log.warn({ err, topic: r.topic, offset: r.offset }, 'changelog_record_unreadable');
        }
      },
    });
    this.dedup.finishRestore();
    this.log.debug({ records }, 'partition_state_read');
  }

  protected async process(batch: BatchContext): Promise<void> {
    const items: IngestItem[] = this.pending(batch).map((msg) => {
      const letters: DeadLetter[] = [];
      const r = this.decoded(codecs.ingest, msg, letters);
      return { msg, r, letter: letters[0], pos: r ? positionOf(r) : 0 };
    });
    if (items.length === 0) {
      // all of it was applied by an earlier owner: only move the committed offset on
      await this.commit([], [], this.nextAfter(batch.messages[batch.messages.length - 1]!));
      return;
    }
    const wm = this.ctx.groups.watermark;
    let i = 0;
    while (i < items.length) {
      // the records whose group state is settled: unordered ones, and ordered ones the watermark passed (all of
      // them once the watermark stalled: the degraded case, counted)
      const stalled = wm.stalled();
      let j = i;
      while (j < items.length && (stalled || items[j]!.pos <= wm.value)) j++;
      if (j > i) {
        await this.processChunk(items.slice(i, j), wm.value);
        i = j;
        continue;
      }
      const t0 = performance.now();
      const result = await wm.wait(items[i]!.pos, { heartbeat: batch.heartbeat, isRunning: batch.isRunning });
      m.stampWait.observe((performance.now() - t0) / 1000);
      if (result === 'stopped') throw new WaitAborted('partition revoked while waiting for the group watermark');
      if (result === 'stalled' && Date.now() - this.lastStallLog > 10_000) {
        this.lastStallLog = Date.now();
        this.log.warn({ pos: items[i]!.pos, watermark: wm.value, stalled_ms: wm.maxStallMs }, 'stamp_wait_timeout');
      }
    }
  }

  /** One transaction: the records of `items`, stamped against the group versions known now. */
  private async processChunk(items: IngestItem[], watermark: number): Promise<void> {
    const { topics } = this.ctx;
    const work = new IngestBatch(this.users, this.dedup, this.ctx.groups, this.ctx.limits);
    const out: Out[] = [];
    const letters: DeadLetter[] = [];
    let now = 0;
    let early = 0;
    for (const { msg, r, letter, pos } of items) {
      if (!r) {
        if (letter) letters.push(letter);
        continue;
      }
      if (pos > watermark) early++;
      if (r.receive_time > now) now = r.receive_time;
      const o = enrich(r, work);
      if (o.kind === 'ok') {
        const message = recordMessage.enriched(o.value);
        if (message.value.length > MAX_RECORD_BYTES) {
          letters.push(this.deadLetter(msg, 'too_large', `enriched event of ${message.value.length} bytes`));
          continue;
        }
        // co-partitioned with ingest: the event stays on its input's partition number
        out.push({ topic: topics.enriched, partition: this.partition, ...message });
      } else if (o.kind === 'dlq') {
        letters.push(this.deadLetter(msg, o.reason, o.error));
      }
    }
    const emitted = out.length;
    const next = this.nextAfter(items[items.length - 1]!.msg);
    for (const [key, entry] of work.users) out.push({ topic: topics.usersChangelog, partition: this.partition, key, value: encodeUser(entry) });
    const plan = this.dedup.plan(dedupSegmentKey(Number(items[0]!.msg.offset)), work.dedup.entries, now);
    if (plan.segment) out.push({ topic: topics.dedupChangelog, partition: this.partition, key: plan.segment.key, value: encodeDedupSegment(plan.segment.entries) });
    for (const key of plan.evict) out.push({ topic: topics.dedupChangelog, partition: this.partition, key, value: null });
    for (const [projectId, type] of work.types.added) out.push({ topic: topics.groupsChangelog, key: typeKey(projectId, type), value: encodeType(now) });
    out.push({ topic: topics.usersChangelog, partition: this.partition, key: checkpointKey(this.topic, this.partition), value: encodeCheckpoint(next) });

    const t0 = performance.now();
    await this.commit(out, letters, next);
    m.transactionDuration.observe({ source: this.source }, (performance.now() - t0) / 1000);

    work.apply();
    this.dedup.apply(plan);
    this.checkpoint = next;
    m.recordsIn.inc({ source: this.source }, items.length);
    if (emitted > 0) m.recordsOut.inc({ output: 'enriched' }, emitted);
    if (early > 0) m.stampWaitTimeouts.inc(early);
    countStats(this.source, work.stats);
  }
}

/** A group identify waiting for its partition's watermark, with what a dead letter of it needs. */
type QueuedIdentify = Queued<{ r: GroupIdentifyRecord; raw: Raw }>;

/**
 * A group-identify partition: follows its producers' watermark (marks and records), queues group identifies until
 * the watermark reaches their effective position, then applies them in position order as versions of the groups
 * (shared state: GroupStore), with insert_id de-duplication over a window of its own.
 */
export class GroupIdentifyWorker extends PartitionWorker {
  readonly source = 'group_identify' as const;
  protected readonly consumerGroupId: string;
  private marks: PartitionWatermark;
  private queue: QueuedIdentify[] = [];
  private readonly dedup: DedupWindow;

  constructor(ctx: WorkerContext, topic: string, partition: number) {
    super(ctx, topic, partition);
    this.consumerGroupId = ctx.groupsGroupId;
    this.marks = new PartitionWatermark(ctx.stamp.producerExpiry);
    this.dedup = new DedupWindow(ctx.limits.dedupWindowMs, ctx.dedupCapacity);
  }

  sizes() {
    return { users: 0, dedup: this.dedup.size };
  }

  protected clearState(): void {
    // group versions are shared and only ever hold committed data: they stay
    this.marks = new PartitionWatermark(this.ctx.stamp.producerExpiry);
    this.queue = [];
    this.dedup.clear();
  }

  protected async restore(heartbeat: () => Promise<void>): Promise<void> {
    // after fencing, the changelog holds every committed change to this partition's groups and its last checkpoint:
    // wait until the tail applied all of it
    await this.ctx.groupsTail.waitCaughtUp({ heartbeat });
    const state = this.ctx.groups.partitionState(this.topic, this.partition);
    this.checkpoint = state?.next ?? -1;
    this.marks = new PartitionWatermark(this.ctx.stamp.producerExpiry, state?.wm ?? 0, state?.producers ?? []);
    const read = { kafka: this.ctx.kafka, admin: this.ctx.admin, groupIdPrefix: this.ctx.groupId, partition: this.partition, heartbeat, logger: this.log };
    await readPartitionToEnd({
      ...read,
      topics: [this.ctx.topics.groupDedupChangelog],
      onRecord: (r) => {
        try {
          const { key, value } = changelogText(r);
          const k = parseKey(key, 'dedup');
          if (k.kind === 'dedup') this.dedup.load(k.key, k.seq, value === null ? null : decodeDedupSegment(value));
        } catch (err) {
          this.log.warn({ err, topic: r.topic, offset: r.offset }, 'changelog_record_unreadable');
        }
      },
    });
    this.dedup.finishRestore();
    if (state && state.from < state.next) await this.rebuildQueue(state, read);
  }

  /** The group identifies below the checkpoint that were not applied yet, read again from the input. */
  private async rebuildQueue(state: GroupPartitionState, read: Omit<Parameters<typeof readPartitionToEnd>[0], 'topics' | 'onRecord'>): Promise<void> {
    const found: QueuedIdentify[] = [];
    await readPartitionToEnd({
      ...read,
      topics: [this.topic],
      from: state.from,
      to: state.next,
      onRecord: (rec: ChangelogRecord) => {
        if (isMark(rec.headers) || !rec.value) return;
        let r: GroupIdentifyRecord;
        try {
          r = codecs.groupIdentify.decode(rec.value, rec.headers);
        } catch {
          return; // dead-lettered when it arrived
        }
        const pos = positionOf(r);
        if (wasQueued(pos, state.wm)) found.push({ offset: Number(rec.offset), e: pos, item: { r, raw: rec } });
      },
    });
    this.queue = enqueue([], found);
    this.log.info({ queued: found.length, from: state.from }, 'group_identify_queue_rebuilt');
  }

  protected async process(batch: BatchContext): Promise<void> {
    const { topics, groups, stamp, limits } = this.ctx;
    const msgs = this.pending(batch);
    const marks = this.marks.clone();
    const letters: DeadLetter[] = [];
    const arrived: QueuedIdentify[] = [];
    for (const msg of msgs) {
      if (isMark(msg.headers)) {
        try {
          const mark = decodeMark(msg.value);
          marks.observe(mark.producer_id, mark.pos, mark.leave);
        } catch (err) {
          letters.push(this.deadLetter(msg, 'invalid_mark', (err as Error).message));
        }
        continue;
      }
      const r = this.decoded(codecs.groupIdentify, msg, letters);
      if (!r) continue;
      arrived.push({ offset: Number(msg.offset), e: marks.observe(r.producer_id ?? '', positionOf(r)), item: { r, raw: msg } });
    }
    const { now: ready, later } = releasable(enqueue(this.queue, arrived), marks.wm);

    const work = new GroupBatch(groups, limits, this.dedup);
    const out: Out[] = [];
    let now = 0;
    for (const { e, item } of ready) {
      if (item.r.receive_time > now) now = item.r.receive_time;
      const o = applyGroupIdentify(item.r, e, work);
      if (o.kind === 'ok') out.push({ topic: topics.groupChanges, ...recordMessage.groupChange(o.value) });
      else if (o.kind === 'dlq') letters.push(this.deadLetter(item.raw, o.reason, o.error));
    }
    work.prune({ horizon: marks.wm - stamp.history, maxVersions: stamp.maxVersions, maxBytes: stamp.maxVersionBytes });
    const emitted = out.length;
    const next = this.nextAfter(msgs[msgs.length - 1] ?? { offset: String(this.checkpoint - 1) });
    // versions, then pruned versions, then the checkpoint with the watermark: all on this partition's number of the
    // groups changelog, in this order
    const q = this.partition;
    for (const { projectId, groupType, groupValue, version } of work.writes()) {
      out.push({ topic: topics.groupsChangelog, partition: q, key: versionKey(projectId, groupType, groupValue, version.e, version.n), value: encodeVersion(version.p) });
    }
    for (const { projectId, groupType, groupValue, version } of work.dropped) {
      const key = version.legacy ? groupKey(projectId, groupType, groupValue) : versionKey(projectId, groupType, groupValue, version.e, version.n);
      out.push({ topic: topics.groupsChangelog, partition: q, key, value: null });
    }
    const plan = this.dedup.plan(dedupSegmentKey(Number(msgs[0]?.offset ?? next)), work.dedup.entries, now);
    if (plan.segment) out.push({ topic: topics.groupDedupChangelog, partition: q, key: plan.segment.key, value: encodeDedupSegment(plan.segment.entries) });
    for (const key of plan.evict) out.push({ topic: topics.groupDedupChangelog, partition: q, key, value: null });
    const state: GroupPartitionState = { next, wm: marks.wm, producers: marks.producers(), from: queuedFrom(later, next) };
    out.push({ topic: topics.groupsChangelog, partition: q, key: checkpointKey(this.topic, q), value: encodeGroupCheckpoint(state) });

    const t0 = performance.now();
    await this.commit(out, letters, next);
    m.transactionDuration.observe({ source: this.source }, (performance.now() - t0) / 1000);

    // the local store is updated at once; the tail later delivers the same records and changes nothing
    work.apply();
    this.dedup.apply(plan);
    this.marks = marks;
    this.queue = later;
    groups.setPartitionState(this.topic, q, state);
    this.checkpoint = next;
    m.recordsIn.inc({ source: this.source }, msgs.length);
    m.queuedIdentifies.set({ partition: String(q) }, later.length);
    if (emitted > 0) m.recordsOut.inc({ output: 'group_change' }, emitted);
    countStats(this.source, work.stats);
  }
}
