// One flush: insert everything a snapshot of the buffer holds, publish its dead letters, then commit its offsets.
// ClickHouse or Kafka failing stalls the flush, which retries with back-off; nothing is committed until all of it
// is written. A flush whose partitions were revoked (or whose writer stops) is dropped unwritten instead: its
// records come again from the last commit.
import { classifyFailure } from '@groupscope/clickhouse';
import { RetryStopped, retry, sendDeadLetters, type ConsumerProgress, type Sender, type TopicPartitionOffset } from '@groupscope/kafka';
import type { Logger } from '@groupscope/logger';
import type { PartitionBuffer } from './buffer';
import { FenceSuperseded, type Fences } from './fence';
import type { Inserter } from './insert';
import type { Membership } from './membership';
import type { Refusals } from './refusals';
import * as m from './metrics';
import type { TableWatermarks } from './watermarks';

export interface Snapshot {
  parts: PartitionBuffer[];
  generation: number;
  records: number;
  /** dead letters are published once, even when a later step fails and the flush is retried */
  deadSent: boolean;
  /** records ClickHouse refused (isolated by the inserts), dead-lettered with the others */
  refusals: Refusals;
}

export interface FlushOptions {
  inserter: Inserter;
  watermarks: TableWatermarks;
  membership: Membership;
  /** the partitions' fences: in place before watermarks are read, their token on every INSERT */
  fences: Fences;
  /**
   * asks the group coordinator whether this member still belongs to the group (throws when not, or when it cannot
   * tell): an evicted writer usually learns it here, before inserting anything
   */
  checkMembership?(): Promise<void>;
  /** publishes dead letters */
  dlq: { sender: Sender; topic: string };
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  retryMaxMs: number;
  logger: Logger;
  /** told of every committed flush and every failed attempt (readiness, the stalled gauge) */
  progress?: ConsumerProgress;
}

/** An error with the step that failed, for the failures metric. */
const failedAt = (stage: string, err: unknown): Error => Object.assign(err instanceof Error ? err : new Error(String(err)), { stage });

/** ClickHouse refused an INSERT because another writer holds a partition of it now: trying again cannot help. */
const fencedOut = (err: unknown): boolean => classifyFailure(err).kind === 'fenced';

export class Flusher {
  private wake?: () => void;

  constructor(private readonly o: FlushOptions) {}

  /**
   * Writes and commits `snap`, retrying until it succeeds or must be dropped: its partitions were revoked, the
   * writer is `stopping()`, or (`final`, the last flush at shutdown) its one attempt failed.
   */
  async run(snap: Snapshot, opts: { final: boolean; stopping(): boolean }): Promise<void> {
    const log = this.o.logger;
    try {
      await retry(
        async (attempt) => {
          try {
            await this.write(snap);
          } catch (err) {
            this.o.watermarks.forget(); // something may have landed: read what ClickHouse holds before the next attempt
            const stage = fencedOut(err) ? 'fenced' : ((err as { stage?: string }).stage ?? 'clickhouse');
            m.flushFailures.inc({ stage });
            if (stage !== 'rebalance' && stage !== 'fenced') this.o.progress?.failed(stage);
            throw err;
          }
          if (attempt > 1) log.info({ attempt, records: snap.records }, 'batch_written_after_retry');
        },
        {
          initialMs: 200,
          maxMs: this.o.retryMaxMs,
          attempts: opts.final ? 1 : undefined,
          retriable: (err) => !fencedOut(err),
          stopped: () => !this.o.membership.current(snap.generation) || (opts.stopping() && !opts.final),
          onRetry: (err, attempt, delay) => log.warn({ err, attempt, records: snap.records, retry_in_ms: delay }, 'batch_failed_retrying'),
          sleep: (ms) => this.pause(ms),
        },
      );
    } catch (err) {
      // a flush of an earlier generation may notice its revocation only after the next assignment began: that
      // generation starts over from the commits and must not be blocked by it
      if (this.o.membership.generation === snap.generation) this.o.membership.dropped = true;
      if (err instanceof RetryStopped) log.info({ records: snap.records, generation: snap.generation }, 'batch_dropped_for_redelivery');
      else if (fencedOut(err)) {
        // an evicted writer that had not noticed yet: nothing of the refused INSERT was stored, and whatever this
        // flush stored before it the new owner sees in its watermarks; nothing more is written or committed here
        // until the group assigns partitions again
        m.fencedOut.inc();
        log.warn(
          { err, records: snap.records, generation: snap.generation, partitions: snap.parts.map((p) => `${p.topic}:${p.partition}`) },
          'writer_fenced_out',
        );
      } else log.warn({ err, records: snap.records }, 'final_flush_failed_not_committed');
    }
  }

  /** Ends a back-off pause at once (the writer is stopping). */
  interrupt(): void {
    this.wake?.();
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    }).finally(() => {
      this.wake = undefined;
    });
  }

  private async write(snap: Snapshot): Promise<void> {
    const started = Date.now();
    const checkCurrent = () => {
      if (!this.o.membership.current(snap.generation)) throw failedAt('rebalance', new Error('partitions revoked during the flush'));
    };
    checkCurrent();
    if (this.o.checkMembership) {
      try {
        await this.o.checkMembership();
      } catch (err) {
        throw failedAt('membership', err);
      }
      checkCurrent();
    }
    // before any watermark is read: an older owner's INSERT still running would land after the read
    let token: string;
    try {
      await this.o.fences.establish(snap.generation);
      token = this.o.fences.token(snap.generation);
    } catch (err) {
      throw failedAt(err instanceof FenceSuperseded ? 'rebalance' : 'fence', err);
    }
    const written =
      (await this.o.inserter.events(snap.parts, checkCurrent, snap.refusals, token)) +
      (await this.o.inserter.changes(snap.parts, checkCurrent, snap.refusals, token));
    const dead = [...(snap.deadSent ? [] : snap.parts.flatMap((p) => p.dead)), ...snap.refusals.unsent()];
    if (dead.length > 0) {
      try {
        await sendDeadLetters(this.o.dlq.sender, this.o.dlq.topic, dead);
      } catch (err) {
        throw failedAt('dlq', err);
      }
      this.o.logger.warn(
        { count: dead.length, reasons: [...new Set(dead.map((d) => d.reason))], sources: dead.slice(0, 20).map((d) => `${d.source.topic}/${d.source.partition}@${d.source.offset}`) },
        'records_dead_lettered',
      );
    }
    snap.deadSent = true;
    snap.refusals.markSent();
    if (!this.o.membership.current(snap.generation)) throw failedAt('rebalance', new Error('partitions revoked before the commit'));
    try {
      await this.o.commit(snap.parts.map((p) => ({ topic: p.topic, partition: p.partition, offset: String(p.lastOffset + 1) })));
    } catch (err) {
      throw failedAt('commit', err);
    }
    m.commitsTotal.inc();
    this.o.progress?.progressed();
    this.o.logger.debug({ records: snap.records, rows: written, duration_ms: Date.now() - started }, 'batch_written');
  }
}
