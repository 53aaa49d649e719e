// Losing a Kafka broker under load. A private 3-node cluster (replication factor 3, min.insync.replicas 2), a
// gateway, 2 enrichers and 2 writers as their own processes, the test ClickHouse server. Events stream through the
// gateway at a steady rate, each with a unique insert_id, resent on 503 as SDKs do; mid-stream the broker leading
// most partitions is killed with -9 and later started again. Then: the gateway answered only 2xx or 503, and every
// event it acknowledged is stored exactly once. The longest gap between two 2xx replies is printed (no timing
// assertion: speed belongs to the benchmarks).
// Ports: the cluster's nodes on TEST_KAFKA_PORT + 8, + 10, + 12 (controllers one above each).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropDatabase, param, queryRows, sql, tableRef, type ClickHouse } from '@groupscope/clickhouse';
import { topicNames } from '@groupscope/events';
import { committedOffsets, createKafka, withAdmin } from '@groupscope/kafka';
import { silentLogger } from '@groupscope/logger';
import { ProjectRegistry } from '@groupscope/projects';
import { uniqueName, waitFor } from '@groupscope/testing';
import { clickhouseOn, LocalKafka, testDataDir, testPort, type ClickHouseCredentials } from './support/local-servers';
import { startPipelineProcesses, type PipelineProcesses } from './support/pipeline-processes';
import { metricSum } from './support/service-process';
import { SteadyLoad, type LoadReport } from './support/steady-load';

// above the sum of the test's waits' limits (840 s), so a slow stage fails in its own wait, with its message
jest.setTimeout(900_000);

const PARTITIONS = 4;
const dir = mkdtempSync(join(tmpdir(), 'gs-broker-loss-'));
const logDir = join(testDataDir('broker-loss'), 'logs');
const registry = new ProjectRegistry(join(dir, 'projects.json'));
const project = registry.create('broker-loss');
const prefix = `${uniqueName('bl')}.`;
const database = uniqueName('gs_bl');
const cluster = new LocalKafka({
  nodes: 3,
  port: testPort('TEST_KAFKA_PORT', 8),
  controllerPort: testPort('TEST_KAFKA_PORT', 9),
  dataDir: testDataDir('kafka-broker-loss'),
});
const server: ClickHouseCredentials = {
  url: process.env.CLICKHOUSE_URL!,
  username: process.env.CLICKHOUSE_USER ?? 'default',
  password: process.env.CLICKHOUSE_PASSWORD ?? '',
};

let pipeline: PipelineProcesses | undefined;
let passed = false;
let ch: ClickHouse;

beforeAll(async () => {
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  await cluster.start();
  ch = clickhouseOn(server, database);
  pipeline = await startPipelineProcesses({
    brokers: cluster.brokers,
    topicPrefix: prefix,
    partitions: PARTITIONS,
    replicationFactor: 3,
    clickhouse: server,
    database,
    projectsFile: registry.file,
    dataDir: dir,
    logDir,
    enrichers: 2,
    writers: 2,
    env: { GATEWAY_SEND_TIMEOUT_MS: '5000', WRITER_BATCH_MS: '500', LOG_LEVEL: 'info' },
  });
});

