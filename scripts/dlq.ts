// The dead-letter topic, for operators: list and show what the pipeline could not process (and why), replay a
// record (as it was, or fixed) to the topic it came from, or skip the record a stopped consumer group is stuck on.
// Reading never changes anything; replay and skip print what they would do and act only with --yes.
//   npm run dlq -- list [--reason R] [--stage S] [--source-topic T] [--limit N] [--json]
//   npm run dlq -- show P:O
//   npm run dlq -- replay P:O [--value-file fixed.json] [--yes]
//   npm run dlq -- skip --group G --topic T --partition P [--offset O] [--note TEXT] [--yes]
// P:O is a dead letter's partition and offset in the DLQ topic (the first column of `list`). Kafka is found as the
// services find it: KAFKA_BROKERS and TOPIC_PREFIX.
import { readFileSync } from 'node:fs';
import { loadConfig, kafkaEnv, commonEnv } from '@groupscope/config';
import { codecs, recordMessage, topicNames, type Topics } from '@groupscope/events';
import {
  createKafka, createProducer, deadLetterMessage, readTopicToEnd, withAdmin, type Headers, type Kafka, type Message, type TopicRecord,
} from '@groupscope/kafka';
import { createLogger } from '@groupscope/logger';

const USAGE = `usage:
  npm run dlq -- list [--reason R] [--stage S] [--source-topic T] [--limit N] [--json]
  npm run dlq -- show P:O
  npm run dlq -- replay P:O [--value-file FILE] [--yes]
  npm run dlq -- skip --group G --topic T --partition P [--offset O] [--note TEXT] [--yes]`;

class UsageError extends Error {}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new UsageError(`--${name} needs a value`);
  return v;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const text = (v: Headers[string]): string | undefined => {
  if (v === undefined) return undefined;
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : one.toString();
};

/** What a dead letter says about itself (its dlq-* headers). */
function describe(r: TopicRecord) {
  const h = (name: string) => text(r.headers[name]);
  return {
    at: `${r.partition}:${r.offset}`,
    time: new Date(Number(h('dlq-time') ?? r.timestamp)).toISOString(),
    stage: h('dlq-stage') ?? '',
    reason: h('dlq-reason') ?? '',
    error: h('dlq-error') ?? '',
    source: { topic: h('dlq-source-topic') ?? '', partition: Number(h('dlq-source-partition') ?? -1), offset: h('dlq-source-offset') ?? '' },
    ...(h('dlq-table') ? { table: h('dlq-table') } : {}),
    ...(h('dlq-clickhouse-code') ? { clickhouse_code: h('dlq-clickhouse-code') } : {}),
    ...(h('dlq-replayed-from') ? { replayed_from: h('dlq-replayed-from') } : {}),
  };
}

type Kind = 'ingest' | 'groupIdentify' | 'enriched' | 'groupChange';

/** The pipeline topic a record came from, and how its records are encoded; undefined for anything else. */
function kindOf(topics: Topics, topic: string): Kind | undefined {
  const kinds: [string, Kind][] = [
    [topics.ingest, 'ingest'],
    [topics.groupIdentify, 'groupIdentify'],
    [topics.enriched, 'enriched'],
    [topics.groupChanges, 'groupChange'],
  ];
  return kinds.find(([t]) => t === topic)?.[1];
}

/** The record decoded by its topic's codec, or why it cannot be. */
function decodeRecord(kind: Kind | undefined, r: Pick<TopicRecord, 'value' | 'headers'>): { record?: unknown; undecodable?: string } {
  if (!kind) return { undecodable: 'not a record of a pipeline topic' };
  if (!r.value) return { undecodable: 'no value' };
  try {
    return { record: codecs[kind].decode(r.value, r.headers as Record<string, Buffer | string>) };
  } catch (err) {
    return { undecodable: (err as Error).message };
  }
}

/** The headers a record travelled with, without the dead-letter ones. */
const ownHeaders = (h: Headers): Headers => Object.fromEntries(Object.entries(h).filter(([k]) => !k.startsWith('dlq-')));

