// Segment's official Node library pointed at the gateway (`host`), through the whole pipeline to the query API:
// identify, group (with and without the project's group trait settings), track with event-level groups from
// integrations.Amplitude.groups, and page arrive and are attributed as Amplitude's Segment integration documents.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Analytics } from '@segment/analytics-node';
import { queryRows, sql, param, trusted } from '@groupscope/clickhouse';
import { ProjectRegistry, type NewKeys } from '@groupscope/projects';
import { waitFor } from '@groupscope/testing';
import { startStack, type Stack } from './stack';

jest.setTimeout(180_000);

const dir = mkdtempSync(join(tmpdir(), 'gs-segment-'));
const projectsFile = join(dir, 'projects.json');
const registry = new ProjectRegistry(projectsFile);
// the reference's example settings: "Amplitude Group Type Trait" = group_type, "Amplitude Group Value Trait" = name
const mapped = registry.create('segment-mapped');
registry.setSegment(mapped.project_id, { group_type_trait: 'group_type', group_value_trait: 'name' });
const plain = registry.create('segment-plain');

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ projectsFile, dataDir: dir });
});
afterAll(async () => {
  await stack?.stop();
});

/** Segment's library as an app would configure it, sending each call at once; resolves when the gateway took it. */
function segment(keys: NewKeys) {
  const analytics = new Analytics({ writeKey: keys.api_key, host: stack.gatewayUrl, flushAt: 1, flushInterval: 50, maxRetries: 5 });
  const delivered = (call: (cb: (err?: unknown) => void) => void) =>
    new Promise<void>((resolve, reject) => call((err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve())));
  return {
    identify: (p: Parameters<Analytics['identify']>[0]) => delivered((cb) => analytics.identify(p, cb)),
    group: (p: Parameters<Analytics['group']>[0]) => delivered((cb) => analytics.group(p, cb)),
    track: (p: Parameters<Analytics['track']>[0]) => delivered((cb) => analytics.track(p, cb)),
    page: (p: Parameters<Analytics['page']>[0]) => delivered((cb) => analytics.page(p, cb)),
    close: () => analytics.closeAndFlush({ timeout: 10_000 }),
  };
}

const count = async (keys: NewKeys, table: string, where = sql`1`) =>
  Number(
    (await queryRows<{ n: number }>(stack.ch, sql`SELECT count() AS n FROM ${trusted(stack.ch.table(table))} WHERE project_id = ${param(keys.project_id, 'UInt32')} AND ${where}`))[0]!.n,
  );

async function api<T>(keys: NewKeys, path: string, params: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const qs = new URLSearchParams(params).toString();
  const res = await fetch(`${stack.queryUrl}${path}${qs ? `?${qs}` : ''}`, {
    headers: { authorization: `Basic ${Buffer.from(`${keys.api_key}:${keys.secret_key}`).toString('base64')}` },
  });
  return { status: res.status, body: (await res.json()) as T };
}

interface Segmentation {
  data: { seriesCollapsed: { value: number }[][] };
}
interface AccountPage {
  group: { group_type: string; group_value: string; properties: Record<string, unknown>; num_events: number; num_users: number };
  users: { user_id: string | null }[];
}
interface Activity {
  events: { event_type: string; user_properties: Record<string, unknown>; group_properties: Record<string, Record<string, Record<string, unknown>>>; groups: Record<string, string[]> }[];
}

const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
const range = { start: ymd(Date.now() - 86_400_000), end: ymd(Date.now()) };
const segmentationOf = async (keys: NewKeys, eventType: string, countGroup?: string) => {
  const res = await api<Segmentation>(keys, '/api/2/events/segmentation', { e: JSON.stringify({ event_type: eventType }), ...range, ...(countGroup ? { countGroup } : {}) });
  expect(res.status).toBe(200);
  return res.body.data.seriesCollapsed[0]![0]!.value;
};

const ORG_ID = '082108b9-f41d-486g-9d2d-b5ab68bb3d5o';
const ORG = 'ExampleCorp, LLC';

