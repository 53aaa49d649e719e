// `npm start`'s last step (Kafka and the ClickHouse server are already up, see scripts/start.sh): creates the topics,
// applies the ClickHouse migrations once, creates the demo project on first run, starts the supervisor (detached,
// deploy/local/supervisor.ts) that runs every service as its own process, waits until each answers /ready, prints
// the endpoints, data folders and keys, and loads demo data on first run. `npm stop` ends it all.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { clickhouseEnv, clickhouseOptions, commonEnv, kafkaEnv, loadConfig, localClickHouse, projectsFile as projectsFileOf } from '@groupscope/config';
import { ProjectRegistry } from '@groupscope/projects';
import { dataSet, toGateway } from '@groupscope/datagen';
import { loadLocalConfig, planServices, type ServiceSpec } from './plan';
import { prepareStorage } from './prepare';
import { spawnSupervisor } from './supervisor';

const root = resolve(__dirname, '..', '..');
const cfg = loadConfig({ ...commonEnv, ...kafkaEnv, ...clickhouseEnv });
const local = loadLocalConfig();
const dataDir = resolve(root, cfg.GROUPSCOPE_DATA_DIR);
const runDir = join(dataDir, 'run');
const logDir = join(dataDir, 'logs');
const projectsFile = projectsFileOf({ ...cfg, GROUPSCOPE_DATA_DIR: dataDir });
// scripts/start.sh sets CLICKHOUSE_URL to the local server it started, unless the user named a server of their own
const clickhouse = clickhouseOptions({ ...cfg, GROUPSCOPE_DATA_DIR: dataDir });