function parseAt(raw: string | undefined): { partition: number; offset: number } {
  const m = raw ? /^(\d+):(\d+)$/.exec(raw) : null;
  if (!m) throw new UsageError('name a dead letter as PARTITION:OFFSET (the first column of `npm run dlq -- list`)');
  return { partition: Number(m[1]), offset: Number(m[2]) };
}

async function readOne(kafka: Kafka, topic: string, at: { partition: number; offset: number }): Promise<TopicRecord | undefined> {
  let found: TopicRecord | undefined;
  await withAdmin(kafka, (admin) =>
    readTopicToEnd({
      kafka, admin, topic, logger: log, partitions: [at.partition], from: new Map([[at.partition, at.offset]]),
      onRecord: (r) => {
        found = r;
        return false;
      },
    }),
  );
  return found;
}

const log = createLogger('dlq', process.env.LOG_LEVEL ?? 'warn');
const cfg = loadConfig({ ...commonEnv, ...kafkaEnv });
const topics = topicNames(cfg.TOPIC_PREFIX);

async function list(kafka: Kafka): Promise<void> {
  const want = { reason: arg('reason'), stage: arg('stage'), source: arg('source-topic') };
  const limit = Number(arg('limit') ?? Number.MAX_SAFE_INTEGER);
  const json = flag('json');
  let shown = 0;
  const counts = new Map<string, number>();
  await withAdmin(kafka, (admin) =>
    readTopicToEnd({
      kafka, admin, topic: topics.dlq, logger: log,
      onRecord: (r) => {
        const d = describe(r);
        if ((want.reason && d.reason !== want.reason) || (want.stage && d.stage !== want.stage) || (want.source && !d.source.topic.endsWith(want.source))) return;
        counts.set(`${d.stage}/${d.reason}`, (counts.get(`${d.stage}/${d.reason}`) ?? 0) + 1);
        if (shown >= limit) return;
        shown++;
        if (json) console.log(JSON.stringify(d));
        else console.log(`${d.at}\t${d.time}\t${d.stage}/${d.reason}\t${d.source.topic}/${d.source.partition}@${d.source.offset}\t${d.error.slice(0, 120)}`);
      },
    }),
  );
  if (!json) {
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    console.error(`${total} dead letter(s) in ${topics.dlq}${total ? `: ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}` : ''}`);
  }
}

async function show(kafka: Kafka): Promise<void> {
  const at = parseAt(process.argv[3]);
  const r = await readOne(kafka, topics.dlq, at);
  if (!r || Number(r.offset) !== at.offset) throw new UsageError(`no dead letter at ${at.partition}:${at.offset} in ${topics.dlq}`);
  const d = describe(r);
  const decoded = decodeRecord(kindOf(topics, d.source.topic), r);
  console.log(
    JSON.stringify(
      {
        ...d,
        key: r.key?.toString() ?? null,
        headers: Object.fromEntries(Object.entries(ownHeaders(r.headers)).map(([k, v]) => [k, text(v)])),
        ...(decoded.record !== undefined ? { record: decoded.record } : { undecodable: decoded.undecodable, value_base64: r.value?.toString('base64') ?? null }),
      },
      null,
      2,
    ),
  );
}

async function replay(kafka: Kafka): Promise<void> {
  const at = parseAt(process.argv[3]);
  const r = await readOne(kafka, topics.dlq, at);
  if (!r || Number(r.offset) !== at.offset) throw new UsageError(`no dead letter at ${at.partition}:${at.offset} in ${topics.dlq}`);
  const d = describe(r);
  const kind = kindOf(topics, d.source.topic);
  if (!kind) {
    throw new UsageError(`${d.at} came from ${d.source.topic || 'no topic'} (stage ${d.stage}), not from a pipeline topic: there is nothing to replay it to`);
  }
  const file = arg('value-file');
  const replayedFrom = { 'dlq-replayed-from': `${topics.dlq}/${d.at}` };
  let message: Message;
  if (file) {
    // the fixed record, as JSON in the shape `show` prints under "record"; encoding checks it against the schema
    const fixed = JSON.parse(readFileSync(file, 'utf8')) as never;
    const m = recordMessage[kind](fixed);
    message = { key: m.key, value: m.value, headers: { ...m.headers, ...replayedFrom } };
  } else {
    if (!r.value) throw new UsageError(`${d.at} has no value to replay`);
    const check = decodeRecord(kind, r);
    if (check.undecodable) throw new UsageError(`${d.at} does not decode as a ${kind} record (${check.undecodable}): replay a fixed one with --value-file`);
    message = { key: r.key, value: r.value, headers: { ...ownHeaders(r.headers), ...replayedFrom } };
  }
  const summary = { from: d.at, reason: d.reason, to: d.source.topic, key: message.key?.toString() ?? null, fixed: Boolean(file) };
  if (kind === 'enriched' || kind === 'groupChange') {
    console.error(
      'note: the writer stores what it reads; it skips records by Kafka offset, not content, so a replayed record is stored as a new one. ' +
        'Replay a letter the writer refused (storage_refused, invalid_record, decode_error) once.',
    );
  }
  if (!flag('yes')) {
    console.log(JSON.stringify({ dry_run: true, would_publish: summary }));
    console.error('nothing sent: run again with --yes to publish it');
    return;
  }
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    await producer.send({ topic: d.source.topic, acks: -1, messages: [message] });
  } finally {
    await producer.disconnect();
  }
  console.log(JSON.stringify({ published: summary }));
}

