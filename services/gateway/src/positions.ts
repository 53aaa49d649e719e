// Receive positions and watermark marks. Every accepted record gets this gateway's receive position: a hybrid
// logical clock in microseconds, max(now * 1000, last + 1), so positions strictly increase in acceptance order
// (request order within a request) even when the wall clock steps back, and stay close to the wall clock, which
// is what makes positions of several gateways comparable. Records are queued for Kafka in the order their positions
// were assigned (both happen in one synchronous step per request), so each partition receives one gateway's
// records in position order.
//
// Periodically, and before the gateway accepts traffic, it sends a mark with a fresh position to every partition of
// the group-identify topic, queued behind every record with a smaller position: the enricher learns from it that
// nothing at or below that position will follow from this gateway there. After draining at shutdown a `leave` mark
// says that nothing follows at all.
import { markMessage } from '@groupscope/events';
import type { Logger } from '@groupscope/logger';
import type { Batcher } from './batcher';
import * as metrics from './metrics';
import type { OutMessage } from './records';

/** What records are stamped with: the producer (this gateway instance) and its next position. */
export interface Positions {
  readonly producerId: string;
  next(): number;
}

/** A hybrid logical clock in microseconds: strictly increasing, never behind the wall clock. */
export class ReceiveClock implements Positions {
  private last = 0;

  constructor(
    readonly producerId: string,
    private readonly nowMs: () => number = Date.now,
  ) {}

  next(): number {
    this.last = Math.max(Math.floor(this.nowMs()) * 1000, this.last + 1);
    return this.last;
  }
}

export interface MarkerOptions {
  clock: ReceiveClock;
  batcher: Batcher;
  /** partitions of the group-identify topic */
  partitions: number;
  intervalMs: number;
  logger: Logger;
}

/** Sends this gateway's marks: one at start, one every interval, and a `leave` mark at shutdown. */
export class Marker {
  private timer?: NodeJS.Timeout;
  private pending?: Promise<void>;
  private readonly log: Logger;

  constructor(private readonly opts: MarkerOptions) {
    this.log = opts.logger.child({ module: 'marks' });
  }

  /** The messages of one mark (a new position, one message per partition); exported for tests. */
  messages(leave: boolean): OutMessage[] {
    const mark = { producer_id: this.opts.clock.producerId, pos: this.opts.clock.next(), leave };
    return Array.from({ length: this.opts.partitions }, (_, q) => ({ role: 'groupIdentify' as const, ...markMessage(mark, q) }));
  }

  /** Sends a mark to every partition and resolves once Kafka acknowledged it. */
  async send(leave = false): Promise<void> {
    try {
      // the position is taken and the messages queued in one synchronous step: behind every earlier record
      await this.opts.batcher.submit(this.messages(leave), { afterEarlier: true });
      metrics.marks.inc({ kind: leave ? 'leave' : 'mark', outcome: 'ok' });
    } catch (err) {
      metrics.marks.inc({ kind: leave ? 'leave' : 'mark', outcome: 'failed' });
      throw err;
    }
  }

  /** Periodic marks; a tick is skipped while the previous mark is not acknowledged yet. */
  start(): void {
    this.timer = setInterval(() => {
      if (this.pending) return;
      this.pending = this.send()
        .catch((err: Error) => this.log.debug({ err: { name: err.name, message: err.message } }, 'mark_failed'))
        .finally(() => (this.pending = undefined));
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  /** Stops the periodic marks (waits for one under way). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.pending;
  }
}
