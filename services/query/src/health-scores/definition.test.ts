import { bandOf, HealthDefinitionError, normalise, parseHealthScore, propertyNames, scoreOf, type HealthDefinition } from './definition';
import { changedScores, identifyRecords, isDue } from './runner';
import type { HealthScore } from './store';

/** The score of the hand-worked data set (test/account-health-data.ts). */
const DEF: HealthDefinition = {
  components: [
    { metric: 'active_users_7d', weight: 2, poor: 0, healthy: 4 },
    { metric: 'events_7d_change', weight: 1, poor: -50, healthy: 50 },
    { metric: 'days_since_last_seen', weight: 1, poor: 7, healthy: 0 },
  ],
  thresholds: { healthy: 70, at_risk: 40 },
};

describe('health score formula', () => {
  it.each([
    [{ poor: 0, healthy: 4 }, 1, 0.25],
    [{ poor: 0, healthy: 4 }, 9, 1],
    [{ poor: 0, healthy: 4 }, -3, 0],
    [{ poor: 7, healthy: 0 }, 2, 5 / 7],
    [{ poor: 7, healthy: 0 }, 30, 0],
    [{ poor: -50, healthy: 50 }, -66.7, 0],
    [{ poor: -50, healthy: 50 }, 0, 0.5],
  ])('normalises %j at %p to %p', (c, v, n) => expect(normalise(c, v)).toBeCloseTo(n, 10));

  it.each([
    [100, 'healthy'],
    [70, 'healthy'],
    [69, 'at_risk'],
    [40, 'at_risk'],
    [39, 'critical'],
    [0, 'critical'],
  ])('band of %p is %s', (score, band) => expect(bandOf(score, DEF.thresholds)).toBe(band));

  // worked by hand from the usage of each company as of 2026-11-29
  it.each<[string, Record<string, number | null>, number | null, string | null]>([
    // 4 users of 4 (1), +200% clamped (1), seen today (1): 100 * (2 + 1 + 1) / 4
    ['acme', { active_users_7d: 4, events_7d_change: 200, days_since_last_seen: 0 }, 100, 'healthy'],
    // 1 of 4 (0.25), -66.7% (0), 2 days (5/7): 100 * (0.5 + 0 + 0.714) / 4 = 30.4
    ['globex', { active_users_7d: 1, events_7d_change: -66.7, days_since_last_seen: 2 }, 30, 'critical'],
    // no change to measure: weights 2 and 1 only; 100 * (0.5 + 1) / 3 = 50
    ['hooli', { active_users_7d: 1, events_7d_change: null, days_since_last_seen: 0 }, 50, 'at_risk'],
    // 100 * (0 + 1) / 3 = 33.3
    ['initech', { active_users_7d: 0, events_7d_change: null, days_since_last_seen: 0 }, 33, 'critical'],
    // never seen: only the users component counts, and it is 0
    ['umbrella', { active_users_7d: 0, events_7d_change: null, days_since_last_seen: null }, 0, 'critical'],
    ['nothing known', { active_users_7d: null, events_7d_change: null, days_since_last_seen: null }, null, null],
  ])('scores %s', (_name, numbers, score, band) => {
    const s = scoreOf(DEF, numbers);
    expect(s.score).toBe(score);
    expect(s.band).toBe(band);
  });

  it("gives each component's value, normalised value and points (which add up to the score before rounding)", () => {
    const s = scoreOf(DEF, { active_users_7d: 1, events_7d_change: -66.7, days_since_last_seen: 2 });
    expect(s.components.map((c) => [c.metric, c.value, c.normalised, c.points])).toEqual([
      ['active_users_7d', 1, 0.25, 12.5],
      ['events_7d_change', -66.7, 0, 0],
      ['days_since_last_seen', 2, expect.closeTo(5 / 7, 10), expect.closeTo(100 / 4 * (5 / 7), 10)],
    ]);
    const h = scoreOf(DEF, { active_users_7d: 1, events_7d_change: null, days_since_last_seen: 0 });
    expect(h.components[1]).toMatchObject({ value: null, normalised: null, points: null });
    expect(h.components[0]!.points! + h.components[2]!.points!).toBeCloseTo(50, 10);
  });
});

