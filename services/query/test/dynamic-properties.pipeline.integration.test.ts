// A dynamic group property through the real pipeline: events ingested -> enricher -> writer -> ClickHouse; the
// property computed and published as a group identify; the enricher applies it and the writer stores it in the
// group's current properties and its property history; an event ingested afterwards carries it, stamped at ingest.
// The enricher and writer run in-process (test/pipeline.ts).
import { randomUUID } from 'node:crypto';
import { sql, param, trusted, queryRows } from '@groupscope/clickhouse';
import { codecs, newIngestRecord, userKey, type IngestRecord } from '@groupscope/events';
import { createProducer, type Producer } from '@groupscope/kafka';
import { testClickHouse, testKafka, waitFor, DAY, HOUR, type TestClickHouse, type TestKafka } from '@groupscope/testing';
import type { NewKeys } from '@groupscope/projects';
import { startEnricherAndWriter } from './pipeline';
import { startTestService, type TestService } from './service';


const NAME = 'Last 7 Day Active Users';
let ch: TestClickHouse;
let tk: TestKafka;
let svc: TestService;
let pipeline: { stop(): Promise<void> } | undefined;
let producer: Producer;
let A: NewKeys;

beforeAll(async () => {
  ch = await testClickHouse();
  tk = testKafka();
  await tk.ensureTopics(2);
  pipeline = await startEnricherAndWriter(ch, tk);
  svc = await startTestService(ch, { kafka: { brokers: tk.brokers, clientId: 'test', topicPrefix: tk.prefix } });
  A = svc.projects[0]!;
  producer = createProducer(tk.kafka);
  await producer.connect();
}, 90_000);

afterAll(async () => {
  await producer?.disconnect();
  await svc?.stop();
  await pipeline?.stop();
  await ch?.cleanup();
});

function event(user: string, at: number, type = 'Login'): IngestRecord {
  const uuid = randomUUID();
  return newIngestRecord({
    project_id: A.project_id,
    uuid,
    receive_time: Date.now(),
    event_time: at,
    event_type: type,
    user_id: user,
    insert_id: uuid,
    groups: { company: ['acme'] },
  });
}

const ingest = (records: IngestRecord[]) =>
  producer.send({
    topic: tk.topics.ingest,
    acks: -1,
    messages: records.map((r) => ({ key: userKey(r.project_id, r.user_id, r.device_id), value: codecs.ingest.encode(r), headers: codecs.ingest.headers() })),
  });

const rows = <T>(q: ReturnType<typeof sql>) => queryRows<T>(ch, q);

it('is stamped on events ingested after it was written, and kept in property history', async () => {
  const now = Date.now();
  // acme: alice and bob active in the last 7 days, carol 9 days ago -> 2
  await ingest([event('alice', now - 2 * HOUR), event('bob', now - 3 * DAY), event('alice', now - 4 * DAY), event('carol', now - 9 * DAY)]);
  await waitFor(
    async () => Number((await rows<{ n: number }>(sql`SELECT count() AS n FROM ${trusted(ch.table('event_groups'))} WHERE project_id = ${param(A.project_id, 'UInt32')}`))[0]?.n) === 4,
    { timeoutMs: 60_000, message: 'the four events in event_groups' },
  );

  const created = await svc.call(A, 'POST', '/api/3/dynamic-properties', { group_type: 'company', name: NAME, metric: { e: { event_type: '_active' }, m: 'uniques' }, window: { type: 'rolling', days: 7 } });
  expect(created.status).toBe(201);
  const run = await svc.call(A, 'POST', `/api/3/dynamic-properties/${created.body.id}/run`);
  expect(run.status).toBe(200);
  expect(run.body.groups).toBe(1);

  // the enricher applied the $set and the writer stored the change: current properties and history
  const history = await waitFor(
    async () => {
      const h = await rows<{ value: string; removed: number }>(
        sql`SELECT value, removed FROM ${trusted(ch.table('group_property_history'))}
            WHERE project_id = ${param(A.project_id, 'UInt32')} AND group_type = 'company' AND group_value = 'acme' AND property = ${param(NAME, 'String')}`,
      );
      return h.length > 0 ? h : undefined;
    },
    { timeoutMs: 60_000, message: 'the property in group_property_history' },
  );
  expect(history).toEqual([{ value: '2', removed: 0 }]);
  const account = await svc.call(A, 'GET', '/api/2/groups/company/acme');
  expect(account.body.group.properties).toEqual({ [NAME]: 2 });
  // the account search finds it by the value it holds
  const found = await svc.call(A, 'GET', `/api/2/groups/search?group_type=company&q=${encodeURIComponent(`"${NAME}" = 2`)}`);
  expect(found.body.matches.map((m: { group_value: string }) => m.group_value)).toEqual(['acme']);

  // an event after the property was written carries it, as stamped at ingest
  await ingest([event('dave', Date.now(), 'Invoice Sent')]);
  const stamped = await waitFor(
    async () => {
      const r = await rows<{ v: string; all: string }>(
        sql`SELECT group_properties[${param(NAME, 'String')}] AS v, all_group_properties AS all FROM ${trusted(ch.table('event_groups'))}
            WHERE project_id = ${param(A.project_id, 'UInt32')} AND user_id = 'dave'`,
      );
      return r[0];
    },
    { timeoutMs: 60_000, message: "dave's event in event_groups" },
  );
  expect(stamped.v).toBe('2');
  expect(JSON.parse(stamped.all)).toEqual({ company: { acme: { [NAME]: 2 } } });
  // events before it do not (history is never rewritten)
  const before = await rows<{ v: string }>(
    sql`SELECT group_properties[${param(NAME, 'String')}] AS v FROM ${trusted(ch.table('event_groups'))}
        WHERE project_id = ${param(A.project_id, 'UInt32')} AND user_id = 'alice'`,
  );
  expect(before.map((r) => r.v)).toEqual(['', '']);
}, 120_000);