function alive(pidFile: string): boolean {
  if (!existsSync(pidFile)) return false;
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8')), 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether something already accepts connections on 127.0.0.1:port. */
function inUse(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

async function ready(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (res.ok) return true;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

/** Starts the supervisor unless it runs; it outlives this command. */
async function startSupervisor(services: ServiceSpec[]): Promise<void> {
  const pidFile = join(runDir, 'supervisor.pid');
  if (alive(pidFile)) return;
  const busy: string[] = [];
  const ports = services.map((s) => [s.port, s.name] as const);
  if (services[0]?.env.GATEWAY_HTTPS_PORT) ports.push([Number(services[0].env.GATEWAY_HTTPS_PORT), 'gateway (HTTPS)']);
  for (const [port, name] of ports) if (await inUse(port)) busy.push(`${port} (${name})`);
  if (busy.length > 0) throw new Error(`ports already in use by another process: ${busy.join(', ')}; set GATEWAY_PORT, QUERY_PORT, ENRICHER_PORT, WRITER_PORT, GATEWAY_HTTPS_PORT`);

  await prepareStorage({
    brokers: cfg.KAFKA_BROKERS,
    topicPrefix: cfg.TOPIC_PREFIX,
    partitions: cfg.KAFKA_PARTITIONS,
    replicationFactor: cfg.KAFKA_REPLICATION_FACTOR,
    clickhouse,
  });
  spawnSupervisor({ root, runDir, logDir, services }, { ...process.env, PROJECTS_FILE: projectsFile, GROUPSCOPE_DATA_DIR: dataDir, NODE_ENV: process.env.NODE_ENV ?? 'production' });
}

function demoProject(): { project_id: number; api_key: string; secret_key: string } {
  // the demo project's secret is kept (only for it, only locally) so each `npm start` can print it
  const registry = new ProjectRegistry(projectsFile);
  const demoFile = join(dataDir, 'demo-project.json');
  if (!existsSync(demoFile) || !registry.byApiKey(JSON.parse(readFileSync(demoFile, 'utf8')).api_key)) {
    const keys = registry.create('demo');
    writeFileSync(demoFile, JSON.stringify(keys, null, 2), { mode: 0o600 });
  }
  return JSON.parse(readFileSync(demoFile, 'utf8'));
}

async function main() {
  mkdirSync(runDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const services = planServices(local);
  const demo = demoProject();
  await startSupervisor(services);

  const failed: string[] = [];
  await Promise.all(
    services.map(async (s) => {
      if (!(await ready(`http://127.0.0.1:${s.port}/ready`, 180_000))) failed.push(`${s.name} (see ${join(logDir, `${s.name}.log`)})`);
    }),
  );
  if (failed.length > 0) {
    console.error(`not ready: ${failed.join(', ')}\nthe supervisor keeps restarting them (${join(logDir, 'supervisor.log')}); npm stop ends everything`);
    process.exit(1);
  }
  const url = (port: number) => `http://127.0.0.1:${port}`;
  const localServer = localClickHouse(dataDir)?.url === clickhouse.url;
  const gateway = url(local.GATEWAY_PORT);
  const query = url(local.QUERY_PORT);
  const https = services[0]!.env.GATEWAY_HTTPS_PORT ? `https://127.0.0.1:${local.GATEWAY_HTTPS_PORT}` : undefined;
  const tlsDir = join(dataDir, 'tls');
  const health = (kind: string) =>
    services
      .filter((s) => s.name.startsWith(kind))
      .map((s) => `${s.name} ${url(s.port)}`)
      .join(', ');
  console.log(`
groupscope is running (each service its own process, restarted by a supervisor if it exits).
  web UI                          ${query}/   sign in with api_key ${demo.api_key} and secret_key ${demo.secret_key}
  ingestion (Amplitude HTTP API)  ${gateway}/2/httpapi   (also /batch, /identify, /groupidentify)${https ? `
  ingestion over HTTPS            ${https}/2/httpapi   (trust ${join(tlsDir, 'ca.crt')})` : ''}
  query API                       ${query}/api/2/...
  health, readiness, metrics      /health /ready /metrics on every service port
  enrichers                       ${health('enricher')}
  writers                         ${health('writer')}
  Kafka                           ${cfg.KAFKA_BROKERS.join(',')}  (replication factor ${cfg.KAFKA_REPLICATION_FACTOR})
  ClickHouse                      ${clickhouse.url}  (user ${clickhouse.username}${localServer ? `; password in ${join(dataDir, 'clickhouse', 'credentials')}` : ''})

data folders (under ${dataDir})
  kafka/  clickhouse/  tls/  logs/ (one log per service, supervisor.log)  run/ (pid files)  projects.json

demo project (id ${demo.project_id})
  api_key     ${demo.api_key}
  secret_key  ${demo.secret_key}

Stop everything with: npm stop`);
  await demoData(demo, gateway, query);
}

/**
 * Demo data: when the demo project has no events yet (the query API counts none over 60 days), a few thousand
 * generated events (accounts, users, funnels, a plan upgrade) go through the gateway; then example queries.
 */
async function demoData(demo: { api_key: string; secret_key: string }, gateway: string, query: string): Promise<void> {
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
  const auth = `Basic ${Buffer.from(`${demo.api_key}:${demo.secret_key}`).toString('base64')}`;
  const activeEvents = async (): Promise<number> => {
    const qs = new URLSearchParams({ e: JSON.stringify({ event_type: '_active' }), m: 'totals', start: day(-59), end: day(0) });
    const res = await fetch(`${query}/api/2/events/segmentation?${qs}`, { headers: { authorization: auth } });
    if (!res.ok) throw new Error(`query API answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    const body = (await res.json()) as { data: { seriesCollapsed: { value: number }[][] } };
    return body.data.seriesCollapsed[0]?.[0]?.value ?? 0;
  };
  try {
    if ((await activeEvents()) === 0) {
      process.stdout.write('\nloading demo data (about 3000 events over 30 days) through the gateway ...');
      const counts = await toGateway(dataSet({ events: 3000, days: 30 }).records(), { url: gateway, apiKey: demo.api_key, pauseAfterGroupsMs: 1500 });
      // wait until the pipeline (enricher, writer) has written them, so the queries below answer at once
      const deadline = Date.now() + 120_000;
      let seen = 0;
      while (Date.now() < deadline && (seen = await activeEvents()) < counts.events) await new Promise((r) => setTimeout(r, 1000));
      console.log(` ${counts.events} events sent, ${seen} queryable`);
    }
  } catch (err) {
    console.error(`\ndemo data not loaded: ${(err as Error).message}`);
  }
  const u = `${demo.api_key}:${demo.secret_key}`;
  const range = `--data-urlencode start=${day(-29)} --data-urlencode end=${day(0)}`;
  console.log(`
Try the query API (demo project, last 30 days):
  # active accounts per day
  curl -s -u ${u} -G ${query}/api/2/events/segmentation ${range} \\
    --data-urlencode 'e={"event_type":"_active"}' --data-urlencode countGroup=company
  # accounts through trial -> invoice -> payment, whichever member did each step
  curl -s -u ${u} -G ${query}/api/2/funnels ${range} --data-urlencode countGroup=company \\
    --data-urlencode 'e={"event_type":"Trial Started"}' --data-urlencode 'e={"event_type":"Invoice Sent"}' --data-urlencode 'e={"event_type":"Payment Received"}'
  # weekly retention of accounts that viewed a dashboard, split by their plan today
  curl -s -u ${u} -G ${query}/api/2/retention ${range} --data-urlencode i=7 --data-urlencode countGroup=company \\
    --data-urlencode 'se={"event_type":"Dashboard Viewed"}' --data-urlencode re=_active --data-urlencode g=group:company:plan --data-urlencode gpMode=current`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
