// The enricher in-process against the real broker: stamping, group identifies, de-duplication, dead letters,
// and state surviving a restart.
import { silentLogger } from '@groupscope/logger';
import { testKafka, waitFor, uniqueName, InputProducer, OutputReader, groupIdentifyRecord, header, identifyRecord, ingestRecord } from '@groupscope/testing';
import { withAdmin } from '@groupscope/kafka';
import { loadEnricherConfig, startEnricher, type RunningEnricher } from './index';

jest.setTimeout(120_000);
const t = testKafka(silentLogger);
const config = loadEnricherConfig({
  KAFKA_BROKERS: t.brokers.join(','),
  TOPIC_PREFIX: t.prefix,
  KAFKA_PARTITIONS: '2',
  ENRICHER_PORT: '0',
  ENRICHER_GROUP_ID: uniqueName('enricher'),
  LOG_LEVEL: 'silent',
});
const input = new InputProducer(t.kafka, t.topics);
const output = new OutputReader(t.kafka, t.topics);
let enricher: RunningEnricher;

beforeAll(async () => {
  await t.ensureTopics(2);
  await input.connect();
  await output.start();
  enricher = await startEnricher({ config, logger: silentLogger });
});

afterAll(async () => {
  await enricher?.stop();
  await output.stop();
  await input.disconnect();
  await withAdmin(t.kafka, (a) => a.deleteTopics({ topics: Object.values(t.topics) })).catch(() => undefined);
});

const one = async (eventType: string) => (await waitFor(() => output.byType(eventType)[0], { message: eventType }))!;

