// Kill -9 between the insert and the commit: the writer runs as a child process (against the test ClickHouse server,
// a database of its own) started by a test entry point (test/crash-entry.ts) whose hook SIGKILLs it right after
// ClickHouse acknowledged an INSERT, before offsets are committed.
// The next writer replays the same records; the tables must still hold each row exactly once.
import { committedOffsets, withAdmin } from '@groupscope/kafka';
import { testClickHouse, testKafka, uniqueName, waitFor, writerTableCounts, type TestClickHouse, type TestKafka, InputProducer, changeMessage, enrichedEvent, eventMessage, groupChange } from '@groupscope/testing';
import { runWriterChild as run, writerChildEnv } from '../test/child';

let t: TestKafka;
let ch: TestClickHouse;

beforeAll(async () => {
  t = testKafka();
  await t.ensureTopics(2);
  ch = await testClickHouse({ migrate: false });
});
afterAll(async () => {
  await ch?.cleanup();
});

it('a writer killed between insert and commit leaves no duplicate after the replay', async () => {
  const groupId = uniqueName('writer');
  const env = writerChildEnv({ prefix: t.prefix, database: ch.database, groupId });
  const input = new InputProducer(t.kafka, t.topics);
  await input.connect();
  await input.send('enriched', Array.from({ length: 300 }, (_, i) => eventMessage(enrichedEvent(i))));
  await input.send('groupChanges', Array.from({ length: 40 }, (_, i) => changeMessage(groupChange(i))));
  await input.disconnect();

  // 1: dies right after its first acknowledged INSERT (events), before event_groups and before any commit
  const first = run('../test/crash-entry.ts', { ...env, CRASH_AFTER_INSERTS: '1' });
  expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
  expect(first.output()).toContain('test_crash_after_insert');
  const none = await committedOffsets(t.kafka, groupId, t.topics.enriched);
  expect([...none.values()].every((o) => o < 0)).toBe(true);

  // 2: replays, skips what 1 wrote, dies after its second INSERT
  const second = run('../test/crash-entry.ts', { ...env, CRASH_AFTER_INSERTS: '2' });
  expect(await second.exited).toEqual({ code: null, signal: 'SIGKILL' });
  expect(second.output()).toContain('test_crash_after_insert');

  // 3: replays again and finishes; stop it once everything is committed
  const third = run('main.ts', env);
  const caughtUp = async (topic: string) => {
    const committed = await committedOffsets(t.kafka, groupId, topic);
    const ends = await withAdmin(t.kafka, (a) => a.fetchTopicOffsets(topic));
    return ends.every((e) => committed.get(e.partition) === Number(e.high));
  };
  await waitFor(async () => (await caughtUp(t.topics.enriched)) && (await caughtUp(t.topics.groupChanges)), {
    timeoutMs: 90000,
    message: `writer 3 catching up; output so far:\n${third.output().slice(-2000)}`,
  });
  expect(third.output()).toContain('replayed_rows_skipped');
  third.kill('SIGTERM');
  expect(await third.exited).toEqual({ code: 0, signal: null });

  expect(await writerTableCounts(ch)).toEqual({
    events: { rows: 300, distinct: 300 },
    event_groups: { rows: 600, distinct: 600 },
    groups: { rows: 40, distinct: 40 },
    group_property_history: { rows: 80, distinct: 80 },
  });
}, 180000);
