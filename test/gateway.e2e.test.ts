// End to end with the official Amplitude Node SDK: its calls arrive in Kafka as groupscope records; and during a
// Kafka outage (a private broker, stopped and started again) the SDK gets 503, retries, and delivers once Kafka
// is back. Counting here is "each insert_id at least once": a send acknowledged after its request timed out is a
// duplicate that the enricher drops by insert_id (exactly-once counting is the enricher's job, not tested here).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInstance, Identify } from '@amplitude/analytics-node';
import { codecs, groupKey, isMark, topicNames, userKey, type GroupIdentifyRecord, type IngestRecord } from '@groupscope/events';
import { createKafka, type Kafka } from '@groupscope/kafka';
import { silentLogger } from '@groupscope/logger';
import { ProjectRegistry } from '@groupscope/projects';
import { testKafka, uniqueName, waitFor, TopicReader } from '@groupscope/testing';
import { loadGatewayConfig, startGateway, type RunningGateway } from '@groupscope/gateway';
import { LocalKafka, testDataDir, testPort } from './support/local-servers';

// the outage test stops and starts a broker, which takes minutes on a busy machine
jest.setTimeout(300_000);

// the private broker takes the two ports after the test broker's (TEST_KAFKA_PORT, TEST_KAFKA_CONTROLLER_PORT)
const faultKafka = new LocalKafka({
  nodes: 1,
  port: testPort('TEST_KAFKA_PORT', 2),
  controllerPort: testPort('TEST_KAFKA_CONTROLLER_PORT', 2),
  dataDir: testDataDir('kafka-gw-fault'),
});
const FAULT_PORT = faultKafka.brokerPort(1);
const privateKafka = (cmd: 'start' | 'stop') => (cmd === 'start' ? faultKafka.start() : faultKafka.stop());

const dir = mkdtempSync(join(tmpdir(), 'gw-e2e-'));
const projectsFile = join(dir, 'projects.json');
const registry = new ProjectRegistry(projectsFile);
const project = registry.create('e2e');

interface Collected {
  ingest: { key: string; partition: number; rec: IngestRecord }[];
  groups: { key: string; rec: GroupIdentifyRecord }[];
  stop(): Promise<void>;
}

async function collect(kafka: Kafka, prefix: string): Promise<Collected> {
  const out: Collected = { ingest: [], groups: [], stop: async () => undefined };
  const topics = topicNames(prefix);
  const reader = new TopicReader(kafka, [topics.ingest, topics.groupIdentify], {
    onMessage: (m) => {
      if (isMark(m.headers)) return; // the gateway's watermark marks
      const key = m.key!.toString();
      if (m.topic === topics.groupIdentify) out.groups.push({ key, rec: codecs.groupIdentify.decode(m.value!, m.headers) });
      else out.ingest.push({ key, partition: m.partition, rec: codecs.ingest.decode(m.value!, m.headers) });
    },
  });
  await reader.start();
  out.stop = () => reader.stop();
  return out;
}

function gatewayConfig(brokers: string, prefix: string, extra: Record<string, string> = {}) {
  return loadGatewayConfig({
    KAFKA_BROKERS: brokers,
    TOPIC_PREFIX: prefix,
    KAFKA_PARTITIONS: '2',
    PROJECTS_FILE: projectsFile,
    GATEWAY_PORT: '0',
    LOG_LEVEL: 'silent',
    ...extra,
  });
}

function sdk(serverUrl: string) {
  const client = createInstance();
  // logLevel 0: the SDK's retry warnings would only clutter the test output
  client.init(project.api_key, { serverUrl, flushIntervalMillis: 20, flushMaxRetries: 20, logLevel: 0 });
  return client;
}

// the private broker starts in the background while the first part runs against the shared one
let privateStart: Promise<unknown>;
beforeAll(() => {
  privateStart = privateKafka('start');
  privateStart.catch(() => undefined);
});

