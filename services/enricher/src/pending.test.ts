import { enqueue, queuedFrom, releasable, wasQueued, type Queued } from './pending';
import { PartitionWatermark } from './watermark';

const q = (offset: number, e: number): Queued<string> => ({ offset, e, item: `r${offset}` });

describe('the queue of group identifies', () => {
  it('orders by effective position, then offset, without changing the queue it was given', () => {
    const queue = [q(3, 200)];
    const next = enqueue(queue, [q(5, 100), q(4, 200), q(6, 300)]);
    expect(next.map((x) => x.offset)).toEqual([5, 3, 4, 6]);
    expect(queue.map((x) => x.offset)).toEqual([3]);
  });

  it.each([
    ['nothing reached', 50, [], [5, 3, 4]],
    ['up to and including the watermark', 200, [5, 3, 4], []],
    ['a prefix', 150, [5], [3, 4]],
  ])('releases %s', (_name, wm, now, later) => {
    const r = releasable([q(5, 100), q(3, 200), q(4, 200)], wm);
    expect([r.now.map((x) => x.offset), r.later.map((x) => x.offset)]).toEqual([now, later]);
  });

  it('rebuilds from the oldest queued offset', () => {
    expect(queuedFrom([q(9, 100), q(4, 200)], 12)).toBe(4);
    expect(queuedFrom([], 12)).toBe(12);
    expect(wasQueued(101, 100)).toBe(true);
    expect(wasQueued(100, 100)).toBe(false);
    expect(wasQueued(0, 0)).toBe(false);
  });
});

/**
 * A model of a group-identify partition as the worker processes it: records (with producer and position) and marks
 * in offset order, in batches; each batch commits (watermark state, checkpoint, queue start). The order in which
 * group identifies are applied must not depend on how the input was cut into batches, nor on a restart from any
 * checkpoint (the queue rebuilt from the input with wasQueued).
 */
type In = { kind: 'mark' | 'gi'; producer: string; pos: number };

function applyOrder(input: In[], cuts: number[], restartAfter?: number): string[] {
  const expiry = 10_000;
  let wm = new PartitionWatermark(expiry);
  let queue: Queued<number>[] = [];
  let checkpoint = { next: 0, wm: 0, producers: [] as [string, number][], from: 0 };
  const applied: string[] = [];
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < input.length), input.length];
  for (let b = 0; b + 1 < bounds.length; b++) {
    if (restartAfter !== undefined && b === restartAfter) {
      // a new owner: watermark state from the checkpoint, queue rebuilt from [from, next)
      wm = new PartitionWatermark(expiry, checkpoint.wm, checkpoint.producers);
      const found: Queued<number>[] = [];
      for (let o = checkpoint.from; o < checkpoint.next; o++) {
        const x = input[o]!;
        if (x.kind === 'gi' && wasQueued(x.pos, checkpoint.wm)) found.push({ offset: o, e: x.pos, item: o });
      }
      queue = enqueue([], found);
    }
    const arrived: Queued<number>[] = [];
    for (let o = bounds[b]!; o < bounds[b + 1]!; o++) {
      const x = input[o]!;
      const e = wm.observe(x.producer, x.pos);
      if (x.kind === 'gi') arrived.push({ offset: o, e, item: o });
    }
    const { now, later } = releasable(enqueue(queue, arrived), wm.wm);
    for (const r of now) applied.push(`${r.offset}@${r.e}`);
    queue = later;
    checkpoint = { next: bounds[b + 1]!, wm: wm.wm, producers: wm.producers(), from: queuedFrom(later, bounds[b + 1]!) };
  }
  return applied;
}

describe('determinism of the applied order', () => {
  // two gateways whose records interleave out of position order, a late record, an unordered one, marks
  const input: In[] = [
    { kind: 'mark', producer: 'A', pos: 100 },
    { kind: 'mark', producer: 'B', pos: 100 },
    { kind: 'gi', producer: 'A', pos: 300 },
    { kind: 'gi', producer: 'B', pos: 250 },
    { kind: 'gi', producer: 'A', pos: 310 },
    { kind: 'mark', producer: 'A', pos: 400 },
    { kind: 'gi', producer: 'B', pos: 260 },
    { kind: 'gi', producer: '', pos: 0 },
    { kind: 'mark', producer: 'B', pos: 500 },
    { kind: 'gi', producer: 'A', pos: 350 },
    { kind: 'mark', producer: 'A', pos: 600 },
    { kind: 'gi', producer: 'B', pos: 550 },
    { kind: 'mark', producer: 'B', pos: 700 },
  ];
  const reference = applyOrder(input, []);

  it('applies in position order across producers; late and unordered records at the watermark', () => {
    // B's 250 and 260 come before A's 300 and 310 although they arrived later; the unordered record applies at the
    // watermark it found (260, after B's 260 by offset); A's 350 arrived after the watermark had passed it (400) and
    // applies at 400
    expect(reference).toEqual(['3@250', '6@260', '7@260', '2@300', '4@310', '9@400', '11@550']);
  });

  it.each([
    ['one record per batch', Array.from({ length: input.length }, (_, i) => i)],
    ['pairs', [2, 4, 6, 8, 10, 12]],
    ['uneven', [3, 7, 8]],
    ['one big batch', []],
  ])('the same for batches of %s, and after a restart at any checkpoint', (_name, cuts) => {
    expect(applyOrder(input, cuts)).toEqual(reference);
    const batches = cuts.filter((c) => c > 0 && c < input.length).length + 1;
    for (let restart = 1; restart < batches; restart++) expect(applyOrder(input, cuts, restart)).toEqual(reference);
  });
});
