// The batcher's logic against a scripted sender (no Kafka here: the integration tests use the real broker).
import { Batcher, BackpressureError, KafkaTimeoutError, type BatcherOptions, type TopicBatch } from './batcher';
import type { OutMessage } from './records';

const msg = (key: string, size = 100, role: OutMessage['role'] = 'ingest'): OutMessage => ({ role, key, value: Buffer.alloc(size), headers: {} });

interface Call {
  batches: TopicBatch[];
  resolve(): void;
  reject(e: Error): void;
}

function harness(opts: Partial<BatcherOptions> = {}) {
  const calls: Call[] = [];
  const b = new Batcher({
    send: (batches) => new Promise<void>((resolve, reject) => calls.push({ batches, resolve, reject })),
    topics: { ingest: 'in', groupIdentify: 'gi', dlq: 'dlq' },
    timeoutMs: 1000,
    microbatch: true,
    lingerMs: 0,
    maxMessages: 1000,
    maxBytes: 1_000_000,
    maxQueuedBytes: 10_000_000,
    ...opts,
  });
  return { b, calls };
}

const tick = () => new Promise((r) => setImmediate(r));
const keys = (c: Call) => c.batches.flatMap((t) => t.messages.map((m) => `${t.topic}:${m.key}`));

describe('Batcher', () => {
  afterEach(() => jest.useRealTimers());

  it('coalesces concurrent requests into one send and resolves each after the ack', async () => {
    const { b, calls } = harness();
    const settled: string[] = [];
    const p1 = b.submit([msg('a1'), msg('a2')]).then(() => settled.push('a'));
    const p2 = b.submit([msg('b1'), msg('g1', 100, 'groupIdentify')]).then(() => settled.push('b'));
    await tick();
    expect(calls).toHaveLength(1);
    expect(keys(calls[0]!)).toEqual(['in:a1', 'in:a2', 'in:b1', 'gi:g1']);
    expect(settled).toEqual([]);
    calls[0]!.resolve();
    await Promise.all([p1, p2]);
    expect(settled.sort()).toEqual(['a', 'b']);
  });

  it('keeps one send in flight; what arrives meanwhile goes in the next send', async () => {
    const { b, calls } = harness();
    const p1 = b.submit([msg('a')]);
    await tick();
    const p2 = b.submit([msg('b')]);
    const p3 = b.submit([msg('c')]);
    await tick();
    expect(calls).toHaveLength(1);
    calls[0]!.resolve();
    await p1;
    await tick();
    expect(calls).toHaveLength(2);
    expect(keys(calls[1]!)).toEqual(['in:b', 'in:c']);
    calls[1]!.resolve();
    await Promise.all([p2, p3]);
  });

  it('splits by message and byte caps and resolves a request only when all its parts are acked', async () => {
    const { b, calls } = harness({ maxMessages: 2, maxBytes: 1000 });
    let done = false;
    const p = b.submit([msg('1'), msg('2'), msg('3'), msg('4', 900)]).then(() => (done = true));
    await tick();
    expect(keys(calls[0]!)).toEqual(['in:1', 'in:2']);
    calls[0]!.resolve();
    await tick();
    await tick();
    expect(keys(calls[1]!)).toEqual(['in:3']); // 3 (164 B) + 4 (964 B) would pass 1000 B
    expect(done).toBe(false);
    calls[1]!.resolve();
    await tick();
    await tick();
    expect(keys(calls[2]!)).toEqual(['in:4']);
    calls[2]!.resolve();
    await p;
    expect(done).toBe(true);
  });

  it('fails every request of a failed send', async () => {
    const { b, calls } = harness();
    const p1 = b.submit([msg('a')]);
    const p2 = b.submit([msg('b')]);
    await tick();
    calls[0]!.reject(new Error('boom'));
    await expect(p1).rejects.toThrow('boom');
    await expect(p2).rejects.toThrow('boom');
  });

  it('times out at the deadline, withdraws what was not sent yet, and answers at once while a send is stuck', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'performance'] });
    const { b, calls } = harness({ timeoutMs: 1000 });
    const p1 = b.submit([msg('stuck')]);
    await tick();
    const p2 = b.submit([msg('queued')]);
    jest.advanceTimersByTime(1001);
    await expect(p1).rejects.toBeInstanceOf(KafkaTimeoutError);
    await expect(p2).rejects.toBeInstanceOf(KafkaTimeoutError);
    await expect(b.submit([msg('late')])).rejects.toBeInstanceOf(KafkaTimeoutError);
    // Kafka comes back: the stuck send completes; nothing withdrawn is sent
    calls[0]!.resolve();
    await tick();
    await tick();
    expect(calls).toHaveLength(1);
    const p4 = b.submit([msg('after')]);
    await tick();
    expect(keys(calls[1]!)).toEqual(['in:after']);
    calls[1]!.resolve();
    await p4;
    expect(b.stats.pendingBytes).toBe(0);
  });

  it('applies back-pressure beyond maxQueuedBytes', async () => {
    const { b, calls } = harness({ maxQueuedBytes: 500 });
    const p1 = b.submit([msg('a', 300)]);
    await expect(b.submit([msg('b', 300)])).rejects.toBeInstanceOf(BackpressureError);
    await tick();
    calls[0]!.resolve();
    await p1;
  });

  it('without microbatching, sends each request on its own', async () => {
    const { b, calls } = harness({ microbatch: false });
    const p1 = b.submit([msg('a')]);
    const p2 = b.submit([msg('b')]);
    await tick();
    expect(calls.map(keys)).toEqual([['in:a'], ['in:b']]);
    calls.forEach((c) => c.resolve());
    await Promise.all([p1, p2]);
  });

  it('drains before stopping', async () => {
    const { b, calls } = harness();
    const p = b.submit([msg('a')]);
    await tick();
    let drained = false;
    const d = b.drain(5000).then(() => (drained = true));
    await tick();
    expect(drained).toBe(false);
    calls[0]!.resolve();
    await Promise.all([p, d]);
    expect(drained).toBe(true);
  });
});
