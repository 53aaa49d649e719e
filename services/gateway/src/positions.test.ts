import { decodeMark, isMark } from '@groupscope/events';
import { silentLogger } from '@groupscope/logger';
import { Batcher, type TopicBatch } from './batcher';
import { Marker, ReceiveClock } from './positions';

describe('ReceiveClock', () => {
  // each row: wall clock readings (ms) -> positions handed out (microseconds)
  it.each([
    ['follows the wall clock in microseconds', [1000, 1001, 1005], [1_000_000, 1_001_000, 1_005_000]],
    ['counts on by one within the same millisecond', [1000, 1000, 1000], [1_000_000, 1_000_001, 1_000_002]],
    ['never goes back when the wall clock steps back', [1000, 999, 998, 1001], [1_000_000, 1_000_001, 1_000_002, 1_001_000]],
    ['resumes the wall clock once it is ahead again', [1000, 1000, 1002], [1_000_000, 1_000_001, 1_002_000]],
    ['truncates fractional milliseconds', [1000.7, 1000.9], [1_000_000, 1_000_001]],
  ])('%s', (_name, readings, positions) => {
    let i = 0;
    const clock = new ReceiveClock('gw', () => readings[i++]!);
    expect(readings.map(() => clock.next())).toEqual(positions);
  });

  it('stays an exact integer for present-day clocks', () => {
    const clock = new ReceiveClock('gw', () => Date.UTC(2100, 0, 1));
    const p = clock.next();
    expect(Number.isSafeInteger(p)).toBe(true);
    expect(Number.isSafeInteger(p + 1_000_000)).toBe(true);
  });
});

describe('Marker', () => {
  function setup(microbatch: boolean) {
    const sends: TopicBatch[][] = [];
    const release: (() => void)[] = [];
    const batcher = new Batcher({
      send: (batches) => new Promise<void>((resolve) => {
        sends.push(batches);
        release.push(resolve);
      }),
      topics: { ingest: 'in', groupIdentify: 'gi', dlq: 'dlq' },
      timeoutMs: 5000,
      microbatch,
      lingerMs: 0,
      maxMessages: 1000,
      maxBytes: 1_000_000,
      maxQueuedBytes: 10_000_000,
    });
    let now = 5000;
    const clock = new ReceiveClock('gw-1', () => now);
    const marker = new Marker({ clock, batcher, partitions: 3, intervalMs: 100, logger: silentLogger });
    return { sends, release, batcher, clock, marker, advance: (ms: number) => (now += ms) };
  }
  const tick = () => new Promise((r) => setImmediate(r));

  it('sends one mark with a fresh position to every partition, marked by its header', () => {
    const { marker } = setup(true);
    const msgs = marker.messages(false);
    expect(msgs.map((m) => m.partition)).toEqual([0, 1, 2]);
    for (const m of msgs) {
      expect(m.role).toBe('groupIdentify');
      expect(isMark(m.headers)).toBe(true);
      expect(decodeMark(m.value)).toEqual({ producer_id: 'gw-1', pos: 5_000_000, leave: false });
    }
    expect(decodeMark(marker.messages(true)[0]!.value)).toEqual({ producer_id: 'gw-1', pos: 5_000_001, leave: true });
  });

  it('queues a mark behind every record submitted before it, with its explicit partition', async () => {
    const { sends, release, batcher, clock, marker } = setup(true);
    const record = (key: string) => ({ role: 'groupIdentify' as const, key, value: Buffer.from(String(clock.next())), headers: {} });
    void batcher.submit([record('a')]);
    await tick();
    // a send is in flight; b and the mark wait, in that order
    void batcher.submit([record('b')]);
    const sent = marker.send();
    release[0]!();
    await tick();
    await tick();
    expect(sends).toHaveLength(2);
    const second = sends[1]![0]!.messages;
    expect(second.map((m) => m.key)).toEqual(['b', 'gw-1', 'gw-1', 'gw-1']);
    expect(second.slice(1).map((m) => m.partition)).toEqual([0, 1, 2]);
    const markPos = decodeMark(second[1]!.value).pos;
    expect(markPos).toBeGreaterThan(Number(second[0]!.value.toString()));
    release[1]!();
    await sent;
  });

  it('without coalescing, a mark waits until every earlier request was sent', async () => {
    const { sends, release, batcher, marker } = setup(false);
    void batcher.submit([{ role: 'ingest', key: 'r1', value: Buffer.from('x'), headers: {} }]);
    const sent = marker.send();
    await tick();
    expect(sends.map((s) => s[0]!.messages[0]!.key)).toEqual(['r1']);
    release[0]!();
    await tick();
    await tick();
    expect(sends.map((s) => s[0]!.messages[0]!.key)).toEqual(['r1', 'gw-1']);
    release[1]!();
    await sent;
  });

  it('skips a periodic tick while the previous mark is unacknowledged', async () => {
    jest.useFakeTimers();
    try {
      const { sends, release, marker } = setup(true);
      marker.start();
      jest.advanceTimersByTime(100);
      await Promise.resolve();
      jest.runOnlyPendingTimers(); // the batcher's setImmediate
      expect(sends).toHaveLength(1);
      jest.advanceTimersByTime(300);
      jest.runOnlyPendingTimers();
      expect(sends).toHaveLength(1);
      release[0]!();
      await marker.stop();
    } finally {
      jest.useRealTimers();
    }
  });
});
