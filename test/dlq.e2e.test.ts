// `npm run dlq`, run as an operator runs it (a child process, KAFKA_BROKERS and TOPIC_PREFIX in its environment):
// a record the writer dead-lettered is listed and shown decoded, replayed fixed (it is then stored), and a stopped
// consumer group stuck on a record is moved past it, the record copied to the dead letters first.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { param, queryRows, sql, trusted } from '@groupscope/clickhouse';
import { committedOffsets, withAdmin } from '@groupscope/kafka';
import { silentLogger } from '@groupscope/logger';
import { enrichedEvent, eventMessage, InputProducer, testClickHouse, testKafka, uniqueName, waitFor, type TestClickHouse, type TestKafka } from '@groupscope/testing';
import { loadWriterConfig, startWriter } from '@groupscope/writer';

jest.setTimeout(180_000);

const root = join(__dirname, '..');
const run = promisify(execFile);
let t: TestKafka;
let ch: TestClickHouse;

beforeAll(async () => {
  t = testKafka();
  await t.ensureTopics(1);
  ch = await testClickHouse();
});
afterAll(async () => {
  await ch?.cleanup();
});

async function dlq(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(root, 'scripts/dlq.ts'), ...args], {
      cwd: root,
      env: { ...process.env, KAFKA_BROKERS: t.brokers.join(','), TOPIC_PREFIX: t.prefix, LOG_LEVEL: 'silent' },
      timeout: 120_000,
    });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

const PROJECT = 91;
const count = async (where = sql`1`) =>
  Number((await queryRows<{ n: number }>(ch, sql`SELECT count() AS n FROM ${trusted(ch.table('events'))} WHERE project_id = ${param(PROJECT, 'UInt32')} AND ${where}`))[0]!.n);

it('lists, shows and replays a dead letter, and skips the record a stopped group is stuck on', async () => {
  const writer = await startWriter({
    config: loadWriterConfig({ WRITER_PORT: '0', LOG_LEVEL: 'silent', KAFKA_PARTITIONS: '1', TOPIC_PREFIX: t.prefix, WRITER_GROUP_ID: uniqueName('writer'), WRITER_BATCH_MS: '100' }),
    logger: silentLogger,
    ch,
    kafka: t.kafka,
  });
  const input = new InputProducer(t.kafka, t.topics);
  await input.connect();
  try {
    const bad = enrichedEvent(1, { project_id: PROJECT, insert_id: 'refused', event_properties: '{"\\ud800":"x"}' });
    await input.send('enriched', [eventMessage(bad), eventMessage(enrichedEvent(2, { project_id: PROJECT, insert_id: 'fine' }))]);
    await waitFor(async () => (await count()) === 1, { message: 'the good record stored' });

    // list: one line per letter, a summary on stderr
    const listed = await waitFor(async () => {
      const r = await dlq('list');
      return r.stdout.includes('storage_refused') && r;
    }, { timeoutMs: 60_000, message: 'the letter is listed' });
    expect(listed.code).toBe(0);
    const line = listed.stdout.trim().split('\n').find((l) => l.includes('storage_refused'))!;
    const [at, , kind, source] = line.split('\t');
    expect(kind).toBe('writer/storage_refused');
    expect(source).toBe(`${t.topics.enriched}/0@0`);
    expect(listed.stderr).toMatch(/1 dead letter\(s\) in .*: 1 writer\/storage_refused/);
    expect((await dlq('list', '--reason', 'decode_error')).stdout.trim()).toBe('');

    // show: the record decoded with its topic's schema
    const shown = await dlq('show', at!);
    expect(shown.code).toBe(0);
    const letter = JSON.parse(shown.stdout) as { reason: string; table: string; clickhouse_code: string; record: { insert_id: string; event_properties: string } };
    expect(letter).toMatchObject({ reason: 'storage_refused', table: 'events', clickhouse_code: '25', record: { insert_id: 'refused', event_properties: '{"\\ud800":"x"}' } });

    // replay: a dry run first, then the fixed record, which the writer stores
    const dir = mkdtempSync(join(tmpdir(), 'gs-dlq-'));
    const fixedFile = join(dir, 'fixed.json');
    writeFileSync(fixedFile, JSON.stringify({ ...letter.record, event_properties: '{"x":"x"}' }));
    const dry = await dlq('replay', at!, '--value-file', fixedFile);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dry_run: true, would_publish: { to: t.topics.enriched, fixed: true } });
    expect(await count(sql`insert_id = 'refused'`)).toBe(0);
    const sent = await dlq('replay', at!, '--value-file', fixedFile, '--yes');
    expect(sent.code).toBe(0);
    await waitFor(async () => (await count(sql`insert_id = 'refused'`)) === 1, { timeoutMs: 60_000, message: 'the fixed record stored' });
    // a position that holds no letter is a usage error
    expect((await dlq('replay', '0:999999')).code).toBe(2);
  } finally {
    await writer.stop();
  }

  // skip: a stopped group at offset 0 of the enriched topic is moved past that record, which goes to the letters
  const group = uniqueName('stuck');
  await withAdmin(t.kafka, (admin) => admin.setOffsets({ groupId: group, topic: t.topics.enriched, partitions: [{ partition: 0, offset: '0' }] }));
  const refused = await dlq('skip', '--group', group, '--topic', 'events-enriched', '--partition', '0', '--offset', '5');
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/is at offset 0 .* not 5/);
  const dry = await dlq('skip', '--group', group, '--topic', 'events-enriched', '--partition', '0');
  expect(JSON.parse(dry.stdout)).toMatchObject({ dry_run: true, would_skip: { skipped_offset: 0, new_offset: 1 } });
  expect((await committedOffsets(t.kafka, group, t.topics.enriched)).get(0)).toBe(0);
  const done = await dlq('skip', '--group', group, '--topic', 'events-enriched', '--partition', '0', '--note', 'poison record', '--yes');
  expect(done.code).toBe(0);
  expect((await committedOffsets(t.kafka, group, t.topics.enriched)).get(0)).toBe(1);
  const skipped = await waitFor(async () => {
    const r = await dlq('list', '--reason', 'skipped_by_operator', '--json');
    return r.stdout.trim() && (JSON.parse(r.stdout.trim().split('\n')[0]!) as { stage: string; error: string; source: object });
  });
  expect(skipped).toMatchObject({ stage: 'operator', error: 'poison record', source: { topic: t.topics.enriched, partition: 0, offset: '0' } });
  await input.disconnect();
});
