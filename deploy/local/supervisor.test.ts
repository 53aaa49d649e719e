import { DEFAULT_BACKOFF, restartDelay } from './supervisor';

describe('restartDelay', () => {
  it('starts quickly, doubles, and stops growing at the cap', () => {
    const b = { initialMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map((a) => restartDelay(a, b))).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('restarts a first crash within a second by default', () => {
    expect(restartDelay(1, DEFAULT_BACKOFF)).toBeLessThanOrEqual(1000);
  });
});
