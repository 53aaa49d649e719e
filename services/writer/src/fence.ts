// Storage-side ownership of partitions (the fence of packages/clickhouse, table writer_fences). Kafka's group
// membership alone cannot keep an evicted writer that has not noticed yet (a zombie) from inserting a batch after
// the new owner read the offset watermarks: both would store the same records. So on each assignment the writer
// writes a fresh token for all its partitions, waits until every INSERT of those partitions already running in
// ClickHouse has finished (killing them after a grace period), and only then may its flushes read watermarks and
// insert. Every INSERT carries the token: one of a zombie that starts later is refused by ClickHouse, one that
// started earlier has landed before the new owner reads what the tables hold.
import { randomUUID } from 'node:crypto';
import { killQuery, runningFencedInserts, writeFence, type ClickHouse } from '@groupscope/clickhouse';
import type { Logger } from '@groupscope/logger';
import * as m from './metrics';

export interface FenceOptions {
  ch: ClickHouse;
  logger: Logger;
  /** how often the process list is read while older INSERTs run */
  pollMs?: number;
  /** older INSERTs still running after this long are killed (each is waited for either way) */
  killAfterMs?: number;
}

interface Held {
  generation: number;
  token: string;
  /** partitions by topic */
  assignment: Map<string, number[]>;
  assignedAt: number;
  established: boolean;
  pending: Promise<void> | null;
}

/** The fence is no longer wanted: the partitions moved again before it was in place. */
export class FenceSuperseded extends Error {
  constructor() {
    super('the partitions were assigned again before their fence was in place');
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Fences {
  private held: Held | null = null;
  private previous: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly o: FenceOptions) {
    this.log = o.logger.child({ module: 'fence' });
  }

  /** A new assignment (generation): a new token; the fence is put in place by the first `establish`. */
  assigned(generation: number, assignment: Record<string, readonly number[]>): void {
    const partitions = new Map(Object.entries(assignment).filter(([, ps]) => ps.length > 0).map(([t, ps]) => [t, [...ps]] as [string, number[]]));
    this.held = { generation, token: randomUUID(), assignment: partitions, assignedAt: Date.now(), established: false, pending: null };
  }

  /** The token every INSERT of `generation` carries. */
  token(generation: number): string {
    if (this.held?.generation !== generation) throw new FenceSuperseded();
    return this.held.token;
  }

  /**
   * Resolves once the fence of `generation` is in place (at once when it is). Throws FenceSuperseded when the
   * partitions were assigned again meanwhile, or ClickHouse's error: a later call tries again.
   */
  async establish(generation: number): Promise<void> {
    const held = this.held;
    if (!held || held.generation !== generation) throw new FenceSuperseded();
    if (held.established) return;
    // one put at a time: an older generation's token written after this one's would fence this writer out itself
    held.pending ??= this.previous
      .catch(() => undefined)
      .then(() => this.put(held))
      .then(() => {
        held.established = true;
      })
      .finally(() => {
        held.pending = null;
      });
    this.previous = held.pending;
    await held.pending;
  }

  private async put(held: Held): Promise<void> {
    const { ch } = this.o;
    const started = Date.now();
    if (this.held !== held) throw new FenceSuperseded();
    await writeFence(ch, held.assignment, held.token);
    // what was already running: every INSERT that starts from now on reads the new token and is refused
    const overlaps = (q: { topic: string; partitions: number[] }) => held.assignment.get(q.topic)?.some((p) => q.partitions.includes(p)) ?? false;
    let waiting = new Set((await runningFencedInserts(ch)).filter(overlaps).map((q) => q.queryId));
    if (waiting.size > 0) this.log.info({ generation: held.generation, inserts: [...waiting] }, 'fence_waiting_for_older_inserts');
    let killed = false;
    while (waiting.size > 0) {
      if (this.held !== held) throw new FenceSuperseded();
      await sleep(this.o.pollMs ?? 100);
      const running = new Set((await runningFencedInserts(ch)).map((q) => q.queryId));
      waiting = new Set([...waiting].filter((id) => running.has(id)));
      if (!killed && waiting.size > 0 && Date.now() - started >= (this.o.killAfterMs ?? 10_000)) {
        killed = true;
        this.log.warn({ generation: held.generation, inserts: [...waiting] }, 'fence_killing_older_inserts');
        for (const id of waiting) await killQuery(ch, id).catch((err: unknown) => this.log.warn({ err, query_id: id }, 'fence_kill_failed'));
      }
    }
    if (this.held !== held) throw new FenceSuperseded();
    m.fenceWait.observe((Date.now() - held.assignedAt) / 1000);
    this.log.info(
      { generation: held.generation, partitions: [...held.assignment].map(([t, ps]) => `${t}:${ps.join(',')}`), duration_ms: Date.now() - started },
      'partitions_fenced',
    );
  }
}
