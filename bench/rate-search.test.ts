import { bracket, fallsBehind, nextRate, verdict, weightedPercentile, type HoldFigures, type Probe } from './rate-search';

const opts = { start: 4000, precision: 0.12, min: 250 };
const p = (rate: number, good: boolean): Probe => ({ rate, good });

describe('nextRate', () => {
  test.each<[string, Probe[], number | undefined]>([
    ['starts at the start rate', [], 4000],
    ['doubles while good', [p(4000, true)], 8000],
    ['keeps doubling', [p(4000, true), p(8000, true)], 16000],
    ['bisects between the last good and the first bad', [p(4000, true), p(8000, true), p(16000, false)], 12000],
    ['bisects the lower half after a bad midpoint', [p(8000, true), p(16000, false), p(12000, false)], 10000],
    ['bisects the upper half after a good midpoint', [p(8000, true), p(16000, false), p(12000, true)], 14000],
    ['stops within the precision', [p(8000, true), p(16000, false), p(12000, true), p(14000, false), p(13000, false)], undefined],
    ['halves when the first rate is bad', [p(4000, false)], 2000],
    ['halves again', [p(4000, false), p(2000, false)], 1000],
    ['gives up below the minimum', [p(400, false)], undefined],
    ['a good rate above the lowest bad one does not move the bracket', [p(4000, true), p(8000, false), p(16000, true)], 6000],
  ])('%s', (_name, probes, expected) => {
    expect(nextRate(probes, opts)).toBe(expected);
  });

  test('stops doubling at the maximum', () => {
    expect(nextRate([p(4000, true), p(8000, true)], { ...opts, max: 10000 })).toBe(10000);
    expect(nextRate([p(10000, true)], { ...opts, max: 10000 })).toBeUndefined();
  });

  test('offers rates in steps of 100 events/s', () => {
    expect(nextRate([p(1000, true), p(1550, false)], { ...opts, precision: 0.01 })).toBe(1300);
    expect(nextRate([], { ...opts, start: 2345 })).toBe(2300);
  });

  test('stops when rounding leaves no rate between the two', () => {
    expect(nextRate([p(1000, true), p(1100, false)], { ...opts, precision: 0.01 })).toBeUndefined();
  });
});

describe('bracket', () => {
  test('the highest good rate below the lowest bad one', () => {
    expect(bracket([p(4000, true), p(8000, false), p(6000, true), p(16000, true)])).toEqual({ good: 6000, bad: 8000 });
    expect(bracket([p(4000, true)])).toEqual({ good: 4000, bad: undefined });
    expect(bracket([p(4000, false)])).toEqual({ good: undefined, bad: 4000 });
    expect(bracket([])).toEqual({ good: undefined, bad: undefined });
  });
});

describe('weightedPercentile', () => {
  test('counts each sample by its weight', () => {
    expect(weightedPercentile([[100, 94], [5000, 6]], 95)).toBe(5000);
    expect(weightedPercentile([[100, 95], [5000, 5]], 95)).toBe(100);
    expect(weightedPercentile([[300, 1], [100, 1], [200, 1]], 50)).toBe(200);
  });
  test('never-visible events count as larger than any latency', () => {
    expect(weightedPercentile([[100, 90], [Infinity, 10]], 95)).toBe(Infinity);
    expect(weightedPercentile([[100, 90], [Infinity, 10]], 50)).toBe(100);
  });
  test('no samples: NaN', () => {
    expect(weightedPercentile([], 95)).toBeNaN();
    expect(weightedPercentile([[5, 0]], 95)).toBeNaN();
  });
});

describe('verdict', () => {
  const fine: HoldFigures = { p95: 1500, limitMs: 2000, refused: {}, sendLagP95: 3, notVisible: 0, stoppedEarly: false };
  test('good when the p95 is within the limit and nothing was refused', () => {
    expect(verdict(fine)).toEqual({ good: true });
    expect(verdict({ ...fine, p95: 2000, refused: { 503: 0 } })).toEqual({ good: true });
  });
  test('a single refused request makes the rate bad', () => {
    const v = verdict({ ...fine, refused: { 503: 1, 0: 2 } });
    expect(v.good).toBe(false);
    expect(v.why).toContain('refused 2 request(s) with a network error, 1 request(s) with 503');
  });
  test('a p95 over the limit makes the rate bad and says where the time went', () => {
    const v = verdict({ ...fine, p95: 3400, sendLagP95: 900, stoppedEarly: true });
    expect(v.good).toBe(false);
    expect(v.why).toContain('p95 3400 ms > 2000 ms');
    expect(v.why).toContain('the gateway did not keep up');
    expect(v.why).toContain('stopped early');
  });
  test('a p95 that was never reached', () => {
    const v = verdict({ ...fine, p95: Infinity, notVisible: 1200 });
    expect(v.why).toContain('not reached');
    expect(v.why).toContain('1200 events not visible');
  });
  test('NaN (nothing measured) is not good', () => {
    expect(verdict({ ...fine, p95: NaN }).good).toBe(false);
  });
});

describe('fallsBehind', () => {
  test.each<[string, number, { first: number; last: number } | undefined, boolean]>([
    ['steady latency', 1500, { first: 1200, last: 1250 }, false],
    ['rising, with room for another hold at that pace', 1200, { first: 900, last: 1100 }, false],
    ['rising too fast for another hold', 1700, { first: 1000, last: 1300 }, true],
    ['falling latency', 1900, { first: 1500, last: 1000 }, false],
    ['no thirds measured', 1900, undefined, false],
    ['a third never visible is left to the p95', 1500, { first: 1000, last: Infinity }, false],
  ])('%s', (_name, p95, thirds, expected) => {
    expect(fallsBehind({ p95, limitMs: 2000, thirds })).toBe(expected);
  });

  test('a rate falling behind is bad, and says so', () => {
    const v = verdict({ p95: 1700, limitMs: 2000, refused: {}, sendLagP95: 0, notVisible: 0, stoppedEarly: false, thirds: { first: 1000, last: 1300 } });
    expect(v.good).toBe(false);
    expect(v.why).toContain('falling behind: the median latency rose from 1000 to 1300 ms');
  });
});