describe('enricher', () => {
  it('serves health, readiness and metrics', async () => {
    expect((await fetch(`${enricher.url}/health`)).status).toBe(200);
    await waitFor(async () => (await fetch(`${enricher.url}/ready`)).status === 200, { message: 'ready' });
    const metrics = await (await fetch(`${enricher.url}/metrics`)).text();
    expect(metrics).toContain('groupscope_enricher_state_entries');
  });

  it('stamps an identify\'s groups and user properties on the user\'s later events; the identify is not emitted', async () => {
    await input.ingest([
      identifyRecord({ user_id: 'u1', user_properties: JSON.stringify({ $set: { org: '15', plan: 'pro' } }), groups: { org: ['15'] } }),
      ingestRecord({ user_id: 'u1', event_type: 'E1 Invoice Sent', groups: { team: ['t1'] } }),
    ]);
    const ev = await one('E1 Invoice Sent');
    expect(ev.groups).toEqual({ org: ['15'], team: ['t1'] });
    expect(JSON.parse(ev.user_properties)).toEqual({ org: '15', plan: 'pro' });
    expect(ev.group_properties.map((g) => `${g.group_type}:${g.group_value}`).sort()).toEqual(['org:15', 'team:t1']);
    expect(output.byType('$identify')).toEqual([]);
  });

  it('publishes a GroupChange for a group identify and stamps the group\'s properties on a later event of another user', async () => {
    await input.groupIdentify([groupIdentifyRecord({ group_type: 'org', group_value: 'acme', group_properties: '{"$set":{"plan":"enterprise"},"$add":{"seats":3}}' })]);
    const change = await waitFor(() => output.changes.find((c) => c.group_value === 'acme'), { message: 'group change' });
    expect(change).toMatchObject({ project_id: 1, group_type: 'org', properties: '{"plan":"enterprise","seats":3}' });
    expect(change.changed.sort()).toEqual(['plan', 'seats']);

    await input.ingest([identifyRecord({ user_id: 'u2', groups: { org: ['acme'] } }), ingestRecord({ user_id: 'u2', event_type: 'E2 Report Run' })]);
    const ev = await one('E2 Report Run');
    expect(ev.group_properties).toEqual([{ group_type: 'org', group_value: 'acme', properties: '{"plan":"enterprise","seats":3}' }]);

    // a second identify of the group: its change carries the new state; later events see it
    await input.groupIdentify([groupIdentifyRecord({ group_type: 'org', group_value: 'acme', group_properties: '{"$add":{"seats":2},"$unset":{"plan":"-"}}' })]);
    await waitFor(() => output.changes.filter((c) => c.group_value === 'acme').length === 2, { message: 'second change' });
    const second = output.changes.filter((c) => c.group_value === 'acme')[1]!;
    expect(second.properties).toBe('{"seats":5}');
    expect(second.removed).toEqual(['plan']);
    await input.ingest([ingestRecord({ user_id: 'u3', event_type: 'E2b Event Level', groups: { org: ['acme'] } })]);
    expect((await one('E2b Event Level')).group_properties[0]!.properties).toBe('{"seats":5}');
  });

  it('drops a repeated insert_id (same project and device) and applies its operations once', async () => {
    const dup = { user_id: 'u4', device_id: 'd4', insert_id: 'ins-dup' };
    await input.ingest([
      identifyRecord({ user_id: 'u4', insert_id: 'ins-add', user_properties: '{"$add":{"n":1}}' }),
      identifyRecord({ user_id: 'u4', insert_id: 'ins-add', user_properties: '{"$add":{"n":1}}' }),
      ingestRecord({ ...dup, event_type: 'E3 Dup' }),
      ingestRecord({ ...dup, event_type: 'E3 Dup' }),
    ]);
    // the same insert_id again in a later batch
    await waitFor(() => output.byType('E3 Dup').length > 0, { message: 'first copy' });
    await input.ingest([ingestRecord({ ...dup, event_type: 'E3 Dup' }), ingestRecord({ user_id: 'u4', device_id: 'd4', event_type: 'E3 After' })]);
    const after = await one('E3 After');
    expect(output.byType('E3 Dup')).toHaveLength(1);
    expect(JSON.parse(after.user_properties)).toEqual({ n: 1 });
    const metrics = await (await fetch(`${enricher.url}/metrics`)).text();
    expect(metrics).toMatch(/groupscope_enricher_dedup_drops_total\{source="ingest"\} [3-9]/);
  });

  it('sends undecodable and invalid records to the dead-letter topic with the reason and source position', async () => {
    await input.raw(t.topics.ingest, 'garbage', Buffer.from([0xff, 0x00, 0x13]));
    await input.ingest([ingestRecord({ user_id: null, device_id: null, event_type: 'E4 No Id' })]);
    await input.raw(t.topics.groupIdentify, 'garbage', Buffer.from('not avro'));
    await waitFor(() => output.deadLetters.length >= 3, { message: 'dead letters' });
    const reasons = output.deadLetters.map((m) => header(m, 'dlq-reason')).sort();
    expect(reasons).toEqual(['decode_error', 'decode_error', 'invalid_record']);
    for (const m of output.deadLetters) {
      expect([t.topics.ingest, t.topics.groupIdentify]).toContain(header(m, 'dlq-source-topic'));
      expect(header(m, 'dlq-source-offset')).toMatch(/^\d+$/);
      expect(header(m, 'dlq-stage')).toBe('enricher');
    }
    // processing goes on after a bad record
    await input.ingest([ingestRecord({ user_id: 'u5', event_type: 'E5 After Bad' })]);
    await one('E5 After Bad');
  });

  it('restores user and group state after a restart', async () => {
    await input.ingest([identifyRecord({ user_id: 'u6', user_properties: '{"$add":{"n":2}}', groups: { org: ['acme'] } })]);
    await input.ingest([ingestRecord({ user_id: 'u6', event_type: 'E6 Before Restart' })]);
    await one('E6 Before Restart');
    await enricher.stop();
    enricher = await startEnricher({ config, logger: silentLogger });
    await input.ingest([identifyRecord({ user_id: 'u6', user_properties: '{"$add":{"n":3}}' }), ingestRecord({ user_id: 'u6', event_type: 'E6 After Restart' })]);
    const ev = await one('E6 After Restart');
    expect(JSON.parse(ev.user_properties)).toEqual({ n: 5 });
    expect(ev.group_properties).toEqual([{ group_type: 'org', group_value: 'acme', properties: '{"seats":5}' }]);
    // the de-duplication window survived too
    await input.ingest([ingestRecord({ user_id: 'u4', device_id: 'd4', insert_id: 'ins-dup', event_type: 'E3 Dup' }), ingestRecord({ user_id: 'u4', device_id: 'd4', event_type: 'E6 Dup Check' })]);
    await one('E6 Dup Check');
    expect(output.byType('E3 Dup')).toHaveLength(1);
    // and nothing was emitted twice
    const uuids = output.enriched.map((e) => e.uuid);
    expect(new Set(uuids).size).toBe(uuids.length);
  });

  it('skips input an earlier owner already applied, even when the consumer starts from an older offset', async () => {
    const before = output.enriched.length;
    await enricher.stop();
    // a consumer group without committed offsets starts from the earliest input, as a new owner that fetched the
    // committed offset before the previous owner's last commit would start from an older one
    enricher = await startEnricher({ config: { ...config, ENRICHER_GROUP_ID: uniqueName('enricher_rewound') }, logger: silentLogger });
    await input.ingest([identifyRecord({ user_id: 'u6', user_properties: '{"$add":{"n":1}}' }), ingestRecord({ user_id: 'u6', event_type: 'E7 After Rewind' })]);
    const ev = await one('E7 After Rewind');
    expect(JSON.parse(ev.user_properties)).toEqual({ n: 6 });
    await input.groupIdentify([groupIdentifyRecord({ group_type: 'org', group_value: 'acme', group_properties: '{"$add":{"seats":1}}' })]);
    await waitFor(() => output.changes.some((c) => c.properties === '{"seats":6}'), { message: 'group change after rewind' });
    expect(output.enriched.length).toBe(before + 1);
    expect(output.changes.map((c) => c.properties)).toEqual(['{"plan":"enterprise","seats":3}', '{"seats":5}', '{"seats":6}']);
    const metrics = await (await fetch(`${enricher.url}/metrics`)).text();
    expect(metrics).toMatch(/groupscope_enricher_replay_skipped_total \d+/);
    expect(metrics).not.toMatch(/groupscope_enricher_replay_skipped_total 0\n/);
  });
});
