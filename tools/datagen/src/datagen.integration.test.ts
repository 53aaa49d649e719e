// The direct ClickHouse sink: every generated event stored once, expanded into one event_groups row per group it is
// attributed to, with the group properties stamped as the enricher would, and plan changes in property history.
import { queryRows, sql, trusted } from '@groupscope/clickhouse';
import { testClickHouse, type TestClickHouse } from '@groupscope/testing';
import { dataSet, toClickHouse, type Counts } from './index';

let ch: TestClickHouse;
let counts: Counts;
const END = Date.UTC(2025, 10, 1);

beforeAll(async () => {
  ch = await testClickHouse();
  counts = await toClickHouse(ch, dataSet({ events: 30_000, days: 14, end: END, seed: 9 }).records(), { projectId: 1, batchEvents: 8_000 });
});

afterAll(async () => {
  await ch?.cleanup();
});

const rows = <T>(text: string) => queryRows<T>(ch, sql`${trusted(text.replaceAll('{db}', `\`${ch.database}\``))}`);

it('stores every event once, expanded into one event_groups row per group, with stamped properties', async () => {
  const [e] = await rows<{ n: number; u: number }>('SELECT count() AS n, uniqExact(uuid) AS u FROM {db}.events');
  expect(e).toEqual({ n: counts.events, u: counts.events });
  const [g] = await rows<{ n: number; expected: number; plans: number }>(
    `SELECT (SELECT count() FROM {db}.event_groups) AS n,
            (SELECT sum(length(arrayFlatten(mapValues(groups)))) FROM {db}.events) AS expected,
            (SELECT countIf(group_properties['plan'] != '') FROM {db}.event_groups WHERE group_type = 'company') AS plans`,
  );
  expect(g!.n).toBe(g!.expected);
  expect(g!.plans).toBeGreaterThan(0);
  const [h] = await rows<{ upgrades: number }>(`SELECT count() AS upgrades FROM {db}.group_property_history WHERE property = 'plan' AND value IN ('pro', 'enterprise')`);
  expect(h!.upgrades).toBeGreaterThan(0);
});

it('keeps each group first identified at its earliest change (the time of its first property history row)', async () => {
  const [r] = await rows<{ groups: number; wrong: number; changed: number }>(
    `SELECT count() AS groups, countIf(g.first_identified != h.first) AS wrong, countIf(g.first_identified < g.updated_at) AS changed
     FROM (SELECT project_id, group_type, group_value, argMax(first_identified, kafka_offset) AS first_identified, max(updated_at) AS updated_at
           FROM {db}.groups GROUP BY project_id, group_type, group_value) AS g
     JOIN (SELECT project_id, group_type, group_value, min(event_time) AS first
           FROM {db}.group_property_history GROUP BY project_id, group_type, group_value) AS h
     USING (project_id, group_type, group_value)`,
  );
  expect(r!.groups).toBeGreaterThan(0);
  expect(r!.changed).toBeGreaterThan(0);
  expect(r!.wrong).toBe(0);
});