afterAll(async () => {
  await pipeline?.stop();
  await cluster.stop().catch(() => undefined);
  if (ch) {
    // a failed run leaves its database for a look (its name is in the log)
    if (passed) await dropDatabase(ch).catch(() => undefined);
    else console.log(`broker loss: database ${database} kept`);
    await ch.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

/** The node (1..3) that leads most partitions of this test's topics. */
async function busiestLeader(): Promise<{ node: number; leads: Record<number, number> }> {
  const kafka = createKafka({ brokers: cluster.brokers, clientId: 'broker-loss-test', logger: silentLogger });
  const meta = await withAdmin(kafka, (a) => a.fetchTopicMetadata({ topics: Object.values(topicNames(prefix)) }));
  const leads: Record<number, number> = { 1: 0, 2: 0, 3: 0 };
  for (const t of meta.topics) for (const p of t.partitions) leads[p.leader] = (leads[p.leader] ?? 0) + 1;
  const node = Number(Object.entries(leads).sort((a, b) => b[1] - a[1] || Number(a[0]) - Number(b[0]))[0]![0]);
  return { node, leads };
}

async function stored(): Promise<{ total: number; distinct: number; ids: Set<string> }> {
  const rows = await queryRows<{ insert_id: string; n: number }>(
    ch,
    sql`SELECT insert_id, count() AS n FROM ${tableRef(ch, 'events')} WHERE project_id = ${param(project.project_id, 'UInt32')} GROUP BY insert_id`,
  );
  return { total: rows.reduce((s, r) => s + Number(r.n), 0), distinct: rows.length, ids: new Set(rows.map((r) => r.insert_id)) };
}

/** Where the events are: stored rows, each service's counters, consumer groups against the topics' ends. */
async function diagnose(): Promise<string> {
  const lines = [`stored: ${JSON.stringify(await stored().then((s) => ({ distinct: s.distinct, total: s.total })))}`];
  const metrics: Record<string, string[]> = {
    enricher: ['groupscope_enricher_records_in_total', 'groupscope_enricher_records_out_total', 'groupscope_enricher_dedup_drops_total', 'groupscope_enricher_transactions_total'],
    writer: ['groupscope_writer_rows_written_total', 'groupscope_writer_records_buffered', 'groupscope_writer_flush_failures_total'],
  };
  for (const s of [...pipeline!.enrichers, ...pipeline!.writers]) {
    const names = metrics[s.name.split('-')[0]!]!;
    const values = await Promise.all(names.map((n) => metricSum(s.url, n).catch(() => NaN)));
    lines.push(`${s.name}: ${names.map((n, i) => `${n.replace(/^groupscope_[a-z]+_/, '')}=${values[i]}`).join(' ')}`);
  }
  const kafka = createKafka({ brokers: cluster.brokers, clientId: 'broker-loss-test', logger: silentLogger });
  const topics = topicNames(prefix);
  for (const [group, topic] of [[`${prefix}enricher`, topics.ingest], [`${prefix}writer`, topics.enriched]] as const) {
    const committed = await committedOffsets(kafka, group, topic).catch(() => new Map<number, number>());
    const ends = await withAdmin(kafka, (a) => a.fetchTopicOffsets(topic)).catch(() => []);
    lines.push(`${topic}: ${ends.map((e) => `p${e.partition} end ${e.high} committed ${committed.get(e.partition)}`).join(', ')}`);
  }
  return lines.join('\n');
}

/** Where doubled events come from: one Kafka record written twice (the writer), or two records (the enricher). */
async function duplicates(): Promise<string> {
  const rows = await queryRows<{ ids: number; rows: number; same_record: number; other_records: number; sample: string }>(
    ch,
    sql`SELECT count() AS ids, sum(n) AS rows, countIf(records = 1) AS same_record, countIf(records > 1) AS other_records, any(id) AS sample
        FROM (SELECT insert_id AS id, count() AS n, uniqExact(kafka_partition, kafka_offset) AS records
              FROM ${tableRef(ch, 'events')} WHERE project_id = ${param(project.project_id, 'UInt32')} GROUP BY insert_id HAVING n > 1)`,
  );
  const detail = await queryRows<{ insert_id: string; kafka_partition: number; kafka_offset: number; receive_time: string }>(
    ch,
    sql`SELECT insert_id, kafka_partition, kafka_offset, receive_time FROM ${tableRef(ch, 'events')}
        WHERE project_id = ${param(project.project_id, 'UInt32')} AND insert_id = ${param(rows[0]?.sample ?? '', 'String')}`,
  );
  return `${JSON.stringify(rows[0])}\n${JSON.stringify(detail)}`;
}

it('keeps every acknowledged event exactly once through a broker killed with -9 and restarted', async () => {
  const load = new SteadyLoad({ url: pipeline!.gateway.url, apiKey: project.api_key, idPrefix: 'bl', eventsPerSecond: 200, eventsPerRequest: 10, users: 200 });
  const acked = () => load.acknowledged.size;
  let report: LoadReport | undefined;
  load.start();
  try {
    await waitFor(() => acked() >= 1000, { timeoutMs: 180_000, intervalMs: 200, message: 'the first 1000 events acknowledged' });

    // a metadata request may meet a busy broker: asked again until it answers
    const { node, leads } = await waitFor(() => busiestLeader(), { timeoutMs: 60_000, intervalMs: 1000, message: 'partition leaders' });
    const killedAt = load.elapsed();
    const pid = await cluster.kill(node);
    const atKill = acked();
    // the two brokers left keep taking writes (min.insync.replicas 2)
    await waitFor(() => acked() >= atKill + 1000, { timeoutMs: 180_000, intervalMs: 200, message: '1000 more events acknowledged with a broker down' });

    const restartAt = load.elapsed();
    await cluster.start();
    const restartedAt = load.elapsed();
    const atRestart = acked();
    await waitFor(() => acked() >= atRestart + 500, { timeoutMs: 180_000, intervalMs: 200, message: '500 more events after the restart' });
    report = await load.stop();
    console.log(
      [
        `broker loss: killed node ${node} (pid ${pid}; partition leaders before: ${JSON.stringify(leads)}) at ${Math.round(killedAt)} ms,`,
        `restarted at ${Math.round(restartAt)} ms (registered again at ${Math.round(restartedAt)} ms)`,
        `events sent ${report.events}, acknowledged ${report.acknowledgedEvents}; requests ${report.requests}, replies ${JSON.stringify(report.statuses)},`,
        `503s ${report.statuses['503'] ?? 0}, connection errors ${report.connectionErrors} ${JSON.stringify(report.connectionErrorKinds)}, given up ${report.givenUp}`,
        `longest gap between 2xx replies: ${report.longestOkGapMs} ms (from ${report.longestOkGapAt[0]} to ${report.longestOkGapAt[1]} ms)`,
      ].join('\n'),
    );
  } finally {
    if (!report) await load.stop();
  }

  // every acknowledged event reaches ClickHouse ...
  await waitFor(async () => (await stored()).distinct >= load.acknowledged.size, {
    timeoutMs: 240_000,
    intervalMs: 1000,
    message: 'every acknowledged event stored',
  }).catch(async (err: Error) => {
    console.log(`broker loss, not converged:\n${await diagnose()}`);
    throw err;
  });
  // ... and once: checked again after every service flushed, committed and stopped, so nothing can still arrive
  await pipeline!.stop();
  const after = await stored();
  const missing = [...load.acknowledged].filter((id) => !after.ids.has(id));
  console.log(`broker loss: events stored ${after.distinct} distinct, ${after.total} rows`);
  if (after.total !== after.distinct) console.log(`broker loss, events stored twice:\n${await duplicates()}`);
  expect(missing).toEqual([]);
  expect(after.distinct).toBe(load.acknowledged.size);
  expect(after.total).toBe(after.distinct);

  // only 2xx or 503; no request went unanswered or was given up
  expect(Object.keys(report.statuses).filter((s) => !/^2\d\d$/.test(s) && s !== '503')).toEqual([]);
  expect(report.connectionErrors).toBe(0);
  expect(report.givenUp).toBe(0);
  expect(report.acknowledgedEvents).toBe(report.events);
  passed = true;
});
