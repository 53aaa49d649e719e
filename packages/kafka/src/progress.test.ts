import { ConsumerProgress } from './progress';

describe('ConsumerProgress', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('is stalled only while failing with lag for the whole threshold, and says why', () => {
    const p = new ConsumerProgress(60_000, clock);
    expect(p.status()).toMatchObject({ stalled: false });
    p.failed('clickhouse');
    now += 59_000;
    expect(p.status()).toMatchObject({ stalled: false, failures: 1, failingMs: 59_000 });
    p.failed('clickhouse');
    now += 2_000;
    expect(p.status()).toMatchObject({ stalled: true, reason: 'clickhouse', failures: 2 });
    expect(p.readiness()).toEqual({ ok: false, reason: expect.stringMatching(/stalled: 2 failed attempts \(clickhouse\) and no progress for 61 s/) });
    p.progressed();
    expect(p.readiness()).toEqual({ ok: true });
  });

  it('is not stalled without lag, nor while slow but succeeding', () => {
    const p = new ConsumerProgress(1000, clock);
    p.setLag('t', 0, 0);
    p.failed('commit');
    now += 5000;
    expect(p.status().stalled).toBe(false);
    p.setLag('t', 0, 12);
    expect(p.status()).toMatchObject({ stalled: true, reason: 'commit', lag: 12 });
    for (let i = 0; i < 10; i++) {
      now += 900;
      p.progressed();
      expect(p.status().stalled).toBe(false);
    }
  });

  it('sees one partition stuck while another makes progress, and forgets all after a rebalance', () => {
    const p = new ConsumerProgress(1000, clock);
    p.failed('handler', 'in:0');
    for (let i = 0; i < 5; i++) {
      now += 500;
      p.progressed('in:1');
    }
    expect(p.status()).toMatchObject({ stalled: true, reason: 'handler' });
    p.reset();
    expect(p.status().stalled).toBe(false);
  });
});
