// Losing the ClickHouse server under load. A private ClickHouse server (deploy/clickhouse, its own data folder and
// port), the gateway, an enricher, a writer and the query service as their own processes on it, the test Kafka
// broker. Events stream through the gateway; the ClickHouse process is killed with -9: the query service answers
// 503 in its error shape and reports itself not ready, the writer keeps retrying without committing. Once the server
// is started again, the writer resumes and the query service recovers by themselves: every acknowledged event is
// stored exactly once and the query API counts them all.
// Port: the server on TEST_CLICKHOUSE_PORT + 7.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { param, queryRows, sql, tableRef, type ClickHouse } from '@groupscope/clickhouse';
import { ProjectRegistry } from '@groupscope/projects';
import { uniqueName, waitFor } from '@groupscope/testing';
import { clickhouseOn, LocalClickHouse, testDataDir, testPort } from './support/local-servers';
import { startPipelineProcesses, type PipelineProcesses } from './support/pipeline-processes';
import { metricSum } from './support/service-process';
import { SteadyLoad, type LoadReport } from './support/steady-load';

// above the sum of the test's waits' limits (900 s), so a slow stage fails in its own wait, with its message
jest.setTimeout(1_000_000);

const dir = mkdtempSync(join(tmpdir(), 'gs-ch-loss-'));
const logDir = join(testDataDir('clickhouse-loss'), 'logs');
const registry = new ProjectRegistry(join(dir, 'projects.json'));
const project = registry.create('clickhouse-loss');
const prefix = `${uniqueName('chl')}.`;
const database = uniqueName('gs_chl');
const server = new LocalClickHouse({ port: testPort('TEST_CLICKHOUSE_PORT', 7), dataDir: join(testDataDir('clickhouse-loss'), 'server') });

let pipeline: PipelineProcesses | undefined;
let ch: ClickHouse | undefined;

beforeAll(async () => {
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  await server.start();
  ch = clickhouseOn(server.credentials(), database);
  pipeline = await startPipelineProcesses({
    brokers: process.env.KAFKA_BROKERS!.split(','),
    topicPrefix: prefix,
    partitions: 2,
    replicationFactor: 1,
    clickhouse: server.credentials(),
    database,
    projectsFile: registry.file,
    dataDir: dir,
    logDir,
    enrichers: 1,
    writers: 1,
    query: true,
    env: { WRITER_BATCH_MS: '300', WRITER_RETRY_MAX_MS: '2000', DYNAMIC_PROPERTIES_SCHEDULER: 'false' },
  });
});