async function skip(kafka: Kafka): Promise<void> {
  const groupId = arg('group');
  const topicArg = arg('topic');
  const partition = Number(arg('partition'));
  if (!groupId || !topicArg || !Number.isInteger(partition) || partition < 0) throw new UsageError(USAGE);
  // the full name, or a topic's name without TOPIC_PREFIX
  const topic = Object.values(topics).includes(topicArg) ? topicArg : `${cfg.TOPIC_PREFIX}${topicArg}`;
  const offsetArg = arg('offset');
  const plan = await withAdmin(kafka, async (admin) => {
    const group = await admin.describeGroup(groupId);
    if (group.members > 0) {
      throw new UsageError(`consumer group ${groupId} has ${group.members} member(s) (${group.state}): stop its consumers first (Kafka moves offsets only of an empty group)`);
    }
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = Number(offsets?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
    if (committed < 0) throw new UsageError(`consumer group ${groupId} has no committed offset on ${topic} partition ${partition}`);
    if (offsetArg !== undefined && Number(offsetArg) !== committed) {
      throw new UsageError(`consumer group ${groupId} is at offset ${committed} of ${topic}/${partition}, not ${offsetArg}: only the record it is stuck on can be skipped`);
    }
    return { committed };
  });
  const r = await readOne(kafka, topic, { partition, offset: plan.committed });
  if (!r) throw new UsageError(`${topic}/${partition} has no record at or after offset ${plan.committed}: the group is not stuck on a record`);
  const next = Number(r.offset) + 1;
  const summary = { group: groupId, topic, partition, skipped_offset: Number(r.offset), new_offset: next, key: r.key?.toString() ?? null };
  if (!flag('yes')) {
    console.log(JSON.stringify({ dry_run: true, would_skip: summary }));
    console.error('nothing changed: run again with --yes to copy the record to the dead-letter topic and move the group past it');
    return;
  }
  // the record is never just dropped: it goes to the dead letters first, with who skipped it
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    await producer.send({
      topic: topics.dlq,
      acks: -1,
      messages: [
        deadLetterMessage({
          reason: 'skipped_by_operator',
          error: arg('note') ?? `skipped by an operator for consumer group ${groupId}`,
          stage: 'operator',
          source: { topic, partition, offset: r.offset },
          key: r.key,
          value: r.value,
          headers: r.headers,
        }),
      ],
    });
  } finally {
    await producer.disconnect();
  }
  await withAdmin(kafka, (admin) => admin.setOffsets({ groupId, topic, partitions: [{ partition, offset: String(next) }] }));
  console.log(JSON.stringify({ skipped: summary }));
}

async function main(): Promise<void> {
  const commands: Record<string, (k: Kafka) => Promise<void>> = { list, show, replay, skip };
  const run = commands[process.argv[2] ?? ''];
  if (!run) throw new UsageError(USAGE);
  const kafka = createKafka({ brokers: cfg.KAFKA_BROKERS, clientId: `${cfg.KAFKA_CLIENT_ID}-dlq`, logger: log });
  await run(kafka);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof UsageError) console.error(err.message);
    else console.error(err);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
