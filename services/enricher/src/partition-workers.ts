// The thin Kafka adapter around enrich.ts: one worker per owned input partition. A worker owns a transactional
// producer whose id is stable per input partition, so taking a partition over fences every older producer of
// it (a zombie's commit then fails); it restores the partition's state after fencing, and commits each batch's
// outputs, changelog updates and input offsets in one transaction. Any failure drops the worker's state: the
// next attempt fences again and restores from the changelog, whose checkpoint tells which input was already
// applied (even when the consumer fetched an older committed offset).
import { codecs, groupKey, recordMessage, type Codec, type Topics } from '@groupscope/events';
import {
  createProducer,
  readPartitionToEnd,
  sendDeadLetters,
  type Admin,
  type BatchContext,
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
  encodeGroup,
  encodeType,
  encodeUser,
  parseKey,
  typeKey,
} from './changelog';
import { GroupBatch, IngestBatch, applyGroupIdentify, enrich, type BatchStats, type Limits } from './enrich';
import * as m from './metrics';
import { DedupWindow, GroupStore, type UserStore } from './state';

/** Kafka rejects record batches over message.max.bytes (1 MB by default): output is sent in smaller requests. */
const MAX_REQUEST_BYTES_PER_TOPIC = 800 * 1024;
/** kafkajs groups a send's messages per partition in time quadratic in their number: keep each send moderate */
const MAX_MESSAGES_PER_TOPIC = 1000;
/** An enriched event larger than this goes to the DLQ instead of blocking its partition. */
const MAX_RECORD_BYTES = 900 * 1024;

