// Second stage: decoded records wait per Kafka partition until a flush takes them, which happens when enough
// are buffered (rows) or the oldest has waited long enough (age). Tracks how far each partition was consumed,
// so a batch handed over again is not buffered twice.
import type { DeadLetter, KafkaMessage } from '@groupscope/kafka';
import type { GroupRow, Row } from '@groupscope/schema';
import { decode, type Source } from './decode';
import { LineBuffer } from './lines';

export interface PartitionBuffer {
  topic: string;
  partition: number;
  /** highest offset consumed into this buffer, transaction markers included: the commit goes one past it */
  lastOffset: number;
  records: number;
  /** enriched events: each line feeds both events and event_groups */
  events: LineBuffer | null;
  groups: GroupRow[];
  history: Row[];
  dead: DeadLetter[];
  /** every buffered record as consumed, in offset order: a record ClickHouse refuses is dead-lettered as it came */
  messages: KafkaMessage[];
}

export interface FetchedBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  /** the batch's last offset, transaction markers included (may be past the last message) */
  lastOffset?: string;
}

export class WriteBuffer {
  private parts = new Map<string, PartitionBuffer>();
  private consumedUpTo = new Map<string, number>();
  /** records buffered, over all partitions */
  records = 0;
  /** when the oldest buffered record arrived (ms) */
  oldestAt = 0;

  constructor(private readonly sourceOf: (topic: string) => Source) {}

  /** Decodes and buffers a batch's records not buffered before; returns how many were added. */
  add(batch: FetchedBatch, now: number): number {
    const key = `${batch.topic}:${batch.partition}`;
    const seen = this.consumedUpTo.get(key) ?? -1;
    const source = this.sourceOf(batch.topic);
    let buf = this.parts.get(key);
    let added = 0;
    for (const msg of batch.messages) {
      const offset = Number(msg.offset);
      if (offset <= seen) continue; // the same batch handed over again
      if (!buf) {
        buf = { topic: batch.topic, partition: batch.partition, lastOffset: -1, records: 0, events: null, groups: [], history: [], dead: [], messages: [] };
        this.parts.set(key, buf);
      }
      const d = decode(source, batch.topic, batch.partition, msg, offset);
      if (d.kind === 'event') (buf.events ??= new LineBuffer()).append(d.row.line, offset, d.row.month, d.row.groupRows);
      else if (d.kind === 'change') {
        buf.groups.push(d.rows.group);
        for (const r of d.rows.history) buf.history.push(r);
      } else buf.dead.push(d.letter);
      if (d.kind !== 'dead') buf.messages.push(msg);
      buf.records++;
      buf.lastOffset = offset;
      added++;
    }
    if (added === 0) return 0;
    // a transaction marker after the last message belongs to this batch too: committing past it leaves no lag
    const last = Number(batch.lastOffset ?? -1);
    if (last > buf!.lastOffset) buf!.lastOffset = last;
    this.consumedUpTo.set(key, buf!.lastOffset);
    if (this.records === 0) this.oldestAt = now;
    this.records += added;
    return added;
  }

  /** Hands over everything buffered; the buffer starts empty (still knowing what was consumed). */
  take(): PartitionBuffer[] {
    const parts = [...this.parts.values()];
    this.discard();
    return parts;
  }

  /** Drops what is buffered, to be consumed again after the next rebalance. */
  discard(): void {
    this.parts = new Map();
    this.records = 0;
  }

  /** Forgets everything, consumption positions included: after a rebalance, consumption restarts from the commits. */
  reset(): void {
    this.discard();
    this.consumedUpTo = new Map();
  }
}
