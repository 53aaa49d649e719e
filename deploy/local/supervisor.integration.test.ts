// The local runner's supervisor with the real services (gateway, query, enricher, writer as their own processes,
// against the test Kafka and ClickHouse server): kill -9 of every service -> each runs again and answers /health
// without a human, the restarts are logged, and SIGTERM to the supervisor leaves no process behind.
// Service ports: TEST_SERVICE_PORT (18080) and the three after it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { ProjectRegistry } from '@groupscope/projects';
import { uniqueName, waitFor } from '@groupscope/testing';
import { loadLocalConfig, planServices } from './plan';
import { prepareStorage } from './prepare';
import { spawnSupervisor } from './supervisor';

jest.setTimeout(300_000);

const root = join(__dirname, '..', '..');
const base = Number(process.env.TEST_SERVICE_PORT ?? 18080);
const dir = mkdtempSync(join(tmpdir(), 'gs-supervisor-'));
const runDir = join(dir, 'run');
const logDir = join(dir, 'logs');
const prefix = `${uniqueName('sup')}.`;
const database = uniqueName('gs_sup');
const clickhouse = { url: process.env.CLICKHOUSE_URL!, username: process.env.CLICKHOUSE_USER ?? 'default', password: process.env.CLICKHOUSE_PASSWORD ?? '', database };
const services = planServices(
  loadLocalConfig({ GATEWAY_PORT: String(base), QUERY_PORT: String(base + 1), ENRICHER_PORT: String(base + 2), WRITER_PORT: String(base + 3), ENRICHER_SESSION_TIMEOUT_MS: '6000', WRITER_SESSION_TIMEOUT_MS: '6000' }),
);

const pidOf = (name: string) => Number(readFileSync(join(runDir, `${name}.pid`), 'utf8'));
const running = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const answers = async (url: string) => (await fetch(url, { signal: AbortSignal.timeout(3000) }).catch(() => undefined))?.ok === true;
const logEvents = () =>
  readFileSync(join(logDir, 'supervisor.log'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; instance?: string; signal?: string; pid?: number });

let supervisorPid = 0;

beforeAll(async () => {
  await prepareStorage({ brokers: process.env.KAFKA_BROKERS!.split(','), topicPrefix: prefix, partitions: 2, replicationFactor: 1, clickhouse });
  new ProjectRegistry(join(dir, 'projects.json')).create('supervised');
  const child = spawnSupervisor(
    { root, runDir, logDir, services },
    {
      ...process.env,
      TOPIC_PREFIX: prefix,
      KAFKA_PARTITIONS: '2',
      CLICKHOUSE_DATABASE: database,
      GROUPSCOPE_DATA_DIR: dir,
      PROJECTS_FILE: join(dir, 'projects.json'),
      LOG_LEVEL: 'info',
    },
  );
  supervisorPid = child.pid!;
  for (const s of services) {
    await waitFor(() => answers(`http://127.0.0.1:${s.port}/ready`), { timeoutMs: 180_000, intervalMs: 500, message: `${s.name} ready` });
  }
});

afterAll(async () => {
  if (supervisorPid && running(supervisorPid)) {
    process.kill(supervisorPid, 'SIGTERM');
    await waitFor(() => !running(supervisorPid), { timeoutMs: 60_000 }).catch(() => process.kill(supervisorPid, 'SIGKILL'));
  }
  const ch = createClient(clickhouse);
  await ch.command({ query: `DROP DATABASE IF EXISTS \`${database}\`` }).catch(() => undefined);
  await ch.close();
  rmSync(dir, { recursive: true, force: true });
});

it('runs every service as its own process', () => {
  expect(services.map((s) => s.name)).toEqual(['gateway', 'query', 'enricher', 'writer']);
  const pids = services.map((s) => pidOf(s.name));
  expect(new Set([...pids, supervisorPid]).size).toBe(services.length + 1);
  expect(pids.every(running)).toBe(true);
});

it('restarts every service killed with -9 without a human, and logs each restart', async () => {
  const before = new Map(services.map((s) => [s.name, pidOf(s.name)]));
  for (const pid of before.values()) process.kill(pid, 'SIGKILL');
  for (const s of services) {
    await waitFor(
      async () => {
        const pid = pidOf(s.name);
        return pid !== before.get(s.name) && running(pid) && (await answers(`http://127.0.0.1:${s.port}/health`));
      },
      { timeoutMs: 120_000, intervalMs: 250, message: `${s.name} running again after kill -9` },
    );
  }
  const events = logEvents();
  for (const s of services) {
    expect(events).toContainEqual(expect.objectContaining({ msg: 'service_restart_scheduled', instance: s.name, signal: 'SIGKILL', pid: before.get(s.name) }));
    expect(events).toContainEqual(expect.objectContaining({ msg: 'service_started', instance: s.name, pid: pidOf(s.name) }));
  }
  // back in service, not only alive: the pipeline's readiness holds again
  for (const s of services) await waitFor(() => answers(`http://127.0.0.1:${s.port}/ready`), { timeoutMs: 120_000, message: `${s.name} ready again` });
});

it('stops every service on SIGTERM and leaves no process behind', async () => {
  const pids = services.map((s) => pidOf(s.name));
  process.kill(supervisorPid, 'SIGTERM');
  await waitFor(() => !running(supervisorPid), { timeoutMs: 60_000, message: 'supervisor exit' });
  expect(pids.filter(running)).toEqual([]);
  expect(logEvents().filter((e) => e.msg === 'service_stopped').map((e) => e.instance).sort()).toEqual(services.map((s) => s.name).sort());
});