export interface WorkerContext {
  kafka: Kafka;
  admin: Admin;
  topics: Topics;
  groupId: string;
  limits: Limits;
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
}

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
      const t0 = performance.now();
      try {
        await this.process(batch);
        m.transactions.inc({ result: 'committed' });
      } catch (err) {
        m.transactions.inc({ result: 'failed' });
        await this.reset();
        throw err;
      }
      m.transactionDuration.observe({ source: this.source }, (performance.now() - t0) / 1000);
    });
  }

  /** Fences every older producer of this partition, then restores the partition's state. */
  private async open(heartbeat: () => Promise<void>): Promise<void> {
    const t0 = performance.now();
    const producer = createProducer(this.ctx.kafka, { transactionalId: this.transactionalId });
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

  /** The offset after this batch; never below the checkpoint (a batch replayed from a stale offset must not move it back). */
  protected nextOffset(batch: BatchContext): number {
    return Math.max(this.checkpoint, Number(batch.messages[batch.messages.length - 1]!.offset) + 1);
  }

  protected async commit(batch: BatchContext, out: Out[], letters: DeadLetter[], next: number): Promise<void> {
    const producer = this.producer;
    if (!producer) throw new Error('partition worker has no producer');
    const tx = await producer.transaction();
    try {
      await sendChunked(tx, out);
      await sendDeadLetters(tx, this.ctx.topics.dlq, letters);
      await tx.sendOffsets({
        consumerGroupId: this.ctx.groupId,
        topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(next) }] }],
      });
      await tx.commit();
    } catch (err) {
      // kafkajs: a transaction that failed must be aborted before the producer can start another
      if (tx.isActive()) await tx.abort().catch(() => undefined);
      throw err;
    }
  }

  /** The record a message holds, or null once it is dead-lettered as undecodable. */
  protected decoded<T>(codec: Codec<T>, batch: BatchContext, msg: KafkaMessage, letters: DeadLetter[]): T | null {
    try {
      if (!msg.value) throw new Error('record has no value');
      return codec.decode(msg.value, msg.headers);
    } catch (err) {
      letters.push(this.deadLetter(batch, msg, 'decode_error', (err as Error).message));
      return null;
    }
  }

  protected deadLetter(batch: BatchContext, msg: KafkaMessage, reason: string, error: string): DeadLetter {
    return {
      reason,
      error,
      stage: 'enricher',
      source: { topic: batch.topic, partition: batch.partition, offset: msg.offset },
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

/** An ingest partition: its users' state and its de-duplication window. */
export class IngestWorker extends PartitionWorker {
  readonly source = 'ingest' as const;
  private readonly users: UserStore = new Map();
  private readonly dedup: DedupWindow;

  constructor(ctx: WorkerContext, topic: string, partition: number) {
    super(ctx, topic, partition);
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
    const { topics } = this.ctx;
    const msgs = this.pending(batch);
    const work = new IngestBatch(this.users, this.dedup, this.ctx.groups, this.ctx.limits);
    const out: Out[] = [];
    const letters: DeadLetter[] = [];
    let now = 0;
    for (const msg of msgs) {
      const r = this.decoded(codecs.ingest, batch, msg, letters);
      if (!r) continue;
      if (r.receive_time > now) now = r.receive_time;
      const o = enrich(r, work);
      if (o.kind === 'ok') {
        const message = recordMessage.enriched(o.value);
        if (message.value.length > MAX_RECORD_BYTES) {
          letters.push(this.deadLetter(batch, msg, 'too_large', `enriched event of ${message.value.length} bytes`));
          continue;
        }
        // co-partitioned with ingest: the event stays on its input's partition number
        out.push({ topic: topics.enriched, partition: this.partition, ...message });
      } else if (o.kind === 'dlq') {
        letters.push(this.deadLetter(batch, msg, o.reason, o.error));
      }
    }
    const emitted = out.length;
    const next = this.nextOffset(batch);
    for (const [key, entry] of work.users) out.push({ topic: topics.usersChangelog, partition: this.partition, key, value: encodeUser(entry) });
    const plan = this.dedup.plan(dedupSegmentKey(Number(msgs[0]?.offset ?? next)), work.dedupEntries, now);
    if (plan.segment) out.push({ topic: topics.dedupChangelog, partition: this.partition, key: plan.segment.key, value: encodeDedupSegment(plan.segment.entries) });
    for (const key of plan.evict) out.push({ topic: topics.dedupChangelog, partition: this.partition, key, value: null });
    for (const [projectId, type] of work.types.added) out.push({ topic: topics.groupsChangelog, key: typeKey(projectId, type), value: encodeType(now) });
    out.push({ topic: topics.usersChangelog, partition: this.partition, key: checkpointKey(this.topic, this.partition), value: encodeCheckpoint(next) });

    await this.commit(batch, out, letters, next);

    work.apply();
    this.dedup.apply(plan);
    this.checkpoint = next;
    m.recordsIn.inc({ source: this.source }, msgs.length);
    if (emitted > 0) m.recordsOut.inc({ output: 'enriched' }, emitted);
    countStats(this.source, work.stats);
  }
}

/** A group-identify partition: applies group property operations; group state itself is shared (GroupStore). */
export class GroupIdentifyWorker extends PartitionWorker {
  readonly source = 'group_identify' as const;

  sizes() {
    return { users: 0, dedup: 0 };
  }

  protected clearState(): void {
    // group state is shared and only ever holds committed data: nothing to drop
  }

  protected async restore(heartbeat: () => Promise<void>): Promise<void> {
    // after fencing, the changelog holds every committed change to this partition's groups: wait until the
    // tail applied all of it, then resume after the last committed checkpoint
    await this.ctx.groupsTail.waitCaughtUp({ heartbeat });
    this.checkpoint = this.ctx.groups.checkpoint(this.topic, this.partition);
  }

  protected async process(batch: BatchContext): Promise<void> {
    const { topics } = this.ctx;
    const msgs = this.pending(batch);
    const work = new GroupBatch(this.ctx.groups, this.ctx.limits);
    const out: Out[] = [];
    const letters: DeadLetter[] = [];
    for (const msg of msgs) {
      const r = this.decoded(codecs.groupIdentify, batch, msg, letters);
      if (!r) continue;
      const o = applyGroupIdentify(r, work);
      if (o.kind === 'ok') {
        out.push({ topic: topics.groupChanges, ...recordMessage.groupChange(o.value) });
      } else if (o.kind === 'dlq') {
        letters.push(this.deadLetter(batch, msg, o.reason, o.error));
      }
    }
    const emitted = out.length;
    const next = this.nextOffset(batch);
    for (const u of work.updates.values()) {
      out.push({ topic: topics.groupsChangelog, key: groupKey(u.projectId, u.groupType, u.groupValue), value: encodeGroup(u.entry) });
    }
    out.push({ topic: topics.groupsChangelog, key: checkpointKey(this.topic, this.partition), value: encodeCheckpoint(next) });

    await this.commit(batch, out, letters, next);

    // the local map is updated at once; the tail later delivers the same versions and ignores them
    work.apply();
    this.ctx.groups.setCheckpoint(this.topic, this.partition, next);
    this.checkpoint = next;
    m.recordsIn.inc({ source: this.source }, msgs.length);
    if (emitted > 0) m.recordsOut.inc({ output: 'group_change' }, emitted);
    countStats(this.source, work.stats);
  }
}
