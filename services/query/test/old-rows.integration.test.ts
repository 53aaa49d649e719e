// Rows written before migration 033 (no *_json_keys columns) keep working once it is applied: their property types
// are inferred from the text, so list operators and the typed activity stream work on them too.
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { insertRows, migrate } from '@groupscope/clickhouse';
import { silentLogger } from '@groupscope/logger';
import type { NewKeys } from '@groupscope/projects';
import { eventRowObjects, MIGRATIONS_DIR } from '@groupscope/schema';
import { testClickHouse, testEnrichedEvent, type TestClickHouse, type TestEvent } from '@groupscope/testing';
import { startTestService, type TestService } from './service';

let ch: TestClickHouse;
let svc: TestService;
let A: NewKeys;

/** A row as the writer wrote it before the *_json_keys columns existed. */
const withoutKeys = (row: Record<string, unknown>) => Object.fromEntries(Object.entries(row).filter(([k]) => !k.endsWith('_json_keys')));

beforeAll(async () => {
  ch = await testClickHouse({ migrate: false });
  const before = mkdtempSync(join(tmpdir(), 'gs-migrations-'));
  for (const f of readdirSync(MIGRATIONS_DIR).filter((f) => Number(f.split('_')[0]) < 33)) copyFileSync(join(MIGRATIONS_DIR, f), join(before, f));
  await migrate(ch, silentLogger, before);
  svc = await startTestService(ch);
  A = svc.projects[0]!;
  const stored = (e: TestEvent) => {
    const out = eventRowObjects(testEnrichedEvent(e), 0, 1);
    if (out.kind !== 'ok') throw new Error(out.error);
    return out.value;
  };
  const rows = [
    stored({
      project: A.project_id,
      time: '2025-11-03T10:00:00',
      type: 'Tagged',
      user: 'old',
      props: { tags: ['vip', 'beta'], n: 3, looks: 'plain' },
      userProps: { logins: 2, flags: ['x'], admin: true },
      groups: { company: { acme: { seats: 5, regions: ['EU'] } } },
    }),
  ];
  await insertRows(ch, 'events', rows.map((r) => withoutKeys(r.event)));
  await insertRows(ch, 'event_groups', rows.flatMap((r) => r.eventGroups.map(withoutKeys)));
  await migrate(ch, silentLogger);
});

afterAll(async () => {
  await svc?.stop();
  await ch?.cleanup();
});

const day = '20251103';
async function users(filter: object, countGroup?: string): Promise<number> {
  const qs = new URLSearchParams({ e: JSON.stringify({ event_type: 'Tagged', filters: [filter] }), start: day, end: day, ...(countGroup ? { countGroup } : {}) });
  const res = await svc.call(A, 'GET', `/api/2/events/segmentation?${qs}`);
  expect(res.status).toBe(200);
  return res.body.data.seriesCollapsed[0][0].value;
}

it('recognises lists in old rows for event, user and group properties', async () => {
  expect(await users({ subprop_type: 'event', subprop_key: 'tags', subprop_op: 'is', subprop_value: ['vip'] })).toBe(1);
  expect(await users({ subprop_type: 'event', subprop_key: 'tags', subprop_op: 'set is', subprop_value: ['beta', 'vip'] })).toBe(1);
  expect(await users({ subprop_type: 'user', subprop_key: 'gp:flags', subprop_op: 'set contains', subprop_value: ['x'] })).toBe(1);
  expect(await users({ subprop_type: 'group', group_type: 'company', subprop_key: 'regions', subprop_op: 'is', subprop_value: ['EU'] }, 'company')).toBe(1);
  expect(await users({ subprop_type: 'event', subprop_key: 'looks', subprop_op: 'is', subprop_value: ['plain'] })).toBe(1);
});

it('gives old rows back typed in the activity stream', async () => {
  const res = await svc.call(A, 'GET', '/api/2/groups/company/acme/activity');
  expect(res.status).toBe(200);
  expect(res.body.events[0]).toMatchObject({
    event_properties: { tags: ['vip', 'beta'], n: 3, looks: 'plain' },
    user_properties: { logins: 2, flags: ['x'], admin: true },
    group_properties: { company: { acme: { seats: 5, regions: ['EU'] } } },
  });
});
