// The one retry loop: exponential back-off between attempts, bounded or not, with a way to stop waiting. Used for
// batches a consumer handler failed, writes to ClickHouse, and broker calls that fail while a topic settles.

export interface RetryOptions {
  /** pause after the first failure (ms); doubles after each further failure */
  initialMs?: number;
  /** longest pause (ms) */
  maxMs?: number;
  /** attempts in all, the first included (default: no limit) */
  attempts?: number;
  /** whether an error is worth another attempt (default: every error); others are thrown at once */
  retriable?(err: unknown): boolean;
  /** checked before each attempt and while waiting: once true, the loop ends with RetryStopped */
  stopped?(): boolean;
  /** told about each failure that will be retried */
  onRetry?(err: unknown, attempt: number, delayMs: number): void;
  /** how to wait (default: a timer); e.g. one that keeps a consumer's group membership alive meanwhile */
  sleep?(ms: number): Promise<void>;
}

/** The loop ended because `stopped()` said so, not because the work failed for good. */
export class RetryStopped extends Error {
  constructor(readonly lastError?: unknown) {
    super('stopped before the work succeeded');
  }
}

/** The pause before attempt `attempt + 1` (attempt counts from 1). */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(30, attempt - 1));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `fn` until it succeeds, an error is not retriable, the attempts run out, or `stopped()` turns true. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const initialMs = opts.initialMs ?? 200;
  const maxMs = opts.maxMs ?? 10_000;
  const wait = opts.sleep ?? sleep;
  let last: unknown;
  for (let attempt = 1; ; attempt++) {
    if (opts.stopped?.()) throw new RetryStopped(last);
    try {
      return await fn(attempt);
    } catch (err) {
      last = err;
      if (opts.retriable && !opts.retriable(err)) throw err;
      if (opts.attempts !== undefined && attempt >= opts.attempts) throw err;
      if (opts.stopped?.()) throw new RetryStopped(err);
      const delay = backoffDelay(attempt, initialMs, maxMs);
      opts.onRetry?.(err, attempt, delay);
      await wait(delay);
    }
  }
}
