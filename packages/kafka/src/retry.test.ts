import { RetryStopped, backoffDelay, retry } from './retry';

const noWait = async () => undefined;

describe('backoffDelay', () => {
  it.each([
    [1, 200],
    [2, 400],
    [5, 3200],
    [7, 10_000],
    [500, 10_000],
  ])('attempt %p waits %p ms', (attempt, ms) => expect(backoffDelay(attempt, 200, 10_000)).toBe(ms));
});

describe('retry', () => {
  it('retries failures with growing pauses until the work succeeds', async () => {
    const waits: number[] = [];
    let calls = 0;
    const out = await retry(
      async () => {
        if (++calls < 4) throw new Error('down');
        return 'ok';
      },
      { initialMs: 100, maxMs: 250, sleep: async (ms) => void waits.push(ms) },
    );
    expect({ out, calls, waits }).toEqual({ out: 'ok', calls: 4, waits: [100, 200, 250] });
  });

  it('throws the last error once the attempts are used up', async () => {
    let calls = 0;
    await expect(retry(async () => Promise.reject(new Error(`fail ${++calls}`)), { attempts: 3, sleep: noWait })).rejects.toThrow('fail 3');
  });

  it('throws at once an error that is not retriable', async () => {
    let calls = 0;
    const fn = async () => {
      calls++;
      throw new Error('bad request');
    };
    await expect(retry(fn, { retriable: (e) => /down/.test(String(e)), sleep: noWait })).rejects.toThrow('bad request');
    expect(calls).toBe(1);
  });

  it('stops with RetryStopped when told to, before an attempt or after a failure', async () => {
    await expect(retry(async () => 'never', { stopped: () => true })).rejects.toBeInstanceOf(RetryStopped);
    let stop = false;
    const err = await retry(
      async () => {
        stop = true;
        throw new Error('down');
      },
      { stopped: () => stop, sleep: noWait },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryStopped);
    expect((err as RetryStopped).lastError).toEqual(new Error('down'));
  });

  it('tells onRetry about each failure it retries', async () => {
    const seen: [string, number, number][] = [];
    let calls = 0;
    await retry(
      async () => {
        if (++calls < 3) throw new Error(`e${calls}`);
      },
      { initialMs: 10, sleep: noWait, onRetry: (e, attempt, delay) => void seen.push([(e as Error).message, attempt, delay]) },
    );
    expect(seen).toEqual([['e1', 1, 10], ['e2', 2, 20]]);
  });
});
