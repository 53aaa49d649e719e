// An evicted writer that has not noticed yet (a zombie) inserting a batch after the new owner took its partitions.
// Writer A runs as a child process started by a test entry point (test/pause-entry.ts) that SIGSTOPs it right
// before its first INSERT into one table, after its watermarks were read and the INSERT planned. Its group session
// expires, writer B takes every partition, reads the watermarks, writes everything and commits. Then A is resumed:
// the INSERT it had planned goes out at once, with the same records B stored. ClickHouse must refuse it (the fence),
// A must drop the batch without committing, and every row must be stored exactly once.
import { committedOffsets, withAdmin } from '@groupscope/kafka';
import { InputProducer, changeMessage, enrichedEvent, eventMessage, groupChange, testClickHouse, testKafka, uniqueName, waitFor, writerTableCounts } from '@groupscope/testing';
import { startWriter } from './index';
import { runWriterChild, writerChildEnv } from '../test/child';
import { testWriterConfig } from '../test/config';
import { capturingLogger } from '../test/logs';

jest.setTimeout(300_000);

const EVENTS = 300;
const CHANGES = 40;
const expected = {
  events: { rows: EVENTS, distinct: EVENTS },
  event_groups: { rows: 2 * EVENTS, distinct: 2 * EVENTS },
  groups: { rows: CHANGES, distinct: CHANGES },
  group_property_history: { rows: 2 * CHANGES, distinct: 2 * CHANGES },
};

it.each(['events', 'group_property_history'])('a zombie writer resumed before its INSERT into %s stores nothing twice', async (table) => {
  const t = testKafka();
  await t.ensureTopics(2);
  const ch = await testClickHouse();
  const groupId = uniqueName('writer');
  const input = new InputProducer(t.kafka, t.topics);
  await input.connect();
  await input.send('enriched', Array.from({ length: EVENTS }, (_, i) => eventMessage(enrichedEvent(i))));
  await input.send('groupChanges', Array.from({ length: CHANGES }, (_, i) => changeMessage(groupChange(i))));
  await input.disconnect();

  const a = runWriterChild('../test/pause-entry.ts', { ...writerChildEnv({ prefix: t.prefix, database: ch.database, groupId }), PAUSE_BEFORE_TABLE: table });
  const logB = capturingLogger();
  let b: Awaited<ReturnType<typeof startWriter>> | null = null;
  const caughtUp = async (topic: string) => {
    const committed = await committedOffsets(t.kafka, groupId, topic);
    const ends = await withAdmin(t.kafka, (admin) => admin.fetchTopicOffsets(topic));
    return ends.every((e) => committed.get(e.partition) === Number(e.high));
  };
  // A's output is shown when a wait fails: it tells where A was
  const waitShowingA = async (probe: () => unknown, message: string) => {
    try {
      await waitFor(probe, { timeoutMs: 120_000, message });
    } catch (err) {
      throw new Error(`${(err as Error).message}\nA's output:\n${a.output().slice(-3000)}`, { cause: err });
    }
  };
  const allCommitted = async () => (await caughtUp(t.topics.enriched)) && (await caughtUp(t.topics.groupChanges));
  try {
    // A owns both partitions, reads the watermarks, plans, and stops right before the INSERT
    await waitShowingA(() => a.output().includes('test_paused_before_insert'), `A pausing before its INSERT into ${table}`);

    // B joins; A's session expires; B takes both partitions and writes and commits everything
    b = await startWriter({
      config: testWriterConfig({ TOPIC_PREFIX: t.prefix, WRITER_GROUP_ID: groupId, WRITER_BATCH_MS: '300', WRITER_SESSION_TIMEOUT_MS: '10000' }),
      logger: logB.logger,
      ch,
      kafka: t.kafka,
    });
    await waitShowingA(allCommitted, 'B took the partitions over and committed everything');
    expect(await writerTableCounts(ch)).toEqual(expected);
    expect(logB.saw('partitions_fenced').length).toBeGreaterThan(0);

    // A resumes: the INSERT it planned goes out with the records B already stored
    a.kill('SIGCONT');
    await waitShowingA(
      async () => a.output().includes('writer_fenced_out') || (await writerTableCounts(ch))[table]!.rows > expected[table as keyof typeof expected].rows,
      "A's INSERT refused or stored",
    );
    expect(a.output()).toContain('test_resumed_before_insert');
    // whatever the group does next (A rejoins and partitions move again), everything stays committed and stored once
    await waitShowingA(allCommitted, 'everything committed after A came back');
    expect(await writerTableCounts(ch)).toEqual(expected);
    expect(a.output()).toContain('writer_fenced_out');
  } finally {
    a.kill('SIGCONT');
    a.kill('SIGTERM');
    const killer = setTimeout(() => a.kill('SIGKILL'), 20_000);
    await a.exited;
    clearTimeout(killer);
    await b?.stop();
    await ch.cleanup();
  }
});
