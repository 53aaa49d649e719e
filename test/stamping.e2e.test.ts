// Receive-order stamping through the whole pipeline: /2/httpapi requests, each holding an event, a $groupidentify
// changing the account's plan, then events of three members of the account, sent while the enricher is held back
// (not running, then behind a backlog of group identifies, then behind a backlog of events), with the enricher
// killed -9 in the middle of each backlog. Every event stored in ClickHouse must carry the plan received before it:
// the one of the previous request for the event sent just before the $groupidentify, the new one for those after.
// Also: resent batches of group identifies and identifies (same insert_ids) apply once.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryRows, sql, param, trusted } from '@groupscope/clickhouse';
import { recordMessage } from '@groupscope/events';
import { ProjectRegistry } from '@groupscope/projects';
import { InputProducer, groupIdentifyRecord, ingestRecord, startChildService, waitFor, type ChildService } from '@groupscope/testing';
import { startStack, type Stack } from './stack';

// above the sum of the first test's waits' limits (600 s), so a slow stage fails in its own wait, with its message
jest.setTimeout(900_000);

const dir = mkdtempSync(join(tmpdir(), 'gs-stamping-'));
const projectsFile = join(dir, 'projects.json');
const project = new ProjectRegistry(projectsFile).create('stamping');
const MEMBERS = ['ann@acme.test', 'bob@acme.test', 'cid@acme.test'];
const BACKLOG = 8000;

let stack: Stack;
let input: InputProducer;
let enricher: ChildService | undefined;
let logs = '';

beforeAll(async () => {
  stack = await startStack({
    projectsFile,
    dataDir: dir,
    enricher: false,
    env: {
      // this test asserts exact stamps: the degraded case (the watermark stalled for this long) must not happen
      ENRICHER_STAMP_MAX_WAIT_MS: '600000',
      ENRICHER_SESSION_TIMEOUT_MS: '6000',
      // moderate batches: a backlog takes many transactions, so a kill lands inside it
      ENRICHER_MAX_BATCH_BYTES: '16384',
    },
  });
  input = new InputProducer(stack.kafka.kafka, stack.kafka.topics);
  await input.connect();
});

afterAll(async () => {
  await enricher?.kill9();
  await input?.disconnect();
  await stack?.stop();
});

const startEnricher = () => {
  enricher = startChildService('enricher', { ...stack.env, ENRICHER_PORT: '0', LOG_LEVEL: 'warn' });
};
const killEnricher = async () => {
  await enricher!.kill9();
  logs += enricher!.logs();
  enricher = undefined;
};

async function post(events: object[]): Promise<void> {
  const res = await fetch(`${stack.gatewayUrl}/2/httpapi`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: project.api_key, events }),
  });
  expect(res.status).toBe(200);
}

/** Request r: an event, the plan change, then an event of each member. */
const request = (r: number) => [
  { user_id: MEMBERS[0], event_type: 'Tick', insert_id: `before-${r}`, event_properties: { round: r, sent: 'before' } },
  { user_id: MEMBERS[0], event_type: '$groupidentify', insert_id: `plan-${r}`, groups: { org: 'acme' }, group_properties: { $set: { plan: `plan-${r}` } } },
  ...MEMBERS.map((u) => ({ user_id: u, event_type: 'Tick', insert_id: `after-${r}-${u}`, event_properties: { round: r, sent: 'after' } })),
];

const table = (name: string) => trusted(stack.ch.table(name));
const projectId = () => param(project.project_id, 'UInt32');
const count = async (name: string, where = sql`1`) =>
  Number((await queryRows<{ n: string }>(stack.ch, sql`SELECT count() AS n FROM ${table(name)} WHERE project_id = ${projectId()} AND ${where}`))[0]!.n);

interface Stored {
  insert_id: string;
  round: string;
  sent: string;
  group_properties: string;
  user_properties: string;
}
const stored = (eventType: string) =>
  queryRows<Stored>(
    stack.ch,
    sql`SELECT insert_id, event_properties['round'] AS round, event_properties['sent'] AS sent, group_properties, toJSONString(user_properties) AS user_properties
        FROM ${table('events')} WHERE project_id = ${projectId()} AND event_type = ${param(eventType, 'String')}`,
  );
const planOf = (e: Stored): string | undefined =>
  (JSON.parse(e.group_properties) as Record<string, Record<string, { plan?: string }>>).org?.acme?.plan;

