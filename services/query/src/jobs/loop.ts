// What the query service's scheduled jobs share: runs of one job kind queued one after another (a scheduled run
// and a "run now" never overlap in a process), and a loop that checks for due work every interval and stops
// gracefully (the running check and the queued runs finish first). Only instances with the scheduler enabled start
// the loop; any instance may run a job on demand.
import type { Logger } from '@groupscope/logger';
import { KafkaUnavailableError } from './publisher';

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after everything queued before it. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Settles when everything queued so far has finished. */
  drain(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

export class JobLoop {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  /** `failedEvent` is the log event of a check that threw (each job logs its own run failures). */
  constructor(
    private readonly tick: () => Promise<void>,
    private readonly log: Logger,
    private readonly failedEvent: string,
  ) {}

  /** Checks for due work every `intervalMs` (and once at start). */
  start(intervalMs: number): void {
    const loop = () => {
      this.ticking = this.tick()
        .catch((err: unknown) => this.log.warn({ err }, this.failedEvent))
        .finally(() => {
          this.ticking = undefined;
          if (this.timer) this.timer = setTimeout(loop, intervalMs);
        });
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    const t = this.timer;
    this.timer = undefined;
    if (t) clearTimeout(t);
    await this.ticking;
  }
}

/**
 * A feature's scheduled runs: `tick()` finds what is due, runs go through one queue, start/stop drive the loop.
 * A Kafka outage fails every run the same way, so a round stops at the first one (the next tick tries again).
 */
export abstract class ScheduledRunner {
  private readonly queue = new SerialQueue();
  private readonly loop: JobLoop;

  protected constructor(log: Logger, tickFailedEvent: string) {
    this.loop = new JobLoop(() => this.tick(), log, tickFailedEvent);
  }

  /** Runs whatever is due now. */
  abstract tick(): Promise<void>;

  /** Runs `fn` after every run queued before it. */
  protected queued<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.run(fn);
  }

  /** Runs each due item in turn; a failure is reported to `failed`, and a Kafka outage ends the round. */
  protected async runEach<T>(due: readonly T[], run: (item: T) => Promise<unknown>, failed: (item: T, err: unknown) => void): Promise<void> {
    for (const item of due) {
      try {
        await run(item);
      } catch (err) {
        failed(item, err);
        if (err instanceof KafkaUnavailableError) return;
      }
    }
  }

  /** Checks for due work every `intervalMs` (and once at start). */
  start(intervalMs: number): void {
    this.loop.start(intervalMs);
  }

  /** Stops checking, then waits for the running and queued runs. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await this.queue.drain();
  }
}
