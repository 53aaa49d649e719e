import { GlobalWatermark, PartitionWatermark, positionOf } from './watermark';

/** One step on a partition: a record (r) or a mark (m, or leave), from a producer ('' = unordered) at a position. */
type Step = [kind: 'r' | 'm' | 'leave', producer: string, pos: number];
/** What each step yields: the effective position of a record (marks: null) and the watermark after it. */
type Expect = [e: number | null, wm: number];

function run(expiry: number, steps: Step[]): Expect[] {
  const w = new PartitionWatermark(expiry);
  return steps.map(([kind, producer, pos]) => {
    const e = w.observe(producer, pos, kind === 'leave');
    return [kind === 'r' ? e : null, w.wm];
  });
}

describe('PartitionWatermark', () => {
  it.each<[string, number, Step[], Expect[]]>([
    [
      'one producer: its positions are the watermark, records apply at their own position',
      1000,
      [['m', 'A', 100], ['r', 'A', 150], ['r', 'A', 160], ['m', 'A', 200]],
      [[null, 100], [150, 150], [160, 160], [null, 200]],
    ],
    [
      'two producers: the watermark follows the slower one',
      1000,
      [['m', 'A', 100], ['m', 'B', 90], ['r', 'A', 150], ['r', 'B', 120], ['m', 'A', 200], ['m', 'B', 210]],
      [[null, 100], [null, 100], [150, 100], [120, 120], [null, 120], [null, 200]],
    ],
    [
      'a record behind the watermark is late: it applies from the watermark on',
      1000,
      [['m', 'A', 100], ['m', 'B', 300], ['m', 'A', 400], ['r', 'A', 250]],
      [[null, 100], [null, 100], [null, 300], [300, 300]],
    ],
    [
      'an unordered record (no producer or no position) takes the watermark as it stands',
      1000,
      [['r', '', 0], ['m', 'A', 100], ['r', '', 500], ['r', 'A', 0]],
      [[0, 0], [null, 100], [100, 100], [100, 100]],
    ],
    [
      'leave: the remaining producers decide; the last one leaves the watermark at its final position',
      1000,
      [['m', 'A', 100], ['m', 'B', 150], ['m', 'A', 300], ['leave', 'B', 200], ['leave', 'A', 350], ['r', 'C', 320]],
      [[null, 100], [null, 100], [null, 150], [null, 300], [null, 350], [350, 350]],
    ],
    [
      'a producer that left and comes back is waited for again',
      1000,
      [['m', 'A', 100], ['m', 'B', 100], ['leave', 'B', 110], ['m', 'A', 200], ['m', 'B', 210], ['m', 'A', 300]],
      [[null, 100], [null, 100], [null, 100], [null, 200], [null, 200], [null, 210]],
    ],
    [
      'expiry: a producer more than the expiry behind the newest position is no longer waited for',
      1000,
      [['m', 'A', 100], ['m', 'B', 150], ['m', 'B', 1050], ['m', 'B', 1200], ['r', 'A', 300], ['m', 'A', 1300]],
      [[null, 100], [null, 100], [null, 100], [null, 1200], [1200, 1200], [null, 1200]],
    ],
    [
      'a new producer already beyond the expiry behind is not waited for at all',
      1000,
      [['m', 'A', 5000], ['r', 'C', 100], ['m', 'A', 5100]],
      [[null, 5000], [5000, 5000], [null, 5100]],
    ],
  ])('%s', (_name, expiry, steps, expected) => {
    expect(run(expiry, steps)).toEqual(expected);
  });

  it('restores from its encoded state and clones independently', () => {
    const w = new PartitionWatermark(1000);
    w.observe('B', 120);
    w.observe('A', 100);
    expect(w.producers()).toEqual([['A', 100], ['B', 120]]);
    const restored = new PartitionWatermark(1000, w.wm, w.producers());
    const copy = restored.clone();
    copy.observe('A', 500);
    expect(copy.wm).toBe(120);
    expect(restored.producers()).toEqual([['A', 100], ['B', 120]]);
    // the same further steps give the same results on the original and on a restored copy
    for (const x of [w, restored]) expect([x.observe('B', 300), x.observe('A', 250), x.wm]).toEqual([300, 250, 250]);
  });
});

describe('positionOf', () => {
  it.each([
    [{ receive_pos: 5, producer_id: 'gw' }, 5],
    [{ receive_pos: 0, producer_id: 'gw' }, 0],
    [{ receive_pos: 5, producer_id: '' }, 0],
    [{}, 0],
  ])('%j -> %d', (r, pos) => expect(positionOf(r)).toBe(pos));
});

describe('GlobalWatermark', () => {
  function clocked(maxStallMs = 1000) {
    let now = 0;
    const g = new GlobalWatermark(maxStallMs, () => now);
    return { g, advance: (ms: number) => (now += ms) };
  }

  it('is the smallest watermark over all partitions, 0 until every partition reported, and never goes back', () => {
    const { g } = clocked();
    g.setPartitions(3);
    g.set(0, 100);
    g.set(1, 50);
    expect(g.value).toBe(0);
    g.set(2, 70);
    expect(g.value).toBe(50);
    g.set(1, 40); // older news
    expect(g.of(1)).toBe(50);
    g.set(1, 200);
    expect(g.value).toBe(70);
  });

  it('is stalled once it has not advanced for longer than the maximum', () => {
    const { g, advance } = clocked(1000);
    g.setPartitions(1);
    g.set(0, 10);
    advance(1000);
    expect(g.stalled()).toBe(false);
    advance(1);
    expect(g.stalled()).toBe(true);
    g.set(0, 11);
    expect(g.stalled()).toBe(false);
  });

  it('a wait ends when the watermark reaches the position, stalls, or the caller stops', async () => {
    const { g, advance } = clocked(1000);
    g.setPartitions(2);
    g.set(0, 100);
    const reached = g.wait(100, {}, 5);
    g.set(1, 150);
    await expect(reached).resolves.toBe('reached');
    await expect(g.wait(100)).resolves.toBe('reached'); // already there: at once

    let running = true;
    const stopped = g.wait(500, { isRunning: () => running }, 5);
    running = false;
    await expect(stopped).resolves.toBe('stopped');

    let beats = 0;
    const stalled = g.wait(500, { heartbeat: async () => void beats++ }, 5);
    advance(1500);
    await expect(stalled).resolves.toBe('stalled');
    expect(beats).toBeGreaterThan(0);
    // while it stays stalled, a new wait returns at once
    await expect(g.wait(600)).resolves.toBe('stalled');
  });
});
