// kill -9 of the enricher while it processes a stream of `$add` identifies and events, twice, then a restart:
// every event comes out exactly once (read committed), stamped with exactly the number of `$add` before it, and
// the final counter equals the number of `$add` sent (a replayed `$add` or a lost update would show).
import { silentLogger } from '@groupscope/logger';
import { testKafka, waitFor, uniqueName, startChildService, InputProducer, OutputReader, identifyRecord, ingestRecord, type ChildService } from '@groupscope/testing';
import { withAdmin } from '@groupscope/kafka';
import type { IngestRecord } from '@groupscope/events';

jest.setTimeout(240_000);
const t = testKafka(silentLogger);
const input = new InputProducer(t.kafka, t.topics);
const output = new OutputReader(t.kafka, t.topics);
const USERS = 10;
const ROUNDS = 120;
const env = {
  KAFKA_BROKERS: t.brokers.join(','),
  TOPIC_PREFIX: t.prefix,
  KAFKA_PARTITIONS: '2',
  ENRICHER_PORT: '0',
  ENRICHER_GROUP_ID: uniqueName('enricher'),
  ENRICHER_SESSION_TIMEOUT_MS: '6000',
  // small batches: many transactions, so a kill lands in the middle of the stream
  ENRICHER_MAX_BATCH_BYTES: '4096',
  LOG_LEVEL: 'warn',
};
let child: ChildService | undefined;
let logs = '';
const startChild = () => startChildService('enricher', env);
const kill9 = async (c: ChildService) => {
  await c.kill9();
  logs += c.logs();
};

/**
 * Round r: each user gets an identify `$add n 1` then an event. Even users send no insert_id (so only the
 * transactions protect them from a replay); odd users do, and every 7th round re-send their previous identify,
 * which the de-duplication window (restored after each kill) must drop.
 */
function round(r: number): IngestRecord[] {
  const out: IngestRecord[] = [];
  for (let u = 0; u < USERS; u++) {
    const user_id = `user-${u}`;
    const ids = u % 2 === 1;
    out.push(identifyRecord({ user_id, insert_id: ids ? `add-${u}-${r}` : null, user_properties: '{"$add":{"n":1}}' }));
    if (ids && r > 0 && r % 7 === 0) out.push(identifyRecord({ user_id, insert_id: `add-${u}-${r - 1}`, user_properties: '{"$add":{"n":1}}' }));
    out.push(ingestRecord({ user_id, insert_id: ids ? `ev-${u}-${r}` : null, event_type: 'Tick', event_properties: JSON.stringify({ round: r }) }));
  }
  return out;
}

const rounds = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => round(from + i)).flat();

beforeAll(async () => {
  await t.ensureTopics(2);
  await input.connect();
  await output.start();
});

afterAll(async () => {
  if (child) await kill9(child);
  await output.stop();
  await input.disconnect();
  await withAdmin(t.kafka, (a) => a.deleteTopics({ topics: Object.values(t.topics) })).catch(() => undefined);
});

it('survives kill -9 mid-stream with no lost, duplicated or double-applied update', async () => {
  try {
    await input.ingest(rounds(0, 50));
    child = startChild();
    await waitFor(() => output.enriched.length >= 150, { timeoutMs: 60000, message: 'first instance makes progress' });
    await kill9(child);
    const afterFirstKill = output.enriched.length;

    await input.ingest(rounds(50, 90));
    child = startChild();
    await waitFor(() => output.enriched.length >= afterFirstKill + 200, { timeoutMs: 60000, message: 'second instance makes progress' });
    await kill9(child);

    await input.ingest(rounds(90, ROUNDS));
    child = startChild();
    await waitFor(() => output.enriched.length >= USERS * ROUNDS, { timeoutMs: 60000, message: 'all events enriched' });
    // a final probe per user, after everything: its counter must equal the number of distinct $add sent
    await input.ingest(Array.from({ length: USERS }, (_, u) => ingestRecord({ user_id: `user-${u}`, event_type: 'Probe' })));
    await waitFor(() => output.byType('Probe').length >= USERS, { timeoutMs: 60000, message: 'probes' });
  } catch (err) {
    console.error((logs + (child?.logs() ?? '')).slice(-5000));
    throw err;
  }

  const ticks = output.byType('Tick');
  expect(ticks.length).toBe(USERS * ROUNDS);
  expect(new Set(ticks.map((e) => e.uuid)).size).toBe(USERS * ROUNDS);
  const wrong = ticks.filter((e) => (JSON.parse(e.user_properties) as { n: number }).n !== (JSON.parse(e.event_properties) as { round: number }).round + 1);
  expect(wrong.map((e) => `${e.user_id} round ${e.event_properties} -> ${e.user_properties}`)).toEqual([]);
  for (const p of output.byType('Probe')) expect(JSON.parse(p.user_properties)).toEqual({ n: ROUNDS });
  // per user, events come out in input order
  for (let u = 0; u < USERS; u++) {
    const seen = ticks.filter((e) => e.user_id === `user-${u}`).map((e) => (JSON.parse(e.event_properties) as { round: number }).round);
    expect(seen).toEqual(Array.from({ length: ROUNDS }, (_, i) => i));
  }
}, 240_000);
