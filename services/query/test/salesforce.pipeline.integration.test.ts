// The Salesforce sync through the real pipeline: events and a Group Identify ingested -> enricher -> writer ->
// ClickHouse; a mapping run against the local Salesforce-compatible server publishes group identifies that the
// enricher applies and the writer stores. A field changed in Salesforce appears on the account page and in
// `name = value` search over history (old and new value), the property set by the Group Identify beside it is left
// alone, each property says who set it, and an event ingested afterwards is stamped with the Salesforce values.
// The enricher and writer run in-process (test/pipeline.ts).
import { randomUUID } from 'node:crypto';
import { sql, param, trusted, queryRows } from '@groupscope/clickhouse';
import { codecs, groupKey, newIngestRecord, userKey, type GroupIdentifyRecord, type IngestRecord } from '@groupscope/events';
import { createProducer, type Producer } from '@groupscope/kafka';
import { testClickHouse, testKafka, waitFor, HOUR, type TestClickHouse, type TestKafka } from '@groupscope/testing';
import type { NewKeys } from '@groupscope/projects';
import { startFakeSalesforce, type FakeSalesforce } from './fake-salesforce';
import { startEnricherAndWriter } from './pipeline';
import { startTestService, type TestService } from './service';

let ch: TestClickHouse;
let tk: TestKafka;
let sf: FakeSalesforce;
let svc: TestService;
let pipeline: { stop(): Promise<void> } | undefined;
let producer: Producer;
let A: NewKeys;

beforeAll(async () => {
  ch = await testClickHouse();
  tk = testKafka();
  await tk.ensureTopics(2);
  pipeline = await startEnricherAndWriter(ch, tk);
  sf = await startFakeSalesforce();
  sf.defineObject('Account', [
    { name: 'Name', type: 'string' },
    { name: 'Industry', type: 'picklist' },
    { name: 'Plan__c', type: 'string' },
  ]);
  svc = await startTestService(ch, {
    kafka: { brokers: tk.brokers, clientId: 'test', topicPrefix: tk.prefix },
    env: sf.env(1),
  });
  A = svc.projects[0]!;
  producer = createProducer(tk.kafka);
  await producer.connect();
}, 90_000);

afterAll(async () => {
  await producer?.disconnect();
  await svc?.stop();
  await pipeline?.stop();
  await sf?.stop();
  await ch?.cleanup();
});

function event(user: string, type = 'Login'): IngestRecord {
  const uuid = randomUUID();
  const now = Date.now();
  return newIngestRecord({ project_id: A.project_id, uuid, receive_time: now, event_time: now, event_type: type, user_id: user, insert_id: uuid, groups: { company: ['acme'] } });
}

const ingest = (records: IngestRecord[]) =>
  producer.send({
    topic: tk.topics.ingest,
    acks: -1,
    messages: records.map((r) => ({ key: userKey(r.project_id, r.user_id, r.device_id), value: codecs.ingest.encode(r), headers: codecs.ingest.headers() })),
  });

/** A Group Identify as the gateway writes it for POST /groupidentify. */
function groupIdentify(props: Record<string, unknown>): Promise<unknown> {
  const now = Date.now();
  const r: GroupIdentifyRecord = {
    project_id: A.project_id,
    uuid: randomUUID(),
    receive_time: now,
    event_time: now,
    group_type: 'company',
    group_value: 'acme',
    group_properties: JSON.stringify({ $set: props }),
    source: 'api',
    user_id: null,
    device_id: null,
    insert_id: null,
  };
  return producer.send({ topic: tk.topics.groupIdentify, acks: -1, messages: [{ key: groupKey(r.project_id, r.group_type, r.group_value), value: codecs.groupIdentify.encode(r), headers: codecs.groupIdentify.headers() }] });
}

const rows = <T>(q: ReturnType<typeof sql>) => queryRows<T>(ch, q);

async function historyOf(property: string): Promise<{ value: string; source: string }[]> {
  return rows<{ value: string; source: string }>(
    sql`SELECT value, source FROM ${trusted(ch.table('group_property_history'))}
        WHERE project_id = ${param(A.project_id, 'UInt32')} AND group_type = 'company' AND group_value = 'acme' AND property = ${param(property, 'String')}
        ORDER BY kafka_offset`,
  );
}

const search = async (q: string) =>
  (await svc.call(A, 'GET', `/api/2/groups/search?group_type=company&q=${encodeURIComponent(q)}`)).body.matches.map((m: { group_value: string }) => m.group_value);

