// The queue of group identifies that arrived but may not be applied yet (pure). A group identify with effective
// position E is applied once its partition's watermark reached E: then no record that comes later can get a smaller
// E (a later record's E is at least the watermark), so applying in (E, offset) order as the watermark moves gives
// every group its versions in position order, whatever order several gateways' records arrived in, and the same
// order on every replay.
//
// The queue is not written anywhere: a checkpoint keeps the offset of its oldest record (`from`) and the watermark,
// and a new owner rebuilds it from the input. A record below the checkpoint was still queued exactly when its own
// position is above the checkpoint's watermark (a queued record's E is its position; a late record's E was a
// watermark, which the checkpoint's watermark covers).

export interface Queued<T> {
  offset: number;
  /** effective position */
  e: number;
  item: T;
}

const byPosition = <T>(a: Queued<T>, b: Queued<T>): number => a.e - b.e || a.offset - b.offset;

/** The queue with `added` in it, in (E, offset) order; `queue` is left as it was. */
export function enqueue<T>(queue: readonly Queued<T>[], added: readonly Queued<T>[]): Queued<T>[] {
  if (added.length === 0) return [...queue];
  return [...queue, ...added].sort(byPosition);
}

/** Splits an ordered queue into what the watermark allows to apply now (in order) and what must wait. */
export function releasable<T>(queue: readonly Queued<T>[], wm: number): { now: Queued<T>[]; later: Queued<T>[] } {
  let i = 0;
  while (i < queue.length && queue[i]!.e <= wm) i++;
  return { now: queue.slice(0, i), later: queue.slice(i) };
}

/** The offset to rebuild the queue from: its oldest record's, or `next` when it is empty. */
export function queuedFrom<T>(queue: readonly Queued<T>[], next: number): number {
  let from = next;
  for (const q of queue) if (q.offset < from) from = q.offset;
  return from;
}

/** Rebuilding: was a record below the checkpoint (at `pos`, 0 when unordered) still queued at a checkpoint with watermark `wm`? */
export const wasQueued = (pos: number, wm: number): boolean => pos > wm;
