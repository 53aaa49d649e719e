// Hands requests' messages to Kafka and settles each request once all its messages are acknowledged, or fails it
// at its deadline. Concurrent requests are coalesced: while one producer send is in flight, arriving messages
// queue, and the next send takes everything queued (up to a message and byte cap), so Kafka sees a few large
// requests instead of many small ones.
//
// Deadlines: kafkajs' idempotent producer retries without bound, so each request races its deadline. Messages
// still queued at the deadline are withdrawn (never sent). Messages already inside a send cannot be withdrawn:
// such a send may still be acknowledged after its request got 503; the client resends, and the duplicate is
// dropped downstream by insert_id (the enricher's de-duplication), which is why every accepted event should
// carry one (the SDKs always set it).
//
// Order: messages go to Kafka in the order they were submitted (one send at a time, each taking from the head of
// the queue), so a watermark mark submitted after some records lands on its partition after them. Without
// coalescing, requests are sent concurrently; a mark then waits until every earlier submission is out of the queue.
import type { OutMessage, TopicRole } from './records';
import { messageBytes } from './records';

export interface TopicBatch {
  topic: string;
  /** an explicit partition, or the key's hash chooses */
  messages: { key: string; value: Buffer; headers: Record<string, string>; partition?: number }[];
}
export type SendFn = (batches: TopicBatch[]) => Promise<void>;

export class KafkaTimeoutError extends Error {
  readonly reason = 'timeout';
}
export class BackpressureError extends Error {
  readonly reason = 'backpressure';
}

export interface BatcherOptions {
  send: SendFn;
  topics: Record<TopicRole, string>;
  /** deadline of a request, from submit to acknowledgement */
  timeoutMs: number;
  /** coalesce requests (true) or send each request on its own (false) */
  microbatch: boolean;
  lingerMs: number;
  maxMessages: number;
  maxBytes: number;
  /** bytes waiting or in flight beyond which submit fails at once */
  maxQueuedBytes: number;
  /** called after every producer send */
  onSend?(info: { ms: number; messages: number; bytes: number; ok: boolean; error?: unknown }): void;
}

interface Entry {
  messages: OutMessage[];
  sizes: number[];
  /** messages[0..next) are taken into sends */
  next: number;
  untakenBytes: number;
  /** sends holding some of this entry's messages, not yet settled */
  outstanding: number;
  settled: boolean;
  resolve(): void;
  reject(err: Error): void;
  timer?: NodeJS.Timeout;
}

interface Chunk {
  entries: Set<Entry>;
  byTopic: Map<string, TopicBatch['messages']>;
  count: number;
  bytes: number;
}

export class Batcher {
  private queue: Entry[] = [];
  private inFlight = 0;
  private inFlightSince = 0;
  private scheduled = false;
  /** bytes queued or inside unsettled sends */
  private pendingBytes = 0;
  private drainWaiters: (() => void)[] = [];
  /** sends of uncoalesced requests still under way */
  private readonly alone = new Set<Promise<void>>();

  constructor(private readonly opts: BatcherOptions) {}

  get stats() {
    return { queued: this.queue.length, inFlight: this.inFlight, pendingBytes: this.pendingBytes };
  }

  /** How long the current producer send has been waiting for Kafka (0 when none is in flight). */
  stalledMs(now = Date.now()): number {
    return this.inFlight > 0 ? now - this.inFlightSince : 0;
  }