it('a field changed in Salesforce reaches the account page and history search; the Group Identify property beside it stays', async () => {
  // acme is active in groupscope, and a Group Identify gives it a property Salesforce does not have
  await ingest([event('alice')]);
  await groupIdentify({ tier: 'gold' });
  await waitFor(async () => (await historyOf('tier')).length === 1, { timeoutMs: 60_000, message: 'the Group Identify in property history' });
  await waitFor(
    async () => Number((await rows<{ n: number }>(sql`SELECT count() AS n FROM ${trusted(ch.table('event_groups'))} WHERE project_id = ${param(A.project_id, 'UInt32')}`))[0]?.n) === 1,
    { timeoutMs: 60_000, message: "alice's event" },
  );

  sf.upsert('Account', '001A', { Name: 'acme', Industry: 'Retail', Plan__c: 'pro' }, Date.now() - 2 * HOUR);
  const created = await svc.call(A, 'POST', '/api/3/integrations/salesforce/mappings', {
    sobject: 'Account',
    group_type: 'company',
    name_field: 'Name',
    properties: [
      { sf_field: 'Industry', group_property: 'industry' },
      { sf_field: 'Plan__c', group_property: 'plan' },
    ],
    cadence: 'hourly',
  });
  expect(created.status).toBe(201);
  const id = created.body.id;
  expect((await svc.call(A, 'POST', `/api/3/integrations/salesforce/mappings/${id}/run`)).body.groups_updated).toBe(1);
  await waitFor(async () => (await historyOf('plan')).length === 1, { timeoutMs: 60_000, message: 'plan in property history' });

  // the field changes in Salesforce; the next (incremental) run carries it over
  sf.upsert('Account', '001A', { Plan__c: 'enterprise' }, Date.now() - HOUR);
  const run = await svc.call(A, 'POST', `/api/3/integrations/salesforce/mappings/${id}/run`);
  expect(run.body).toMatchObject({ full_sync: false, groups_updated: 1 });
  expect(await waitFor(async () => ((await historyOf('plan')).length === 2 ? historyOf('plan') : undefined), { timeoutMs: 60_000, message: 'the new plan in history' })).toEqual([
    { value: 'pro', source: 'salesforce' },
    { value: 'enterprise', source: 'salesforce' },
  ]);

  // the account page: Salesforce's current values beside the Group Identify's property, with who set each
  const page = await waitFor(
    async () => {
      const res = await svc.call(A, 'GET', '/api/2/groups/company/acme');
      return res.body.group?.properties?.plan === 'enterprise' ? res.body.group : undefined;
    },
    { timeoutMs: 60_000, message: 'the account page with the new plan' },
  );
  expect(page.properties).toEqual({ tier: 'gold', industry: 'Retail', plan: 'enterprise' });
  expect(page.property_sources).toEqual({
    tier: { source: 'api', set_at: expect.any(String) },
    industry: { source: 'salesforce', set_at: expect.any(String) },
    plan: { source: 'salesforce', set_at: expect.any(String) },
  });
  const history = await svc.call(A, 'GET', '/api/2/groups/company/acme/history?property=plan');
  expect(history.body.history.map((h: { value: string; source: string }) => [h.value, h.source])).toEqual([
    ['enterprise', 'salesforce'],
    ['pro', 'salesforce'],
  ]);

  // search over history: the old value and the new one both find acme; the Group Identify's property too
  expect(await search('plan = enterprise')).toEqual(['acme']);
  expect(await search('plan = pro')).toEqual(['acme']);
  expect(await search('tier = gold')).toEqual(['acme']);
  expect(await search('plan = free')).toEqual([]);

  // an event after the sync is stamped with Salesforce's values (and the Group Identify's)
  await ingest([event('bob', 'Invoice Sent')]);
  const stamped = await waitFor(
    async () =>
      (await rows<{ all: string }>(sql`SELECT all_group_properties AS all FROM ${trusted(ch.table('event_groups'))} WHERE project_id = ${param(A.project_id, 'UInt32')} AND user_id = 'bob'`))[0],
    { timeoutMs: 60_000, message: "bob's event" },
  );
  expect(JSON.parse(stamped.all)).toEqual({ company: { acme: { tier: 'gold', industry: 'Retail', plan: 'enterprise' } } });
}, 180_000);
