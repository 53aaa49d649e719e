// How many API requests run at once, fairly across projects: at most `perProject` of one project and `total` in
// all. A request beyond either waits in a short queue; when a slot frees, the projects with waiting requests take
// turns (round robin), so one project's burst of heavy queries cannot queue everyone else's. A request that finds
// its project's queue full, or waits longer than `queueMs`, is refused (429 with Retry-After). Pure bookkeeping:
// no I/O, the clock only for the queue's wait.

export interface LimiterOptions {
  /** requests of one project running at once */
  perProject: number;
  /** requests running at once in this process */
  total: number;
  /** longest wait in the queue before a 429 */
  queueMs: number;
  /** requests of one project that may wait at once (more are refused at once) */
  maxQueuedPerProject: number;
}

/** A refusal: which cap was reached, and when trying again makes sense. */
export class Refused extends Error {
  constructor(
    readonly scope: 'project' | 'service',
    readonly retryAfterS: number,
  ) {
    super(`too many queries (${scope})`);
  }
}

interface Waiter {
  grant(): void;
  refuse(err: Refused): void;
}

export class QueryLimiter {
  private running = 0;
  private readonly runningBy = new Map<number, number>();
  private readonly waiting = new Map<number, Waiter[]>();
  /** projects with waiting requests, in the order they get their next turn */
  private readonly turns: number[] = [];

  constructor(private readonly o: LimiterOptions) {}

  /** Requests running now (all, or of one project). */
  active(projectId?: number): number {
    return projectId === undefined ? this.running : (this.runningBy.get(projectId) ?? 0);
  }

  queued(projectId: number): number {
    return this.waiting.get(projectId)?.length ?? 0;
  }

  /**
   * A slot for one request of `projectId`; the returned function gives it back (once). Rejects with Refused, or with
   * `signal`'s reason when the request is abandoned while it waits.
   */
  acquire(projectId: number, signal?: AbortSignal): Promise<() => void> {
    if (this.canRun(projectId)) return Promise.resolve(this.start(projectId));
    const queue = this.waiting.get(projectId) ?? [];
    const projectFull = (this.runningBy.get(projectId) ?? 0) >= this.o.perProject;
    if (queue.length >= this.o.maxQueuedPerProject) return Promise.reject(new Refused(projectFull ? 'project' : 'service', this.retryAfterS()));
    return new Promise<() => void>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.remove(projectId, waiter);
      };
      const waiter: Waiter = {
        grant: () => {
          settle();
          resolve(this.start(projectId));
        },
        refuse: (err) => {
          settle();
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        const full = (this.runningBy.get(projectId) ?? 0) >= this.o.perProject;
        waiter.refuse(new Refused(full ? 'project' : 'service', this.retryAfterS()));
      }, this.o.queueMs);
      timer.unref();
      const onAbort = () => {
        settle();
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      if (!this.waiting.has(projectId)) {
        this.waiting.set(projectId, queue);
        this.turns.push(projectId);
      }
    });
  }

  private canRun(projectId: number): boolean {
    return this.running < this.o.total && (this.runningBy.get(projectId) ?? 0) < this.o.perProject && this.queued(projectId) === 0;
  }

  private start(projectId: number): () => void {
    this.running++;
    this.runningBy.set(projectId, (this.runningBy.get(projectId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      const n = (this.runningBy.get(projectId) ?? 1) - 1;
      if (n === 0) this.runningBy.delete(projectId);
      else this.runningBy.set(projectId, n);
      this.next();
    };
  }

  /** Gives free slots to waiting requests, one project's turn at a time. */
  private next(): void {
    let tried = 0;
    while (this.running < this.o.total && this.turns.length > 0 && tried < this.turns.length) {
      const projectId = this.turns[0]!;
      // this project's turn is used (or skipped): it goes to the back either way
      this.turns.push(this.turns.shift()!);
      if ((this.runningBy.get(projectId) ?? 0) >= this.o.perProject) {
        tried++;
        continue;
      }
      tried = 0;
      this.waiting.get(projectId)![0]!.grant();
    }
  }

  private remove(projectId: number, waiter: Waiter): void {
    const queue = this.waiting.get(projectId);
    if (!queue) return;
    const i = queue.indexOf(waiter);
    if (i >= 0) queue.splice(i, 1);
    if (queue.length === 0) {
      this.waiting.delete(projectId);
      const t = this.turns.indexOf(projectId);
      if (t >= 0) this.turns.splice(t, 1);
    }
  }

  private retryAfterS(): number {
    return Math.max(1, Math.ceil(this.o.queueMs / 1000));
  }
}
