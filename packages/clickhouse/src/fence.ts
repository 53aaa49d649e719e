// Fencing a writer out of a Kafka partition in ClickHouse itself (table writer_fences, @groupscope/schema migration
// 034). The owner of a partition writes a fresh token for it; each INSERT of that partition's rows names the token
// its writer holds and fails at its start when the newest token of any of its partitions is another one. The check
// is a scalar subquery: ClickHouse evaluates it once, when the statement starts, after the statement entered the
// server's process list. So a new owner that wrote its token and then waited for every INSERT of the partition that
// was already running (found by query_id in system.processes) has fenced out every later INSERT of the old owner,
// and sees every row of the earlier ones when it reads the offset watermarks.
import { randomUUID } from 'node:crypto';
import type { ClickHouse } from './client';
import { exec, queryRows, tableRef } from './query';
import { param, sql, trusted, type Sql } from './sql';

/** What an INSERT of one topic's rows is fenced by: the partitions its rows come from and its writer's token. */
export interface WriterFence {
  topic: string;
  partitions: readonly number[];
  token: string;
}

export const FENCE_TABLE = 'writer_fences';

/** Marks the error of an INSERT whose writer no longer holds a partition's token. */
export const FENCED_OUT = 'groupscope_writer_fenced_out';

const QUERY_ID_PREFIX = 'groupscope-writer:';

/**
 * A new query_id for an INSERT under `fence` into `ch`'s database, naming the database, topic and partitions (read
 * back by runningFencedInserts: the process list shows neither the statement's database nor its text as sent).
 */
export function fencedQueryId(ch: ClickHouse, fence: Pick<WriterFence, 'topic' | 'partitions'>): string {
  return `${QUERY_ID_PREFIX}${ch.database}:${fence.topic}:${[...new Set(fence.partitions)].join(',')}:${randomUUID()}`;
}

/** The database, topic and partitions a writer's query_id names (undefined for any other query_id). */
export function parseFencedQueryId(queryId: string): { database: string; topic: string; partitions: number[] } | undefined {
  if (!queryId.startsWith(QUERY_ID_PREFIX)) return undefined;
  // neither database names (createClickHouse checks them) nor Kafka topic names (letters, digits, '.', '_', '-') hold ':'
  const [database, topic, partitions, id] = queryId.slice(QUERY_ID_PREFIX.length).split(':');
  if (!database || !topic || partitions === undefined || !id) return undefined;
  return { database, topic, partitions: partitions.split(',').filter((p) => p !== '').map(Number) };
}

/**
 * The WHERE condition that fences an INSERT ... SELECT: true when `fence.token` is the newest token of every one of
 * its partitions, else the statement fails with FENCED_OUT before it stores anything (a partition without a token
 * fails too). It is listed first in the WHERE so that no other condition can skip it.
 */
export function fenceCondition(ch: ClickHouse, fence: WriterFence): Sql {
  const partitions = [...new Set(fence.partitions)];
  return sql`throwIf(coalesce((SELECT countIf(t = ${param(fence.token, 'String')}) FROM (
      SELECT partition, argMax(token, (at, token)) AS t FROM ${tableRef(ch, FENCE_TABLE)}
      WHERE topic = ${param(fence.topic, 'String')} AND partition IN ${param(partitions, 'Array(UInt32)')} GROUP BY partition)), 0)
    != ${param(partitions.length, 'UInt32')}, ${trusted(`'${FENCED_OUT}: another writer owns a partition of this insert'`)}) = 0`;
}

/** Whether a statement failed because its writer was fenced out (not a data error, however ClickHouse codes it). */
export function isFencedOut(err: unknown): boolean {
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  return message.includes(FENCED_OUT);
}

/** Makes `token` the newest token of every partition of `owned` (partitions by topic); the time is the server's. */
export async function writeFence(ch: ClickHouse, owned: ReadonlyMap<string, readonly number[]>, token: string): Promise<void> {
  const topics: string[] = [];
  const partitions: number[] = [];
  for (const [topic, ps] of owned) {
    for (const p of ps) {
      topics.push(topic);
      partitions.push(p);
    }
  }
  if (partitions.length === 0) return;
  // an asynchronous insert could be acknowledged before it is visible: the fence must be in place when this returns
  await exec(
    ch,
    sql`INSERT INTO ${tableRef(ch, FENCE_TABLE)} (topic, partition, token)
        SELECT tp.1, tp.2, ${param(token, 'String')} FROM (SELECT arrayJoin(arrayZip(${param(topics, 'Array(String)')}, ${param(partitions, 'Array(UInt32)')})) AS tp)`,
    { async_insert: 0 },
  );
}

/** The query_ids of writers' INSERTs into `ch`'s database running now on the server, with what they name. */
export async function runningFencedInserts(ch: ClickHouse): Promise<{ queryId: string; topic: string; partitions: number[] }[]> {
  const rows = await queryRows<{ query_id: string }>(
    ch,
    sql`SELECT query_id FROM system.processes
        WHERE startsWith(query_id, ${param(`${QUERY_ID_PREFIX}${ch.database}:`, 'String')})`,
  );
  return rows.flatMap((r) => {
    const named = parseFencedQueryId(r.query_id);
    return named && named.database === ch.database ? [{ queryId: r.query_id, topic: named.topic, partitions: named.partitions }] : [];
  });
}
