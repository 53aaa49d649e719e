// The fence against the real ClickHouse server: a new owner waits for an older owner's INSERT that was already
// running (and then sees its rows), refuses the older owner's later INSERTs, and kills an older INSERT that runs past
// the grace period. The slow INSERT stands for a zombie's: it carries the older token and a writer's query_id.
import { exec, fenceCondition, fencedQueryId, isFencedOut, param, queryRows, runningFencedInserts, sql, tableRef, trusted, type WriterFence } from '@groupscope/clickhouse';
import { testClickHouse, uniqueName, waitFor, type TestClickHouse } from '@groupscope/testing';
import { Fences } from './fence';
import { capturingLogger } from '../test/logs';

jest.setTimeout(120_000);

let ch: TestClickHouse;
beforeAll(async () => {
  ch = await testClickHouse();
  await exec(ch, sql`CREATE TABLE ${tableRef(ch, 'zombie_rows')} (partition UInt32, n UInt64) ENGINE = MergeTree ORDER BY n`);
});
afterAll(async () => {
  await ch?.cleanup();
});

/** An INSERT of `rows` rows into partition 0 under `fence`, taking about `seconds`. */
const insertUnder = (fence: WriterFence, rows: number, seconds = 0) =>
  exec(
    ch,
    sql`INSERT INTO ${tableRef(ch, 'zombie_rows')} SELECT 0, number FROM numbers(${param(rows, 'UInt32')})
        WHERE ${fenceCondition(ch, fence)} AND sleepEachRow(${trusted(String(seconds / rows))}) = 0`,
    undefined,
    { queryId: fencedQueryId(ch, fence) },
  );
const stored = async () => Number((await queryRows<{ n: number }>(ch, sql`SELECT count() AS n FROM ${tableRef(ch, 'zombie_rows')}`))[0]!.n);

async function owner(topic: string, opts: { killAfterMs?: number } = {}) {
  const log = capturingLogger();
  const fences = new Fences({ ch, logger: log.logger, pollMs: 50, ...opts });
  fences.assigned(1, { [topic]: [0] });
  await fences.establish(1);
  return { fence: { topic, partitions: [0], token: fences.token(1) }, fences, log };
}

it('waits for an older owner INSERT already running, sees its rows, and refuses its later ones', async () => {
  const topic = uniqueName('fence');
  const a = await owner(topic);
  const slow = insertUnder(a.fence, 3, 2.7);
  await waitFor(async () => (await runningFencedInserts(ch)).some((q) => q.topic === topic), { message: "A's INSERT is running" });

  const logB = capturingLogger();
  const fencesB = new Fences({ ch, logger: logB.logger, pollMs: 50 });
  fencesB.assigned(1, { [topic]: [0] });
  await fencesB.establish(1);
  // in place only once A's INSERT was over: its rows are there for B's watermark read
  expect(await stored()).toBe(3);
  await expect(slow).resolves.toBeUndefined();
  expect(logB.lines.map((l) => l.msg)).toContain('fence_waiting_for_older_inserts');

  // A, evicted without knowing, inserts again: refused, nothing stored
  const late = await insertUnder(a.fence, 5).catch((err: unknown) => err);
  expect(isFencedOut(late)).toBe(true);
  expect(await stored()).toBe(3);
  // B's own INSERT passes
  await insertUnder({ topic, partitions: [0], token: fencesB.token(1) }, 2);
  expect(await stored()).toBe(5);
});

it('refuses an INSERT into a partition that has no fence, or whose fence names another token', async () => {
  const topic = uniqueName('fence');
  const before = await stored();
  expect(isFencedOut(await insertUnder({ topic, partitions: [0], token: 'never-written' }, 1).catch((err: unknown) => err))).toBe(true);
  const a = await owner(topic);
  expect(isFencedOut(await insertUnder({ ...a.fence, token: 'another' }, 1).catch((err: unknown) => err))).toBe(true);
  expect(await stored()).toBe(before);
});

it('kills an older INSERT that is still running after the grace period, then is in place', async () => {
  const topic = uniqueName('fence');
  const a = await owner(topic);
  const before = await stored();
  const slow = insertUnder(a.fence, 3, 2.7).catch((err: unknown) => err);
  await waitFor(async () => (await runningFencedInserts(ch)).some((q) => q.topic === topic), { message: "A's INSERT is running" });
  const logB = capturingLogger();
  const fencesB = new Fences({ ch, logger: logB.logger, pollMs: 50, killAfterMs: 0 });
  fencesB.assigned(1, { [topic]: [0] });
  await fencesB.establish(1);
  expect(logB.lines.map((l) => l.msg)).toContain('fence_killing_older_inserts');
  expect(await runningFencedInserts(ch)).not.toContainEqual(expect.objectContaining({ topic }));
  // killed before it stored anything (or, had it been past that point, finished): never half of it
  expect([before, before + 3]).toContain(await stored());
  expect(await slow).toBeDefined();
});