  /**
   * Resolves when Kafka acknowledged every message; rejects with KafkaTimeoutError, BackpressureError or the send's
   * error. `afterEarlier`: the messages must not reach a partition before those of any earlier submission (a mark).
   */
  submit(messages: OutMessage[], opts: { afterEarlier?: boolean } = {}): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    const sizes = messages.map(messageBytes);
    const bytes = sizes.reduce((a, b) => a + b, 0);
    if (this.pendingBytes > 0 && this.pendingBytes + bytes > this.opts.maxQueuedBytes) {
      return Promise.reject(new BackpressureError('too many records waiting for Kafka'));
    }
    // a send stuck beyond a whole deadline means Kafka is away: answer at once instead of holding the request
    if (this.stalledMs() > this.opts.timeoutMs) {
      return Promise.reject(new KafkaTimeoutError('Kafka has not acknowledged a send for longer than the deadline'));
    }
    return new Promise<void>((resolve, reject) => {
      const entry: Entry = { messages, sizes, next: 0, untakenBytes: bytes, outstanding: 0, settled: false, resolve, reject };
      entry.timer = setTimeout(() => this.settle(entry, new KafkaTimeoutError(`Kafka did not acknowledge within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
      this.pendingBytes += bytes;
      if (this.opts.microbatch) {
        this.queue.push(entry);
        this.schedule();
      } else {
        const earlier = opts.afterEarlier ? Promise.allSettled([...this.alone]) : undefined;
        const run = (earlier ? earlier.then(() => this.sendAlone(entry)) : this.sendAlone(entry)).finally(() => this.alone.delete(run));
        this.alone.add(run);
      }
    });
  }

  /** Waits until nothing is queued or in flight, or timeoutMs passed. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.idle()) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.drainWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private idle(): boolean {
    return this.inFlight === 0 && this.queue.every((e) => e.settled);
  }

  private settle(entry: Entry, err?: Error): void {
    if (entry.settled) return;
    entry.settled = true;
    clearTimeout(entry.timer);
    if (entry.untakenBytes > 0) {
      // withdrawn before being sent
      this.pendingBytes -= entry.untakenBytes;
      entry.untakenBytes = 0;
      entry.next = entry.messages.length;
    }
    if (err) entry.reject(err);
    else entry.resolve();
    this.maybeDrained();
  }

  private maybeDrained(): void {
    if (this.drainWaiters.length > 0 && this.idle()) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight > 0) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      this.pump();
    };
    if (this.opts.lingerMs > 0) setTimeout(run, this.opts.lingerMs);
    else setImmediate(run);
  }

  /** One send at a time (the idempotent producer has one request in flight per broker anyway). */
  private pump(): void {
    if (this.inFlight > 0) return;
    const chunk = this.take(this.queue);
    if (!chunk) {
      this.maybeDrained();
      return;
    }
    void this.run(chunk).then(() => {
      if (this.queue.length > 0) this.pump();
      else this.maybeDrained();
    });
  }

  /** Takes messages from the head of `entries` up to the caps; always at least one message. */
  private take(entries: Entry[]): Chunk | undefined {
    const chunk: Chunk = { entries: new Set(), byTopic: new Map(), count: 0, bytes: 0 };
    while (entries.length > 0) {
      const e = entries[0]!;
      if (e.settled || e.next >= e.messages.length) {
        entries.shift();
        continue;
      }
      while (e.next < e.messages.length) {
        const size = e.sizes[e.next]!;
        if (chunk.count > 0 && (chunk.count >= this.opts.maxMessages || chunk.bytes + size > this.opts.maxBytes)) return chunk;
        const m = e.messages[e.next]!;
        const topic = this.opts.topics[m.role];
        let list = chunk.byTopic.get(topic);
        if (!list) chunk.byTopic.set(topic, (list = []));
        list.push(m.partition === undefined ? { key: m.key, value: m.value, headers: m.headers } : { key: m.key, value: m.value, headers: m.headers, partition: m.partition });
        chunk.count++;
        chunk.bytes += size;
        e.next++;
        e.untakenBytes -= size;
        if (!chunk.entries.has(e)) {
          chunk.entries.add(e);
          e.outstanding++;
        }
      }
      entries.shift();
    }
    return chunk.count > 0 ? chunk : undefined;
  }

  private async run(chunk: Chunk): Promise<void> {
    this.inFlight++;
    this.inFlightSince = Date.now();
    const t0 = performance.now();
    let error: unknown;
    try {
      await this.opts.send([...chunk.byTopic].map(([topic, messages]) => ({ topic, messages })));
    } catch (err) {
      error = err;
    }
    this.inFlight--;
    this.pendingBytes -= chunk.bytes;
    try {
      this.opts.onSend?.({ ms: performance.now() - t0, messages: chunk.count, bytes: chunk.bytes, ok: error === undefined, error });
    } catch {
      // an observer's failure must not leave requests unsettled
    }
    for (const e of chunk.entries) {
      e.outstanding--;
      if (error !== undefined) this.settle(e, error instanceof Error ? error : new Error(String(error)));
      else if (e.outstanding === 0 && e.next >= e.messages.length) this.settle(e);
    }
  }

  /** Without coalescing: the request's own messages, in sends of at most the caps, one after another. */
  private async sendAlone(entry: Entry): Promise<void> {
    const own = [entry];
    while (!entry.settled && own.length > 0) {
      const chunk = this.take(own);
      if (!chunk) break;
      await this.run(chunk);
    }
    this.maybeDrained();
  }
}