afterAll(async () => {
  await pipeline?.stop();
  await ch?.close();
  // the whole server goes, with the test's database
  await server.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function stored(): Promise<{ total: number; distinct: number; ids: Set<string> }> {
  const rows = await queryRows<{ insert_id: string; n: number }>(
    ch!,
    sql`SELECT insert_id, count() AS n FROM ${tableRef(ch!, 'events')} WHERE project_id = ${param(project.project_id, 'UInt32')} GROUP BY insert_id`,
  );
  return { total: rows.reduce((s, r) => s + Number(r.n), 0), distinct: rows.length, ids: new Set(rows.map((r) => r.insert_id)) };
}

const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');

/** Total "Load Event" events since yesterday, through the query API: status and body. */
async function totals(): Promise<{ status: number; body: { data?: { seriesCollapsed: { value: number }[][] }; error?: { code: string; message: string; details: unknown[] } } }> {
  const params = new URLSearchParams({ e: JSON.stringify({ event_type: 'Load Event' }), m: 'totals', start: ymd(Date.now() - 86_400_000), end: ymd(Date.now()) });
  const res = await fetch(`${pipeline!.query!.url}/api/2/events/segmentation?${params}`, {
    headers: { authorization: `Basic ${Buffer.from(`${project.api_key}:${project.secret_key}`).toString('base64')}` },
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: (await res.json()) as never };
}

const status = async (url: string) => (await fetch(url, { signal: AbortSignal.timeout(10_000) })).status;

it('answers 503 while ClickHouse is down, then the writer and the query service recover by themselves with nothing lost or doubled', async () => {
  const { query, writers } = pipeline!;
  const writer = writers[0]!;
  const load = new SteadyLoad({ url: pipeline!.gateway.url, apiKey: project.api_key, idPrefix: 'chl', eventsPerSecond: 200, eventsPerRequest: 10, users: 100 });
  let report: LoadReport | undefined;
  let outage: Record<string, number>;
  load.start();
  try {
    await waitFor(async () => (await stored()).distinct >= 1000, { timeoutMs: 120_000, intervalMs: 500, message: 'the first 1000 events stored' });
    expect((await totals()).status).toBe(200);

    const failuresBefore = await metricSum(writer.url, 'groupscope_writer_flush_failures_total');
    const storedAtKill = (await stored()).distinct;
    const killedAt = Date.now();
    // the test's own connections die with the server: a fresh client once it is back
    await ch!.close();
    await server.kill();

    // the query service: 503 in the API's error shape, and not ready
    const down = await waitFor(async () => {
      const r = await totals();
      return r.status === 503 ? r : undefined;
    }, { timeoutMs: 60_000, intervalMs: 250, message: 'the query API answers 503' });
    expect(down.body).toEqual({ error: { code: 'unavailable', message: expect.any(String), details: [] } });
    await waitFor(async () => (await status(`${query!.url}/ready`)) === 503, { timeoutMs: 60_000, message: 'query /ready 503' });
    // the writer notices and keeps retrying (nothing committed meanwhile); ingestion itself goes on
    await waitFor(async () => (await metricSum(writer.url, 'groupscope_writer_flush_failures_total')) > failuresBefore, {
      timeoutMs: 60_000,
      intervalMs: 500,
      message: 'a writer flush failed',
    });
    await waitFor(async () => (await status(`${writer.url}/ready`)) === 503, { timeoutMs: 60_000, message: 'writer /ready 503' });
    const ackedDuringOutage = load.acknowledged.size;

    await server.start();
    const restartedAt = Date.now();
    ch = clickhouseOn(server.credentials(), database);
    // no restart of any service: both find the server again by themselves
    await waitFor(async () => (await status(`${query!.url}/ready`)) === 200 && (await totals()).status === 200, {
      timeoutMs: 120_000,
      intervalMs: 250,
      message: 'the query service recovers',
    });
    const queryBackAt = Date.now();
    await waitFor(async () => (await stored()).distinct > Math.max(storedAtKill, ackedDuringOutage - 1), {
      timeoutMs: 120_000,
      intervalMs: 250,
      message: 'the writer resumes',
    });
    const writerBackAt = Date.now();
    const atRestart = load.acknowledged.size;
    await waitFor(() => load.acknowledged.size >= atRestart + 1000, { timeoutMs: 120_000, intervalMs: 200, message: '1000 more events after the restart' });
    report = await load.stop();
    outage = {
      server_down_ms: restartedAt - killedAt,
      query_503_until_ms: queryBackAt - killedAt,
      writer_resumed_after_restart_ms: writerBackAt - restartedAt,
      query_recovered_after_restart_ms: queryBackAt - restartedAt,
    };
    console.log(
      [
        `ClickHouse loss: server killed (-9) and started again after ${outage.server_down_ms} ms; query API 503 for ${outage.query_503_until_ms} ms`,
        `after the restart: query service answering in ${outage.query_recovered_after_restart_ms} ms, writer writing in ${outage.writer_resumed_after_restart_ms} ms`,
        `events sent ${report.events}, acknowledged ${report.acknowledgedEvents}; gateway replies ${JSON.stringify(report.statuses)}`,
      ].join('\n'),
    );
  } finally {
    if (!report) await load.stop();
  }
  expect(report.acknowledgedEvents).toBe(report.events);

  await waitFor(async () => (await stored()).distinct >= load.acknowledged.size, { timeoutMs: 180_000, intervalMs: 1000, message: 'every acknowledged event stored' });
  // the query API counts them all, once
  const api = await totals();
  expect(api.status).toBe(200);
  expect(api.body.data!.seriesCollapsed[0]![0]!.value).toBe(load.acknowledged.size);
  // after every service flushed, committed and stopped nothing can still arrive: exactly once
  await pipeline!.stop();
  const after = await stored();
  console.log(`ClickHouse loss: events stored ${after.distinct} distinct, ${after.total} rows`);
  expect([...load.acknowledged].filter((id) => !after.ids.has(id))).toEqual([]);
  expect(after.distinct).toBe(load.acknowledged.size);
  expect(after.total).toBe(after.distinct);
});
