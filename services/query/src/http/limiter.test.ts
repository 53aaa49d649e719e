import { QueryLimiter, Refused } from './limiter';

const opts = { perProject: 2, total: 3, queueMs: 60_000, maxQueuedPerProject: 5 };

/** Acquires for `project` and records the order in which slots were granted. */
function tracker(l: QueryLimiter) {
  const granted: string[] = [];
  const releases = new Map<string, () => void>();
  const ask = (project: number, name: string, signal?: AbortSignal) =>
    l.acquire(project, signal).then(
      (release) => {
        granted.push(name);
        releases.set(name, release);
      },
      () => undefined,
    );
  const release = async (name: string) => {
    releases.get(name)!();
    await new Promise((r) => setImmediate(r));
  };
  return { granted, ask, release };
}

describe('QueryLimiter', () => {
  it('runs up to perProject of one project and total in all; the rest wait', async () => {
    const l = new QueryLimiter(opts);
    const t = tracker(l);
    void t.ask(1, 'a1');
    void t.ask(1, 'a2');
    void t.ask(1, 'a3');
    void t.ask(2, 'b1');
    void t.ask(3, 'c1');
    await new Promise((r) => setImmediate(r));
    expect(t.granted).toEqual(['a1', 'a2', 'b1']);
    expect([l.active(), l.active(1), l.queued(1), l.queued(3)]).toEqual([3, 2, 1, 1]);
  });

  it('gives freed slots to waiting projects in turn, not to the busiest one', async () => {
    const l = new QueryLimiter({ ...opts, perProject: 3, total: 2 });
    const t = tracker(l);
    for (const n of ['a1', 'a2', 'a3', 'a4']) void t.ask(1, n);
    void t.ask(2, 'b1');
    void t.ask(2, 'b2');
    await new Promise((r) => setImmediate(r));
    expect(t.granted).toEqual(['a1', 'a2']);
    await t.release('a1');
    await t.release('a2');
    // one turn each: a3 (project 1 waited first), then b1
    expect(t.granted).toEqual(['a1', 'a2', 'a3', 'b1']);
    await t.release('a3');
    expect(t.granted.at(-1)).toBe('a4');
    await t.release('b1');
    expect(t.granted.at(-1)).toBe('b2');
  });

  it('refuses at once when the project queue is full, and after queueMs in the queue', async () => {
    jest.useFakeTimers();
    try {
      const l = new QueryLimiter({ ...opts, perProject: 1, maxQueuedPerProject: 1, queueMs: 2500 });
      await l.acquire(1);
      const waiting = l.acquire(1);
      await expect(l.acquire(1)).rejects.toEqual(new Refused('project', 3));
      jest.advanceTimersByTime(2600);
      await expect(waiting).rejects.toBeInstanceOf(Refused);
      expect(l.queued(1)).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('forgets a waiter whose client went away, and a slot is given back once', async () => {
    const l = new QueryLimiter({ ...opts, perProject: 1 });
    const release = await l.acquire(1);
    const abort = new AbortController();
    const waiting = l.acquire(1, abort.signal);
    abort.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    expect(l.queued(1)).toBe(0);
    release();
    release();
    expect(l.active()).toBe(0);
    await expect(l.acquire(1)).resolves.toBeInstanceOf(Function);
  });
});
