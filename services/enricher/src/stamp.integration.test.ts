// Receive-order stamping against the real broker, with the enricher as a child process killed with -9 twice.
// Two simulated gateways (A and B) take turns receiving a group identify ($set plan, $add n) followed by events of
// that group's members; B's records reach Kafka several rounds late, so group identifies arrive out of position
// order, and each gateway marks every group-identify partition after each of its rounds. Every event must carry
// exactly the group identifies received before it (by position, whichever gateway received them), the group's
// changes must come out in position order, resent group identifies (same insert_id, a new position) must apply once,
// and all of it exactly once across the kills.
import { markMessage, recordMessage, type GroupIdentifyRecord, type IngestRecord } from '@groupscope/events';
import { withAdmin, type Message } from '@groupscope/kafka';
import { silentLogger } from '@groupscope/logger';
import { InputProducer, OutputReader, groupIdentifyRecord, ingestRecord, startChildService, testKafka, uniqueName, waitFor, type ChildService } from '@groupscope/testing';

jest.setTimeout(420_000);
const t = testKafka(silentLogger);
const input = new InputProducer(t.kafka, t.topics);
const output = new OutputReader(t.kafka, t.topics);
const PARTITIONS = 2;
const ROUNDS = 60;
const USERS = ['ann', 'bob', 'cid', 'dee', 'eve'];
const env = {
  KAFKA_BROKERS: t.brokers.join(','),
  TOPIC_PREFIX: t.prefix,
  KAFKA_PARTITIONS: String(PARTITIONS),
  ENRICHER_PORT: '0',
  ENRICHER_GROUP_ID: uniqueName('enricher'),
  ENRICHER_SESSION_TIMEOUT_MS: '6000',
  // small batches: many transactions, so the kills land in the middle of the stream (and of queued identifies)
  ENRICHER_MAX_BATCH_BYTES: '2048',
  // this test asserts exact stamps: the degraded case (the watermark stalled for this long) must not happen
  ENRICHER_STAMP_MAX_WAIT_MS: '600000',
  LOG_LEVEL: 'warn',
};

const BASE = Date.now() * 1000;
const pos = (round: number, k = 0) => BASE + round * 1000 + k;
const producerOf = (round: number) => (round % 2 === 0 ? 'gw-A' : 'gw-B');

interface Sent {
  topic: 'ingest' | 'groupIdentify';
  message: Message;
}

/** One gateway's round: a group identify, three events of members, then its mark on every partition. */
function round(r: number): Sent[] {
  const producer_id = producerOf(r);
  const gi: GroupIdentifyRecord = groupIdentifyRecord({
    group_type: 'org', group_value: 'acme', insert_id: `gi-${r}`, receive_pos: pos(r), producer_id,
    group_properties: JSON.stringify({ $set: { plan: `plan-${r}` }, $add: { n: 1 } }),
  });
  const events: IngestRecord[] = [1, 2, 3].map((k) =>
    ingestRecord({
      user_id: USERS[(r + k) % USERS.length]!, event_type: 'Tick', groups: { org: ['acme'] }, receive_pos: pos(r, k), producer_id,
      insert_id: `ev-${r}-${k}`, event_properties: JSON.stringify({ round: r, pos: pos(r, k) }),
    }),
  );
  // every third round of A also re-sends the group identify of two rounds before (a client retry): new position, same insert_id
  const resend = producer_id === 'gw-A' && r % 3 === 0 && r >= 2
    ? [groupIdentifyRecord({ group_type: 'org', group_value: 'acme', insert_id: `gi-${r - 2}`, receive_pos: pos(r, 5), producer_id, group_properties: '{"$add":{"n":1}}' })]
    : [];
  const mark = markMessage({ producer_id, pos: pos(r, 10), leave: false }, 0);
  return [
    { topic: 'groupIdentify', message: recordMessage.groupIdentify(gi) },
    ...events.map((e): Sent => ({ topic: 'ingest', message: recordMessage.ingest(e) })),
    ...resend.map((g): Sent => ({ topic: 'groupIdentify', message: recordMessage.groupIdentify(g) })),
    ...Array.from({ length: PARTITIONS }, (_, q): Sent => ({ topic: 'groupIdentify', message: { ...mark, partition: q } })),
  ];
}

