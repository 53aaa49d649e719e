// A steady stream of Amplitude HTTP API requests for fault tests, sent like an SDK sends: every event has a unique
// insert_id; a request answered 503 (or not answered at all) is sent again, unchanged, after a back-off, until it
// gets a 2xx. Every reply is recorded: statuses, when each 2xx came, which insert_ids were acknowledged.
export interface LoadOptions {
  /** the gateway's base URL */
  url: string;
  apiKey: string;
  /** insert_ids are `${idPrefix}-${seq}`; event_properties.seq = seq */
  idPrefix: string;
  eventsPerSecond: number;
  eventsPerRequest: number;
  /** events spread over this many user ids */
  users: number;
  /** most requests outstanding at once (retries included); the stream waits beyond it */
  maxInFlight?: number;
  /** a request still without a 2xx after this long is given up (and reported) */
  giveUpAfterMs?: number;
}

export interface LoadReport {
  events: number;
  requests: number;
  acknowledgedEvents: number;
  statuses: Record<string, number>;
  /** network errors (no HTTP reply), each followed by a resend */
  connectionErrors: number;
  /** their error codes */
  connectionErrorKinds: Record<string, number>;
  givenUp: number;
  /** longest time between two consecutive 2xx replies while the stream ran (ms) */
  longestOkGapMs: number;
  /** when that gap started and ended (ms since the stream started) */
  longestOkGapAt: [number, number];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SteadyLoad {
  /** insert_ids the gateway answered 2xx for */
  readonly acknowledged = new Set<string>();
  readonly statuses = new Map<string, number>();
  /** what the requests without an HTTP reply failed with (error codes) */
  readonly errorKinds = new Map<string, number>();
  /** times (performance.now()) of every 2xx reply */
  private readonly okTimes: number[] = [];
  private seq = 0;
  private requests = 0;
  private inFlight = 0;
  private connectionErrors = 0;
  private givenUp = 0;
  private running = false;
  private loop?: Promise<void>;
  private readonly pending = new Set<Promise<void>>();
  private startedAt = 0;
  private stoppedAt = 0;

  constructor(private readonly opts: LoadOptions) {}

  get sentEvents(): number {
    return this.seq;
  }

  /** 2xx replies so far */
  get okCount(): number {
    return this.okTimes.length;
  }

  /** Starts sending; returns at once. */
  start(): void {
    this.running = true;
    this.startedAt = performance.now();
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const { eventsPerSecond, eventsPerRequest, maxInFlight = 400 } = this.opts;
    const interval = (1000 * eventsPerRequest) / eventsPerSecond;
    let n = 0;
    while (this.running) {
      const due = this.startedAt + n * interval;
      const now = performance.now();
      if (now < due) await sleep(due - now);
      if (!this.running) break;
      if (this.inFlight >= maxInFlight) {
        await sleep(20);
        continue;
      }
      n++;
      const p = this.send(this.nextBody());
      this.pending.add(p);
      void p.finally(() => this.pending.delete(p));
    }
  }

  private nextBody(): { ids: string[]; body: string } {
    const { idPrefix, eventsPerRequest, users, apiKey } = this.opts;
    const ids: string[] = [];
    const events = [];
    const time = Date.now();
    for (let i = 0; i < eventsPerRequest; i++) {
      const seq = this.seq++;
      const id = `${idPrefix}-${seq}`;
      ids.push(id);
      events.push({ user_id: `load-user-${seq % users}`, event_type: 'Load Event', insert_id: id, time, event_properties: { seq } });
    }
    return { ids, body: JSON.stringify({ api_key: apiKey, events }) };
  }

  private async send({ ids, body }: { ids: string[]; body: string }): Promise<void> {
    const deadline = performance.now() + (this.opts.giveUpAfterMs ?? 180_000);
    this.inFlight++;
    try {
      for (let attempt = 1; ; attempt++) {
        this.requests++;
        let status: number | undefined;
        try {
          const res = await fetch(`${this.opts.url}/2/httpapi`, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json' },
            signal: AbortSignal.timeout(60_000),
          });
          status = res.status;
          await res.arrayBuffer();
        } catch (err) {
          this.connectionErrors++;
          const cause = (err as { cause?: { code?: string; message?: string } }).cause;
          const kind = cause?.code ?? cause?.message ?? (err as Error).message;
          this.errorKinds.set(kind, (this.errorKinds.get(kind) ?? 0) + 1);
        }
        if (status !== undefined) this.statuses.set(String(status), (this.statuses.get(String(status)) ?? 0) + 1);
        if (status !== undefined && status >= 200 && status < 300) {
          this.okTimes.push(performance.now());
          for (const id of ids) this.acknowledged.add(id);
          return;
        }
        // only 503 and no reply at all are worth another try; anything else is reported as it is
        if (status !== undefined && status !== 503) return;
        if (performance.now() > deadline) {
          this.givenUp++;
          return;
        }
        await sleep(Math.min(2000, 200 * 2 ** Math.min(attempt - 1, 4)));
      }
    } finally {
      this.inFlight--;
    }
  }

  /** Stops sending new events and waits until every request has its final answer (resends included). */
  async stop(): Promise<LoadReport> {
    this.running = false;
    await this.loop;
    this.stoppedAt = performance.now();
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    return this.report();
  }

  report(): LoadReport {
    const times = [this.startedAt, ...this.okTimes.filter((t) => t <= this.stoppedAt), this.stoppedAt].sort((a, b) => a - b);
    let gap = 0;
    let at: [number, number] = [0, 0];
    for (let i = 1; i < times.length; i++) {
      if (times[i]! - times[i - 1]! > gap) {
        gap = times[i]! - times[i - 1]!;
        at = [times[i - 1]! - this.startedAt, times[i]! - this.startedAt];
      }
    }
    return {
      events: this.seq,
      requests: this.requests,
      acknowledgedEvents: this.acknowledged.size,
      statuses: Object.fromEntries(this.statuses),
      connectionErrors: this.connectionErrors,
      connectionErrorKinds: Object.fromEntries(this.errorKinds),
      givenUp: this.givenUp,
      longestOkGapMs: Math.round(gap),
      longestOkGapAt: [Math.round(at[0]), Math.round(at[1])],
    };
  }

  /** ms since the stream started */
  elapsed(): number {
    return performance.now() - this.startedAt;
  }
}
