// A small data set worked out by hand for the account list, usage metrics and health scores: five companies with
// different usage shapes, seen from 2026-11-30 15:00 UTC, so every usage window ends on 2026-11-29 (the last
// complete UTC day). The expected numbers below were counted from these rows on paper, not by running the code.
//
//   acme      enterprise, 40 seats. 11-29: alice x2, bob, judy (judy's event is also hooli's)  11-28: alice
//             11-26: carol  11-19: alice, dave  10-20: erin
//   globex    pro, 12 seats.        11-27: gary  11-21: gary x2, hank  10-25: gary x4
//   initech   pro, 5 seats.         11-09: ivan  11-30 (today, after the windows): ivan
//   umbrella  trial, no events (identified only)
//   hooli     no properties.        11-29: judy (the event shared with acme)
import { insertEvents, insertGroupChanges, type TestClickHouse, type TestEvent } from '@groupscope/testing';

export const NOW = Date.UTC(2026, 10, 30, 15);
export const AS_OF = '2026-11-29';
export const at = (day: string, hour = 12) => `${day}T${String(hour).padStart(2, '0')}:00:00`;
export const iso = (day: string, hour = 12) => `${day}T${String(hour).padStart(2, '0')}:00:00.000Z`;

/** The companies' properties (each set by one Group Identify on 2026-10-01). */
export const COMPANIES: Record<string, Record<string, unknown>> = {
  acme: { name: 'Acme', plan: 'enterprise', seats: 40, region: 'EU' },
  globex: { name: 'Globex', plan: 'pro', seats: 12, region: 'US' },
  initech: { name: 'Initech', plan: 'pro', seats: 5 },
  umbrella: { name: 'Umbrella', plan: 'trial' },
};

/** The events of the data set (another project's acme gets one event of its own). */
export function accountHealthEvents(project: number, other: number): TestEvent[] {
  const e = (day: string, hour: number, user: string, companies: string[]): TestEvent => ({
    project,
    time: at(day, hour),
    type: 'Used Feature',
    user,
    groups: { company: Object.fromEntries(companies.map((c) => [c, {}])) },
  });
  return [
    e('2026-11-29', 9, 'alice', ['acme']),
    e('2026-11-29', 10, 'alice', ['acme']),
    e('2026-11-29', 11, 'bob', ['acme']),
    e('2026-11-29', 12, 'judy', ['acme', 'hooli']),
    e('2026-11-28', 12, 'alice', ['acme']),
    e('2026-11-26', 12, 'carol', ['acme']),
    e('2026-11-19', 12, 'alice', ['acme']),
    e('2026-11-19', 13, 'dave', ['acme']),
    e('2026-10-20', 12, 'erin', ['acme']),
    e('2026-11-27', 12, 'gary', ['globex']),
    e('2026-11-21', 12, 'gary', ['globex']),
    e('2026-11-21', 13, 'gary', ['globex']),
    e('2026-11-21', 14, 'hank', ['globex']),
    ...[9, 10, 11, 12].map((h) => e('2026-10-25', h, 'gary', ['globex'])),
    e('2026-11-09', 12, 'ivan', ['initech']),
    e('2026-11-30', 9, 'ivan', ['initech']),
    { project: other, time: at('2026-11-29'), type: 'Used Feature', user: 'zed', groups: { company: { acme: {} } } },
  ];
}

/** The data set stored as the writer stores it; `other` is a second project with a company of the same name. */
export async function loadAccountHealthData(ch: TestClickHouse, project: number, other: number): Promise<void> {
  await insertGroupChanges(ch, [
    ...Object.entries(COMPANIES).map(([value, props]) => ({ project, type: 'company', value, time: at('2026-10-01'), props, source: 'api' })),
    { project: other, type: 'company', value: 'acme', time: at('2026-10-01'), props: { name: 'Other Acme', plan: 'pro', seats: 1 }, source: 'api' },
  ]);
  await insertEvents(ch, accountHealthEvents(project, other));
}

const m = (v: [number, number, number | null][]) => {
  const names = ['active_users_1d', 'active_users_7d', 'active_users_30d', 'events_7d', 'events_30d'];
  const out: Record<string, number | null> = {};
  v.forEach(([cur, prev, change], i) => {
    out[names[i]!] = cur;
    out[`${names[i]}_prev`] = prev;
    out[`${names[i]}_change`] = change;
  });
  return out;
};

/** [metric, previous period, change in %] for 1d/7d/30d users, 7d/30d events, and days since last seen, as of 11-29. */
export const EXPECTED: Record<string, Record<string, number | null>> = {
  // 1d: {alice,bob,judy} vs {alice}; 7d (11-23..29): +carol vs (11-16..22) {alice,dave}; 30d (10-31..11-29): 5 vs {erin}
  acme: { ...m([[3, 1, 200], [4, 2, 100], [5, 1, 400], [6, 2, 200], [8, 1, 700]]), days_since_last_seen: 0 },
  // 7d: {gary} vs {gary,hank}; events 1 vs 3 = -66.7%; 30d events 4 (11-27, 11-21 x3) vs 4 (10-25)
  globex: { ...m([[0, 0, null], [1, 2, -50], [2, 1, 100], [1, 3, -66.7], [4, 4, 0]]), days_since_last_seen: 2 },
  // only 11-09 counts; the event of 11-30 is after the windows (and makes it seen "0 days" ago)
  initech: { ...m([[0, 0, null], [0, 0, null], [1, 0, null], [0, 0, null], [1, 0, null]]), days_since_last_seen: 0 },
  umbrella: { ...m([[0, 0, null], [0, 0, null], [0, 0, null], [0, 0, null], [0, 0, null]]), days_since_last_seen: null },
  hooli: { ...m([[1, 0, null], [1, 0, null], [1, 0, null], [1, 0, null], [1, 0, null]]), days_since_last_seen: 0 },
};
