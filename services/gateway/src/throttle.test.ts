import { Throttle } from './throttle';

const on = { enabled: true, httpapi_eps: 30, batch_eps: 1000 };
const ev = (n: number, user: string | null, device: string | null = null, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ index: from + i, user_id: user, device_id: device }));

describe('Throttle', () => {
  let now = 1_000_000;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('lets 30 events per second through and throttles the 31st, across requests', () => {
    const t = new Throttle(1000, clock);
    for (let i = 0; i < 3; i++) expect(t.check(1, 'httpapi', on, ev(10, 'u-1'))).toBeNull();
    const r = t.check(1, 'httpapi', on, ev(1, 'u-1'));
    expect(r).toEqual({ eps_threshold: 30, throttled_users: { 'u-1': 31 }, throttled_devices: {}, throttled_events: [0] });
  });

  it('cannot be bypassed by splitting a burst into one-event requests', () => {
    const t = new Throttle(1000, clock);
    let accepted = 0;
    for (let i = 0; i < 100; i++) if (t.check(1, 'httpapi', on, ev(1, 'u-1')) === null) accepted++;
    expect(accepted).toBe(30);
  });

  it('throttles by device too, and counts a rejected request not at all', () => {
    const t = new Throttle(1000, clock);
    const r = t.check(1, 'httpapi', on, [...ev(31, 'u-1', 'd-1'), ...ev(1, 'u-2', 'd-2', 31)]);
    expect(r?.throttled_devices).toEqual({ 'd-1': 31 });
    expect(r?.throttled_events).toHaveLength(31);
    // nothing of the rejected request was counted: 30 still fit
    expect(t.check(1, 'httpapi', on, ev(30, 'u-1', 'd-1'))).toBeNull();
  });

  it('recovers as the window slides', () => {
    const t = new Throttle(1000, clock);
    expect(t.check(1, 'httpapi', on, ev(30, 'u-1'))).toBeNull();
    expect(t.check(1, 'httpapi', on, ev(1, 'u-1'))).not.toBeNull();
    now += 2000;
    expect(t.check(1, 'httpapi', on, ev(30, 'u-1'))).toBeNull();
  });

  it('averages /batch over 30 s', () => {
    const t = new Throttle(1000, clock);
    for (let s = 0; s < 15; s++) {
      expect(t.check(1, 'batch', on, ev(2000, 'u-1'))).toBeNull();
      now += 1000;
    }
    // 30 000 events in ~15 s: the 30 s budget (1000/s) is spent
    expect(t.check(1, 'batch', on, ev(2000, 'u-1'))?.eps_threshold).toBe(1000);
  });

  it('keeps projects and ids apart, and does nothing when disabled', () => {
    const t = new Throttle(1000, clock);
    expect(t.check(1, 'httpapi', on, ev(30, 'u-1'))).toBeNull();
    expect(t.check(2, 'httpapi', on, ev(30, 'u-1'))).toBeNull();
    expect(t.check(1, 'httpapi', on, ev(30, 'u-2'))).toBeNull();
    expect(t.check(1, 'httpapi', { ...on, enabled: false }, ev(500, 'u-1'))).toBeNull();
  });

  it('bounds its memory', () => {
    const t = new Throttle(1000, clock);
    for (let i = 0; i < 5000; i++) t.check(1, 'httpapi', on, ev(1, `u-${i}`));
    expect(t.size).toBeLessThanOrEqual(1000);
    now += 120_000;
    t.check(1, 'httpapi', on, ev(1, 'fresh'));
    expect(t.size).toBe(1);
  });
});
