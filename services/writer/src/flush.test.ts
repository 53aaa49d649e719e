// A flush dropped because its partitions moved must not block the generation that owns them now.
import { silentLogger } from '@groupscope/logger';
import { Flusher, type Snapshot } from './flush';
import { Membership } from './membership';
import { Refusals } from './refusals';

function flusherWhileClickHouseIsDown(membership: Membership): Flusher {
  return new Flusher({
    inserter: {
      events: async () => {
        throw new Error('connect ECONNREFUSED');
      },
      changes: async () => 0,
    } as never,
    watermarks: { forget: () => undefined } as never,
    membership,
    dlq: { sender: {} as never, topic: 'dlq' },
    commit: async () => undefined,
    retryMaxMs: 100,
    logger: silentLogger,
  });
}

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
