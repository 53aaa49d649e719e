// A flush dropped because its partitions moved must not block the generation that owns them now; one that ClickHouse
// fenced out (another writer owns a partition) is dropped at once, never retried, and commits nothing.
import { FENCED_OUT } from '@groupscope/clickhouse';
import { silentLogger } from '@groupscope/logger';
import { Flusher, type Snapshot } from './flush';
import { Membership } from './membership';
import { Refusals } from './refusals';

const fences = { establish: async () => undefined, token: () => 'token' } as never;

function flusherFailingWith(membership: Membership, error: () => Error, commits: unknown[] = [], attempts = { n: 0 }): Flusher {
  return new Flusher({
    inserter: {
      events: async () => {
        attempts.n++;
        throw error();
      },
      changes: async () => 0,
    } as never,
    watermarks: { forget: () => undefined } as never,
    membership,
    fences,
    dlq: { sender: {} as never, topic: 'dlq' },
    commit: async (offsets) => {
      commits.push(offsets);
    },
    retryMaxMs: 100,
    logger: silentLogger,
  });
}

const flusherWhileClickHouseIsDown = (membership: Membership) => flusherFailingWith(membership, () => new Error('connect ECONNREFUSED'));

const snapshot = (generation: number): Snapshot => ({ parts: [], generation, records: 1, deadSent: false, refusals: new Refusals() });
const running = { final: false, stopping: () => false };

it('marks its own generation dropped when its partitions are revoked mid-flush', async () => {
  const membership = new Membership();
  membership.assigned();
  const run = flusherWhileClickHouseIsDown(membership).run(snapshot(membership.generation), running);
  membership.revoked();
  await run;
  expect(membership.dropped).toBe(true);
  membership.assigned();
  expect(membership.dropped).toBe(false);
});

it('leaves a newer generation free to write when an older flush gives up after the new assignment', async () => {
  const membership = new Membership();
  membership.assigned();
  const run = flusherWhileClickHouseIsDown(membership).run(snapshot(membership.generation), running);
  membership.revoked();
  membership.assigned();
  await run;
  expect(membership.generation).toBe(2);
  expect(membership.dropped).toBe(false);
});

it('drops a fenced-out flush at once: no retry, no commit, nothing more in its generation', async () => {
  const membership = new Membership();
  membership.assigned();
  const commits: unknown[] = [];
  const attempts = { n: 0 };
  const fenced = () => new Error(`Code: 395. DB::Exception: ${FENCED_OUT}: another writer owns a partition of this insert`);
  await flusherFailingWith(membership, fenced, commits, attempts).run(snapshot(membership.generation), running);
  expect(attempts.n).toBe(1);
  expect(commits).toEqual([]);
  expect(membership.dropped).toBe(true);
});