describe('@segment/analytics-node to the query API', () => {
  it("group with the trait settings: the reference's example gives Organization = ExampleCorp, LLC with four group properties", async () => {
    const seg = segment(mapped);
    await seg.identify({ userId: 'alice@examplecorp.test', traits: { plan: 'pro', name: 'Alice' } });
    await seg.group({ userId: 'alice@examplecorp.test', groupId: ORG_ID, traits: { group_type: 'Organization', name: ORG, employees: '20', email: 'hello@example.com' } });
    await waitFor(async () => (await count(mapped, 'groups', sql`group_type = 'Organization'`)) === 1, { message: 'ExampleCorp properties stored' });

    // alice's later events carry her user-level group and its properties; bob's event carries an event-level group
    await seg.track({ userId: 'alice@examplecorp.test', event: 'Report Exported', properties: { format: 'pdf' } });
    await seg.page({ userId: 'alice@examplecorp.test', name: 'Pricing', properties: { url: 'https://examplecorp.test/pricing' } });
    await seg.track({
      userId: 'bob@examplecorp.test',
      event: 'Clicked Benefits Dropdown',
      properties: { dropdownColor: 'blue' },
      integrations: { Amplitude: { groups: { onboarding_cohort: 'Summer 2022' } } },
    });
    await seg.track({ userId: 'bob@examplecorp.test', event: 'Sentinel' });
    await seg.close();
    await waitFor(async () => (await count(mapped, 'events', sql`event_type = 'Sentinel'`)) === 1, { message: 'events written' });
    await waitFor(async () => (await count(mapped, 'event_groups')) >= 3, { message: 'event_groups written' });

    // the account page: type Organization, value "ExampleCorp, LLC", the four traits as group properties
    const page = await api<AccountPage>(mapped, `/api/2/groups/Organization/${encodeURIComponent(ORG)}`);
    expect(page.status).toBe(200);
    expect(page.body.group).toMatchObject({ group_type: 'Organization', group_value: ORG, num_users: 1 });
    expect(page.body.group.properties).toEqual({ group_type: 'Organization', name: ORG, employees: '20', email: 'hello@example.com' });
    expect(page.body.users.map((u) => u.user_id)).toEqual(['alice@examplecorp.test']);

    // search finds it by a property it held and by the start of its value; a match needs recent activity, read from
    // group_activity, which a materialized view fills from event_groups' INSERT and may show a moment later
    await waitFor(
      async () => {
        const byName = await api<{ matches: { group_value: string }[] }>(mapped, '/api/2/groups/search', { group_type: 'Organization', q: 'employees = 20' });
        expect(byName.body.matches.map((m) => m.group_value)).toEqual([ORG]);
        const byPrefix = await api<{ matches: { group_value: string }[] }>(mapped, '/api/2/groups/search', { group_type: 'Organization', q: 'ExampleCorp' });
        expect(byPrefix.body.matches.map((m) => m.group_value)).toEqual([ORG]);
        return true;
      },
      { timeoutMs: 60_000, message: 'the account found by search' },
    );

    // the stamped view: identify traits are user properties, the group's properties ride on alice's events
    const activity = await api<Activity>(mapped, `/api/2/groups/Organization/${encodeURIComponent(ORG)}/activity`, { direction: 'earliest' });
    expect(activity.body.events.map((e) => e.event_type)).toEqual(['Report Exported', 'Viewed Pricing Page']);
    const exported = activity.body.events[0]!;
    expect(exported.user_properties).toMatchObject({ plan: 'pro', name: 'Alice', Organization: ORG });
    expect(exported.group_properties.Organization![ORG]).toEqual({ group_type: 'Organization', name: ORG, employees: '20', email: 'hello@example.com' });

    // segmentation counted by account, user-level and event-level, and the page under the destination's name
    expect(await segmentationOf(mapped, 'Report Exported', 'Organization')).toBe(1);
    expect(await segmentationOf(mapped, 'Clicked Benefits Dropdown', 'onboarding_cohort')).toBe(1);
    expect(await segmentationOf(mapped, 'Clicked Benefits Dropdown', 'Organization')).toBe(0);
    expect(await segmentationOf(mapped, 'Viewed Pricing Page')).toBe(1);
    expect(await segmentationOf(mapped, 'Viewed Pricing Page', 'Organization')).toBe(1);
  });

  it('group without the trait settings: "[Segment] Group" = groupId, with no group properties', async () => {
    const seg = segment(plain);
    await seg.group({ userId: 'carol@other.test', groupId: 'grp-plain-1', traits: { group_type: 'Organization', name: 'Other Corp' } });
    await seg.track({ userId: 'carol@other.test', event: 'Report Exported' });
    await seg.close();
    await waitFor(async () => (await count(plain, 'event_groups')) >= 1, { message: 'carol attributed' });

    // group types come from the views ClickHouse fills from event_groups, which may show the row a moment later
    const types = await waitFor(async () => {
      const res = await api<{ types: { group_type: string }[] }>(plain, '/api/2/groups/types');
      return res.body.types.length > 0 && res.body.types.map((t) => t.group_type);
    }, { message: 'the group type listed' });
    expect(types).toEqual(['[Segment] Group']);
    const page = await api<AccountPage>(plain, `/api/2/groups/${encodeURIComponent('[Segment] Group')}/grp-plain-1`);
    expect(page.status).toBe(200);
    expect(page.body.group).toMatchObject({ group_type: '[Segment] Group', group_value: 'grp-plain-1', properties: {}, num_events: 1 });
    expect(await segmentationOf(plain, 'Report Exported', '[Segment] Group')).toBe(1);
    // the traits named no group here: this project has no Organization at all
    const unknown = await api<{ error: { code: string } }>(plain, '/api/2/events/segmentation', { e: JSON.stringify({ event_type: 'Report Exported' }), ...range, countGroup: 'Organization' });
    expect(unknown).toMatchObject({ status: 400, body: { error: { code: 'unknown_group_type' } } });
  });
});
