// The producer send loop that replaces kafkajs' own: installed before kafkajs loads, and a retry after a leader
// moves sends every partition not yet acknowledged, once, with the sequence numbers of its first attempt.
import { createSendMessages, groupMessagesPerPartition } from './kafkajs-send-fix';
import './index';

interface Produced {
  broker: number;
  topic: string;
  partition: number;
  firstSequence: number;
  count: number;
}

/** A cluster of fake brokers whose leaders the test moves; broker `failOnce` refuses its first request. */
function fakes(leaders: Record<number, number>, failOnce?: number) {
  const produced: Produced[] = [];
  const sequences = new Map<string, number>();
  let refused = false;
  const broker = (nodeId: number) => ({
    nodeId,
    async produce({ topicData }: { topicData: { topic: string; partitions: { partition: number; messages: unknown[]; firstSequence: number }[] }[] }) {
      if (nodeId === failOnce && !refused) {
        refused = true;
        // the request reached a dying leader: no answer, and its partitions move on
        for (const p of Object.keys(leaders)) if (leaders[Number(p)] === nodeId) leaders[Number(p)] = nodeId === 1 ? 2 : 1;
        throw Object.assign(new Error('Connection error: read ECONNRESET'), { name: 'KafkaJSConnectionError' });
      }
      for (const t of topicData) for (const p of t.partitions) produced.push({ broker: nodeId, topic: t.topic, partition: p.partition, firstSequence: p.firstSequence, count: p.messages.length });
      return { topics: topicData.map((t) => ({ topicName: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: '0' })) })) };
    },
  });
  const brokers = new Map([1, 2].map((id) => [id, broker(id)]));
  const cluster = {
    refreshMetadataIfNecessary: async () => undefined,
    refreshMetadata: async () => undefined,
    addMultipleTargetTopics: async () => undefined,
    isConnected: () => true,
    removeBroker: () => undefined,
    findTopicPartitionMetadata: () => Object.keys(leaders).map((p) => ({ partitionId: Number(p), leader: leaders[Number(p)] })),
    findLeaderForPartitions: (_topic: string, partitions: number[]) =>
      partitions.reduce<Record<number, number[]>>((acc, p) => ({ ...acc, [leaders[p]!]: [...(acc[leaders[p]!] ?? []), Number(p)] }), {}),
    findBroker: async ({ nodeId }: { nodeId: string }) => brokers.get(Number(nodeId)),
  };
  const eosManager = {
    acquireBrokerLock: async () => undefined,
    releaseBrokerLock: async () => undefined,
    isTransactional: () => false,
    getSequence: (topic: string, partition: number) => sequences.get(`${topic}:${partition}`) ?? 0,
    updateSequence: (topic: string, partition: number, n: number) => sequences.set(`${topic}:${partition}`, (sequences.get(`${topic}:${partition}`) ?? 0) + n),
    getProducerId: () => 1,
    getProducerEpoch: () => 0,
    getTransactionalId: () => undefined,
  };
  // kafkajs' retrier: retries the function while it throws retriable errors
  const retrier = async (fn: (bail: (e: Error) => void, n: number, t: number) => Promise<unknown>) => {
    for (let n = 0; ; n++) {
      let bailed: Error | undefined;
      try {
        const out = await fn((e) => (bailed = e), n, 0);
        if (bailed) throw bailed;
        return out;
      } catch (err) {
        if (bailed || n > 5) throw err;
      }
    }
  };
  const logger = { debug: () => undefined, error: () => undefined };
  // messages carry their partition, as a keyed message maps to one
  const partitioner = ({ message }: { message: { partition: number } }) => message.partition;
  return { produced, sequences, send: createSendMessages({ logger, cluster, partitioner, eosManager, retrier: retrier as never }) };
}

const messages = (partition: number, n: number) => Array.from({ length: n }, (_, i) => ({ partition, key: `k${partition}`, value: `v${i}` }));

it('is the send loop kafkajs uses once this package is loaded', () => {
  expect(require('kafkajs/src/producer/sendMessages')).toBe(createSendMessages);
});

it('sends the partitions of a dead leader to the broker that already answered, with their first sequence numbers', async () => {
  // partitions 0 and 1 on broker 1, 2 and 3 on broker 2; broker 2 dies during the send and its partitions move to 1
  const f = fakes({ 0: 1, 1: 1, 2: 2, 3: 2 }, 2);
  const answers = await f.send({ acks: -1, topicMessages: [{ topic: 't', messages: [0, 1, 2, 3].flatMap((p) => messages(p, p + 1)) }] });
  expect(answers).toHaveLength(4);
  // every partition written exactly once, those of the dead leader by broker 1, from sequence 0
  expect(f.produced.map((p) => [p.partition, p.broker, p.firstSequence, p.count]).sort()).toEqual([
    [0, 1, 0, 1],
    [1, 1, 0, 2],
    [2, 1, 0, 3],
    [3, 1, 0, 4],
  ]);
  // the next send continues each partition's sequence where its records ended
  await f.send({ acks: -1, topicMessages: [{ topic: 't', messages: messages(3, 2) }] });
  expect(f.produced.at(-1)).toMatchObject({ partition: 3, firstSequence: 4, count: 2 });
});

it('retries the same records when the leader that failed is the only one', async () => {
  const f = fakes({ 0: 1 }, 1);
  await f.send({ acks: -1, topicMessages: [{ topic: 't', messages: messages(0, 3) }] });
  expect(f.produced).toEqual([{ broker: 2, topic: 't', partition: 0, firstSequence: 0, count: 3 }]);
  expect(f.sequences.get('t:0')).toBe(3);
});

it('groups a send\'s records by the partition the partitioner picks, each partition keeping their order', () => {
  const partitioner = ({ message }: { message: { key: string } }) => Number(message.key) % 3;
  const records = Array.from({ length: 10 }, (_, i) => ({ key: String(i), value: `v${i}` }));
  const grouped = groupMessagesPerPartition({ topic: 't', partitionMetadata: [{}, {}, {}], messages: records, partitioner });
  expect(Object.fromEntries(Object.entries(grouped).map(([p, list]) => [p, list.map((m) => m.key)]))).toEqual({
    0: ['0', '3', '6', '9'],
    1: ['1', '4', '7'],
    2: ['2', '5', '8'],
  });
  expect(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages: records, partitioner })).toEqual({});
});