afterAll(async () => {
  await privateStart?.catch(() => undefined);
  await privateKafka('stop').catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('Amplitude Node SDK -> gateway -> Kafka', () => {
  const tk = testKafka();
  let gw: RunningGateway;
  let seen: Collected;

  beforeAll(async () => {
    gw = await startGateway({ config: gatewayConfig(tk.brokers.join(','), tk.prefix), logger: silentLogger });
    seen = await collect(tk.kafka, tk.prefix);
  });
  afterAll(async () => {
    await seen?.stop();
    await gw?.stop();
  });

  it('delivers track with event-level groups, identify, setGroup and groupIdentify', async () => {
    const client = sdk(`${gw.url}/2/httpapi`);
    const user = { user_id: 'sdk-user-1', device_id: 'sdk-device-1' };
    const results = await Promise.all([
      client.track('Invoice Sent', { amount: 120 }, { ...user, groups: { org: 'acme' }, insert_id: 'sdk-track-1' }).promise,
      client.identify(new Identify().set('plan', 'pro').add('logins', 1), { ...user, insert_id: 'sdk-identify-1' }).promise,
      client.setGroup('org', ['acme', 'globex'], { ...user, insert_id: 'sdk-setgroup-1' }).promise,
      client.groupIdentify('org', 'acme', new Identify().set('tier', 'enterprise'), { ...user, insert_id: 'sdk-gi-1' }).promise,
    ]);
    expect(results.map((r) => r.code)).toEqual([200, 200, 200, 200]);

    const one = (id: string) => seen.ingest.find((s) => s.rec.insert_id === id);
    await waitFor(() => one('sdk-track-1') && one('sdk-identify-1') && one('sdk-setgroup-1') && seen.groups.length >= 1, { timeoutMs: 60_000, message: 'the four calls in Kafka' });
    const track = one('sdk-track-1')!;
    expect(track.key).toBe(userKey(project.project_id, 'sdk-user-1', 'sdk-device-1'));
    expect(track.rec).toMatchObject({ kind: 'event', event_type: 'Invoice Sent', event_properties: '{"amount":120}', groups: { org: ['acme'] } });
    expect(JSON.parse(track.rec.extra)).toHaveProperty('library');

    const identify = one('sdk-identify-1')!;
    expect(identify.rec).toMatchObject({ kind: 'identify', event_type: '$identify' });
    expect(JSON.parse(identify.rec.user_properties)).toEqual({ $set: { plan: 'pro' }, $add: { logins: 1 } });

    const setGroup = one('sdk-setgroup-1')!;
    expect(setGroup.rec).toMatchObject({ kind: 'identify', groups: { org: ['acme', 'globex'] } });
    expect(JSON.parse(setGroup.rec.user_properties)).toEqual({ $set: { org: ['acme', 'globex'] } });
    // one user's events and identifies share a partition
    expect(new Set([track.partition, identify.partition, setGroup.partition]).size).toBe(1);

    expect(seen.groups).toHaveLength(1);
    expect(seen.groups[0]!.key).toBe(groupKey(project.project_id, 'org', 'acme'));
    expect(seen.groups[0]!.rec).toMatchObject({ group_type: 'org', group_value: 'acme', insert_id: 'sdk-gi-1' });
    expect(JSON.parse(seen.groups[0]!.rec.group_properties)).toEqual({ $set: { tier: 'enterprise' } });
  });
});

describe('Kafka outage', () => {
  const prefix = `${uniqueName('gwfault')}.`;
  const SEND_TIMEOUT = 2000;
  let gw: RunningGateway;
  let kafka: Kafka;
  let seen: Collected;

  const code503 = async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const m = /groupscope_gateway_requests_total\{endpoint="httpapi",code="503"\} (\d+)/.exec(text);
    return m ? Number(m[1]) : 0;
  };

  beforeAll(async () => {
    await privateStart;
    kafka = createKafka({ brokers: [`127.0.0.1:${FAULT_PORT}`], clientId: 'gw-e2e-fault', logger: silentLogger });
    gw = await startGateway({
      config: gatewayConfig(`127.0.0.1:${FAULT_PORT}`, prefix, { GATEWAY_SEND_TIMEOUT_MS: String(SEND_TIMEOUT), GATEWAY_READY_CACHE_MS: '100' }),
      logger: silentLogger,
    });
  });
  afterAll(async () => {
    await seen?.stop();
    await gw?.stop();
  });

  it('answers 503 while Kafka is down, then the SDK delivers once it is back', async () => {
    const client = sdk(`${gw.url}/2/httpapi`);
    const user = { user_id: 'fault-user-1' };
    expect((await client.track('Before', {}, { ...user, insert_id: 'f-before' }).promise).code).toBe(200);

    await privateKafka('stop');
    const t0 = Date.now();
    const raw = await fetch(`${gw.url}/2/httpapi`, {
      method: 'POST',
      body: JSON.stringify({ api_key: project.api_key, events: [{ ...user, event_type: 'Raw', insert_id: 'f-raw' }] }),
    });
    const elapsed = Date.now() - t0;
    expect(raw.status).toBe(503);
    expect(await raw.json()).toMatchObject({ code: 503, error: expect.any(String) });
    expect(elapsed).toBeLessThan(SEND_TIMEOUT + 1500);
    expect((await fetch(`${gw.url}/ready`)).status).toBe(503);

    // the SDK's own request gets 503 too (seen in the gateway's reply counter); it keeps the event and retries
    const before503 = await code503();
    const during = client.track('During', { n: 1 }, { ...user, insert_id: 'f-during' }).promise;
    await waitFor(async () => (await code503()) > before503, { timeoutMs: 60_000, message: 'the SDK request answered 503' });

    await privateKafka('start');
    const result = await during;
    expect(result.code).toBe(200);
    expect((await client.track('After', {}, { ...user, insert_id: 'f-after' }).promise).code).toBe(200);
    expect((await fetch(`${gw.url}/ready`)).status).toBe(200);

    seen = await collect(kafka, prefix);
    const ids = ['f-before', 'f-during', 'f-after'];
    await waitFor(() => ids.every((id) => seen.ingest.some((s) => s.rec.insert_id === id)), { timeoutMs: 60_000, message: 'every insert_id in Kafka' });
    // at least once each; a send acknowledged after its 503 (f-raw, maybe f-during) may appear twice: the enricher de-duplicates
    for (const id of ids) expect(seen.ingest.filter((s) => s.rec.insert_id === id).length).toBeGreaterThanOrEqual(1);
    await client.flush().promise;
  });
});