describe('parseHealthScore', () => {
  const body = { group_type: 'company', name: 'health', components: DEF.components };

  it('takes a definition, with default thresholds and weight', () => {
    expect(parseHealthScore({ ...body, components: [{ metric: 'events_30d', poor: 0, healthy: 100 }] })).toEqual({
      group_type: 'company',
      name: 'health',
      definition: { components: [{ metric: 'events_30d', weight: 1, poor: 0, healthy: 100 }], thresholds: { healthy: 70, at_risk: 40 } },
    });
    expect(parseHealthScore({ ...body, name: '  health  ', thresholds: { healthy: 80 } }).definition.thresholds).toEqual({ healthy: 80, at_risk: 40 });
    expect(propertyNames('health')).toEqual({ score: 'health', band: 'health_band' });
  });

  it.each<[unknown, string, RegExp]>([
    [[], 'body', /JSON object/],
    [{ ...body, group_type: '' }, 'group_type', /required/],
    [{ ...body, name: ' ' }, 'name', /required/],
    [{ ...body, name: '$score' }, 'name', /\$/],
    [{ ...body, name: 'x'.repeat(201) }, 'name', /200/],
    [{ ...body, components: [] }, 'components', /non-empty/],
    [{ ...body, components: Array(11).fill(DEF.components[0]) }, 'components', /at most 10/],
    [{ ...body, components: ['x'] }, 'components[0]', /object/],
    [{ ...body, components: [{ metric: 'happiness', poor: 0, healthy: 1 }] }, 'components[0].metric', /one of/],
    [{ ...body, components: [{ metric: 'events_7d', weight: 0, poor: 0, healthy: 1 }] }, 'components[0].weight', /above 0/],
    [{ ...body, components: [{ metric: 'events_7d', poor: '0', healthy: 1 }] }, 'components[0].poor', /number/],
    [{ ...body, components: [{ metric: 'events_7d', poor: 0, healthy: 0 }] }, 'components[0].healthy', /differ/],
    [{ ...body, thresholds: { healthy: 101 } }, 'thresholds.healthy', /0 to 100/],
    [{ ...body, thresholds: { healthy: 50, at_risk: 60 } }, 'thresholds.at_risk', /not be above/],
  ])('rejects %j naming %s', (raw, param, message) => {
    try {
      parseHealthScore(raw);
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(HealthDefinitionError);
      expect((err as HealthDefinitionError).param).toBe(param);
      expect((err as Error).message).toMatch(message);
    }
  });
});

const score = (over: Partial<HealthScore> = {}): HealthScore => ({
  project_id: 3,
  id: 'hs_1',
  group_type: 'company',
  name: 'health',
  definition: DEF,
  created_at: Date.UTC(2026, 10, 1),
  updated_at: Date.UTC(2026, 10, 1),
  last_run_at: null,
  last_as_of: null,
  last_groups: 0,
  last_written: 0,
  ...over,
});

describe('health score runs', () => {
  const row = (group_value: string, numbers: Record<string, number | null>, props: Record<string, string> = {}) =>
    ({ group_value, group_properties: props, properties_json: '{}', first_seen: 0, last_seen: 0, ...numbers }) as never;

  it('writes only the groups whose score or band changed', () => {
    const rows = [
      row('acme', { active_users_7d: 4, events_7d_change: 200, days_since_last_seen: 0 }, { health: '100', health_band: 'healthy' }),
      row('globex', { active_users_7d: 1, events_7d_change: -66.7, days_since_last_seen: 2 }, { health: '45', health_band: 'at_risk' }),
      row('hooli', { active_users_7d: 1, events_7d_change: null, days_since_last_seen: 0 }),
      row('void', { active_users_7d: null, events_7d_change: null, days_since_last_seen: null }),
    ];
    expect(changedScores(score(), rows)).toEqual({
      scored: 3,
      changed: [
        { group_value: 'globex', score: 30, band: 'critical' },
        { group_value: 'hooli', score: 50, band: 'at_risk' },
      ],
    });
  });

  it('publishes $set of the score and its band, from health_score, de-duplicated by revision, day and values', () => {
    const [r] = identifyRecords(score(), '2026-11-29', [{ group_value: 'globex', score: 30, band: 'critical' }], 1000);
    expect(r).toMatchObject({
      project_id: 3,
      group_type: 'company',
      group_value: 'globex',
      source: 'health_score',
      receive_time: 1000,
      event_time: 1000,
      insert_id: `hs:hs_1:${Date.UTC(2026, 10, 1)}:2026-11-29:30:critical:globex`,
    });
    expect(JSON.parse(r!.group_properties)).toEqual({ $set: { health: 30, health_band: 'critical' } });
  });

  it('is due when never run, edited since, or when a new day has ended (after the configured hour)', () => {
    const ran = score({ last_run_at: Date.UTC(2026, 10, 29, 2), last_as_of: '2026-11-28' });
    expect(isDue(score(), Date.UTC(2026, 10, 29, 0), 1)).toBe(true);
    expect(isDue(ran, Date.UTC(2026, 10, 29, 23), 1)).toBe(false);
    expect(isDue(ran, Date.UTC(2026, 10, 30, 0, 30), 1)).toBe(false);
    expect(isDue(ran, Date.UTC(2026, 10, 30, 1), 1)).toBe(true);
    expect(isDue({ ...ran, updated_at: Date.UTC(2026, 10, 29, 3) }, Date.UTC(2026, 10, 29, 4), 1)).toBe(true);
  });
});
