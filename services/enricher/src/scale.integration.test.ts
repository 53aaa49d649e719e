// Two enricher instances in one consumer group share the partitions; when one leaves, the other takes its
// partitions over together with their user state. Every event comes out exactly once.
import { silentLogger } from '@groupscope/logger';
import { testKafka, waitFor, uniqueName, InputProducer, OutputReader, groupIdentifyRecord, identifyRecord, ingestRecord } from '@groupscope/testing';
import { withAdmin } from '@groupscope/kafka';
import { loadEnricherConfig, startEnricher, type RunningEnricher } from './index';

jest.setTimeout(240_000);
const t = testKafka(silentLogger);
const config = loadEnricherConfig({
  KAFKA_BROKERS: t.brokers.join(','),
  TOPIC_PREFIX: t.prefix,
  KAFKA_PARTITIONS: '4',
  ENRICHER_PORT: '0',
  ENRICHER_GROUP_ID: uniqueName('enricher'),
  ENRICHER_SESSION_TIMEOUT_MS: '6000',
  LOG_LEVEL: 'silent',
});
const input = new InputProducer(t.kafka, t.topics);
const output = new OutputReader(t.kafka, t.topics);
const USERS = 40;
let a: RunningEnricher | undefined;
let b: RunningEnricher | undefined;

beforeAll(async () => {
  await t.ensureTopics(4);
  await input.connect();
  await output.start();
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await output.stop();
  await input.disconnect();
  await withAdmin(t.kafka, (admin) => admin.deleteTopics({ topics: Object.values(t.topics) })).catch(() => undefined);
});

const users = Array.from({ length: USERS }, (_, i) => `user-${i}`);

it('two instances share the partitions, and user state moves with a partition when one leaves', async () => {
  [a, b] = await Promise.all([startEnricher({ config, logger: silentLogger }), startEnricher({ config, logger: silentLogger })]);
  await input.groupIdentify([groupIdentifyRecord({ group_value: 'acme', group_properties: '{"plan":"ent"}' })]);
  await waitFor(() => output.changes.length === 1, { message: 'group change' });
  await input.ingest(users.flatMap((user_id) => [identifyRecord({ user_id, user_properties: '{"$add":{"n":1}}', groups: { org: ['acme'] } }), ingestRecord({ user_id, event_type: 'First' })]));
  await waitFor(() => output.byType('First').length >= USERS, { message: 'first round' });

  // both instances worked on ingest partitions, and none on the same one
  const ingestOf = (e: RunningEnricher) => e.partitions().filter((p) => p.startsWith(t.topics.ingest));
  expect(ingestOf(a).length).toBeGreaterThan(0);
  expect(ingestOf(b).length).toBeGreaterThan(0);
  expect(ingestOf(a).filter((p) => ingestOf(b!).includes(p))).toEqual([]);
  for (const ev of output.byType('First')) {
    expect(JSON.parse(ev.user_properties)).toEqual({ n: 1 });
    // the group identify was applied by whichever instance owns its partition; both see the group
    expect(ev.group_properties).toEqual([{ group_type: 'org', group_value: 'acme', properties: '{"plan":"ent"}' }]);
  }

  // b leaves: a takes every partition over and restores b's users from the changelog
  await b.stop();
  b = undefined;
  await input.ingest(users.flatMap((user_id) => [identifyRecord({ user_id, user_properties: '{"$add":{"n":1}}' }), ingestRecord({ user_id, event_type: 'Second' })]));
  await waitFor(() => output.byType('Second').length >= USERS, { timeoutMs: 60000, message: 'second round' });
  expect(ingestOf(a)).toHaveLength(4);
  for (const ev of output.byType('Second')) {
    expect(JSON.parse(ev.user_properties)).toEqual({ n: 2 });
    expect(ev.groups).toEqual({ org: ['acme'] });
  }
  const uuids = output.enriched.map((e) => e.uuid);
  expect(uuids).toHaveLength(2 * USERS);
  expect(new Set(uuids).size).toBe(2 * USERS);
}, 240_000);