/** Kafka append order: each gateway's own records in order, B's rounds five rounds behind A's. */
function appendOrder(from: number, to: number): Sent[] {
  const out: Sent[] = [];
  for (let r = from; r < to; r++) {
    if (r < ROUNDS && producerOf(r) === 'gw-A') out.push(...round(r));
    const late = r - 5;
    if (late >= 0 && late < ROUNDS && producerOf(late) === 'gw-B') out.push(...round(late));
  }
  return out;
}

async function send(items: Sent[]): Promise<void> {
  // one request per run of the same topic keeps the append order within each partition
  for (let i = 0; i < items.length; ) {
    let j = i;
    while (j < items.length && items[j]!.topic === items[i]!.topic) j++;
    await input.send(items[i]!.topic, items.slice(i, j).map((x) => x.message));
    i = j;
  }
}

/** What an event at `p` must carry: the last plan and the number of group identifies received before it. */
function expected(p: number): { plan?: string; n?: number } {
  let last = -1;
  let n = 0;
  for (let r = 0; r < ROUNDS; r++) {
    if (pos(r) < p) {
      last = r;
      n++;
    }
  }
  return last < 0 ? {} : { plan: `plan-${last}`, n };
}

let child: ChildService | undefined;
let logs = '';
const kill9 = async () => {
  await child!.kill9();
  logs += child!.logs();
};

beforeAll(async () => {
  await t.ensureTopics(PARTITIONS);
  await input.connect();
  await output.start();
});

afterAll(async () => {
  if (child) await child.kill9();
  await output.stop();
  await input.disconnect();
  await withAdmin(t.kafka, (a) => a.deleteTopics({ topics: Object.values(t.topics) })).catch(() => undefined);
});

it('stamps every event with the group identifies received before it, in position order, exactly once across kill -9', async () => {
  const third = Math.floor(ROUNDS / 3);
  try {
    // each gateway's start mark comes first (from then on it is waited for), then a backlog: the enricher starts
    // behind on everything
    for (const producer_id of ['gw-A', 'gw-B']) {
      await send([0, 1].map((q) => ({ topic: 'groupIdentify' as const, message: markMessage({ producer_id, pos: BASE - 100, leave: false }, q) })));
    }
    await send(appendOrder(0, third));
    child = startChildService('enricher', env);
    await waitFor(() => output.byType('Tick').length >= 30, { timeoutMs: 90_000, message: 'first instance makes progress' });
    await kill9();

    await send(appendOrder(third, 2 * third));
    child = startChildService('enricher', env);
    await waitFor(() => output.byType('Tick').length >= 3 * third + 20, { timeoutMs: 90_000, message: 'second instance makes progress' });
    await kill9();

    // the rest, B's late rounds, and a final mark of each gateway past everything
    await send(appendOrder(2 * third, ROUNDS + 5));
    for (const producer_id of ['gw-A', 'gw-B']) {
      await send([0, 1].map((q) => ({ topic: 'groupIdentify' as const, message: markMessage({ producer_id, pos: pos(ROUNDS + 10), leave: false }, q) })));
    }
    child = startChildService('enricher', env);
    await waitFor(() => output.byType('Tick').length >= 3 * ROUNDS, { timeoutMs: 120_000, message: 'all events enriched' });
    await waitFor(() => output.changes.length >= ROUNDS, { timeoutMs: 60_000, message: 'all group changes' });
  } catch (err) {
    console.error((logs + (child?.logs() ?? '')).slice(-6000));
    throw err;
  }

  const ticks = output.byType('Tick');
  expect(ticks).toHaveLength(3 * ROUNDS);
  expect(new Set(ticks.map((e) => e.uuid)).size).toBe(3 * ROUNDS);
  const wrong = ticks.filter((e) => {
    const p = (JSON.parse(e.event_properties) as { pos: number }).pos;
    return JSON.stringify(JSON.parse(e.group_properties[0]!.properties)) !== JSON.stringify(expected(p));
  });
  expect(wrong.map((e) => `${e.event_properties} -> ${e.group_properties[0]!.properties}`)).toEqual([]);

  // the group's history in position order, each group identify once (resends dropped), exactly once across the kills
  const history = output.changes.map((c) => JSON.parse(c.properties) as { plan: string; n: number });
  expect(history).toEqual(Array.from({ length: ROUNDS }, (_, r) => ({ plan: `plan-${r}`, n: r + 1 })));
}, 420_000);