it('stamps every event with the plan received before it, held back, behind backlogs and across kill -9', async () => {
  try {
    // members join the account (user-level group); the enricher is not running
    await post(MEMBERS.map((u) => ({ user_id: u, event_type: '$identify', groups: { org: 'acme' }, user_properties: { $set: { org: 'acme' } } })));

    // phase 1: a backlog of group identifies of other accounts ahead of the requests (the group side lags)
    const bulk = Array.from({ length: BACKLOG }, (_, i) =>
      groupIdentifyRecord({ project_id: project.project_id, group_type: 'org', group_value: `bulk-${i}`, group_properties: JSON.stringify({ $set: { i } }) }),
    );
    await input.send('groupIdentify', bulk.map((g) => recordMessage.groupIdentify(g)), 500);
    for (let r = 0; r < 3; r++) await post(request(r));
    startEnricher();
    await waitFor(async () => (await count('groups')) >= BACKLOG / 8, { timeoutMs: 180_000, message: 'group backlog under way' });
    await killEnricher();

    // phase 2: a backlog of events of other users ahead of the next requests (the event side lags)
    await input.ingest(Array.from({ length: BACKLOG }, (_, i) => ingestRecord({ project_id: project.project_id, user_id: `bulk-user-${i % 500}`, event_type: 'Bulk' })));
    for (let r = 3; r < 6; r++) await post(request(r));
    startEnricher();
    await waitFor(async () => (await count('events', sql`event_type = 'Bulk'`)) >= BACKLOG / 8, { timeoutMs: 180_000, message: 'event backlog under way' });
    await killEnricher();

    // phase 3: the enricher runs while requests keep coming
    startEnricher();
    for (let r = 6; r < 9; r++) await post(request(r));
    await waitFor(async () => (await count('events', sql`event_type = 'Tick'`)) >= 9 * 4, { timeoutMs: 240_000, message: 'every Tick stored' });
  } catch (err) {
    console.error((logs + (enricher?.logs() ?? '')).slice(-6000));
    throw err;
  }

  const ticks = await stored('Tick');
  // exactly once
  expect(ticks).toHaveLength(9 * 4);
  expect(new Set(ticks.map((e) => e.insert_id)).size).toBe(9 * 4);
  const wrong = ticks.filter((e) => {
    const r = Number(e.round);
    const want = e.sent === 'before' ? (r === 0 ? undefined : `plan-${r - 1}`) : `plan-${r}`;
    return planOf(e) !== want;
  });
  expect(wrong.map((e) => `${e.insert_id}: ${planOf(e) ?? 'no plan'}`)).toEqual([]);
});

it('applies a batch of 50 group identifies with $add resent three times once, and a resent $identify once', async () => {
  const batch = Array.from({ length: 50 }, (_, i) => ({
    user_id: MEMBERS[0], event_type: '$groupidentify', insert_id: `seats-${i}`, groups: { org: `team-${i % 2}` }, group_properties: { $add: { seats: 1 } },
  }));
  const identify = { user_id: MEMBERS[1], event_type: '$identify', insert_id: 'login-1', user_properties: { $add: { logins: 1 } } };
  for (let i = 0; i < 4; i++) await post([...batch, identify]);
  await post([
    { user_id: MEMBERS[0], event_type: 'After Resends', insert_id: 'after-resends-0', groups: { org: ['team-0', 'team-1'] } },
    { user_id: MEMBERS[1], event_type: 'After Resends', insert_id: 'after-resends-1' },
  ]);
  await waitFor(async () => (await count('events', sql`event_type = 'After Resends'`)) === 2, { timeoutMs: 120_000, message: 'events after the resends' });
  const [first, second] = (await stored('After Resends')).sort((a, b) => a.insert_id.localeCompare(b.insert_id));
  const groups = JSON.parse(first!.group_properties) as Record<string, Record<string, { seats?: number }>>;
  // 25 group identifies per team, each $add applied once
  expect([groups.org?.['team-0']?.seats, groups.org?.['team-1']?.seats]).toEqual([25, 25]);
  expect(Number((JSON.parse(second!.user_properties) as { logins: unknown }).logins)).toBe(1);
  // the groups' current properties agree once the writer has stored the group changes (their own topic: they may
  // land after the events); the enricher stamped 25 above and no group identify follows, so 25 is the final value
  await waitFor(
    async () => {
      const current = await queryRows<{ group_value: string; seats: string }>(
        stack.ch,
        sql`SELECT group_value, properties['seats'] AS seats FROM ${table('groups')} FINAL
            WHERE project_id = ${projectId()} AND group_value IN ('team-0', 'team-1') ORDER BY group_value`,
      );
      expect(current.map((g) => [g.group_value, Number(g.seats)])).toEqual([['team-0', 25], ['team-1', 25]]);
      return true;
    },
    { timeoutMs: 60_000, message: "the groups' current seats" },
  );
});
