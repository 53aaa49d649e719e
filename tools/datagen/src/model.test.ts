import { dataSet, type GenRecord } from './model';

const END = Date.UTC(2025, 10, 1);
const all = (events: number, seed = 3) => [...dataSet({ events, days: 14, end: END, seed }).records()];

describe('data generator', () => {
  const recs = all(20_000);
  const events = recs.filter((r): r is Extract<GenRecord, { kind: 'event' }> => r.kind === 'event');
  const byType = (t: string) => events.filter((e) => e.eventType === t);

  it('is deterministic for a seed and produces about the events asked for', () => {
    expect(all(20_000)).toEqual(recs);
    expect(all(20_000, 4)).not.toEqual(recs);
    expect(events.length).toBeGreaterThan(18_000);
    expect(events.length).toBeLessThan(22_000);
  });

  it('emits records in time order, inside the range', () => {
    const start = END - 14 * 86_400_000;
    for (let i = 1; i < recs.length; i++) expect(recs[i]!.time).toBeGreaterThanOrEqual(recs[i - 1]!.time);
    expect(recs[0]!.time).toBeGreaterThanOrEqual(start);
    expect(recs[recs.length - 1]!.time).toBeLessThan(END);
  });

  it('has accounts with properties, multi-valued workspaces and event-level projects', () => {
    const companies = recs.filter((r) => r.kind === 'group' && r.groupType === 'company');
    expect(companies.length).toBeGreaterThanOrEqual(40);
    expect(companies[0]).toMatchObject({ properties: { plan: expect.any(String), region: expect.any(String), size: expect.any(String) } });
    const identifies = recs.filter((r): r is Extract<GenRecord, { kind: 'identify' }> => r.kind === 'identify');
    expect(identifies.some((i) => (i.groups.workspace ?? []).length > 1)).toBe(true);
    expect(new Set(identifies.map((i) => i.userProperties.role))).toEqual(new Set(['admin', 'member', 'viewer']));
    expect(events.some((e) => e.groups?.project)).toBe(true);
  });

  it('has an onboarding funnel with drop-off and plan upgrades mid-range', () => {
    const signedUp = byType('Signed Up').length;
    const created = byType('Project Created').length;
    const invited = byType('Teammate Invited').length;
    expect(signedUp).toBeGreaterThan(50);
    expect(created).toBeLessThan(signedUp);
    expect(invited).toBeLessThan(created);
    expect(invited).toBeGreaterThan(0);
    const upgrades = recs.filter((r) => r.kind === 'group' && r.groupType === 'company' && r.time > recs[0]!.time);
    expect(upgrades.length).toBeGreaterThan(0);
    expect(byType('Payment Received').length).toBe(byType('Plan Upgraded').length);
  });
});
