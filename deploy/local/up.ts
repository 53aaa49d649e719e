// Starts every service in the background for `npm start` (Kafka is already up), waits until each answers
// /ready, creates the demo project on first run, and prints the endpoints and keys. `npm stop` ends them.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createKafka, ensureTopics } from '@groupscope/kafka';
import { topicNames, topicSpecs } from '@groupscope/events';
import { loadConfig, commonEnv, kafkaEnv } from '@groupscope/config';
import { createLogger } from '@groupscope/logger';
import { ProjectRegistry } from '@groupscope/projects';
import { dataSet, toGateway } from '@groupscope/query/src/generator';

const root = resolve(__dirname, '..', '..');
const cfg = loadConfig({ ...commonEnv, ...kafkaEnv });
const dataDir = resolve(root, cfg.GROUPSCOPE_DATA_DIR);
const runDir = join(dataDir, 'run');
const logDir = join(dataDir, 'logs');
const projectsFile = cfg.PROJECTS_FILE ? resolve(cfg.PROJECTS_FILE) : join(dataDir, 'projects.json');
const port = (name: string, def: number) => Number(process.env[name] ?? def);

const services = [
  { name: 'gateway', entry: 'services/gateway/src/main.ts', port: port('GATEWAY_PORT', 8080) },
  { name: 'enricher', entry: 'services/enricher/src/main.ts', port: port('ENRICHER_PORT', 8082) },
  // writer + query share a process in local mode (one chDB folder); its /ready is the query port's
  { name: 'storage', entry: 'deploy/local/storage.ts', port: port('QUERY_PORT', 8081), alsoPort: port('WRITER_PORT', 8083) },
];

function alive(pidFile: string): boolean {
  if (!existsSync(pidFile)) return false;
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8')), 0);
    return true;
  } catch {
    return false;
  }
}

async function ready(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return true;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

async function main() {
  const log = createLogger('local', 'warn');
  mkdirSync(runDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const kafka = createKafka({ brokers: cfg.KAFKA_BROKERS, clientId: 'groupscope-local', logger: log });
  await ensureTopics(kafka, topicSpecs(topicNames(cfg.TOPIC_PREFIX)), { partitions: cfg.KAFKA_PARTITIONS, replicationFactor: cfg.KAFKA_REPLICATION_FACTOR });

  // the demo project; its secret is kept (only for it, only locally) so each `npm start` can print it
  const registry = new ProjectRegistry(projectsFile);
  const demoFile = join(dataDir, 'demo-project.json');
  if (!existsSync(demoFile) || !registry.byApiKey(JSON.parse(readFileSync(demoFile, 'utf8')).api_key)) {
    const keys = registry.create('demo');
    writeFileSync(demoFile, JSON.stringify(keys, null, 2), { mode: 0o600 });
  }
  const demo = JSON.parse(readFileSync(demoFile, 'utf8'));

  const env = { ...process.env, PROJECTS_FILE: projectsFile, GROUPSCOPE_DATA_DIR: dataDir, NODE_ENV: process.env.NODE_ENV ?? 'production' };
  for (const s of services) {
    const pidFile = join(runDir, `${s.name}.pid`);
    if (alive(pidFile)) continue;
    const out = openSync(join(logDir, `${s.name}.log`), 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, s.entry)], {
      cwd: root,
      env,
      detached: true,
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    writeFileSync(pidFile, String(child.pid));
    child.unref();
  }
  const failed: string[] = [];
  for (const s of services) {
    const ok = await ready(`http://127.0.0.1:${s.port}/ready`, 180_000);
    if (!ok) failed.push(`${s.name} (see ${join(logDir, `${s.name}.log`)})`);
  }
  if (failed.length > 0) {
    console.error(`not ready: ${failed.join(', ')}`);
    process.exit(1);
  }
  console.log(`
groupscope is running.
  web UI                          http://127.0.0.1:${services[2]!.port}/   sign in with api_key ${demo.api_key} and secret_key ${demo.secret_key}
  ingestion (Amplitude HTTP API)  http://127.0.0.1:${services[0]!.port}/2/httpapi   (also /batch, /identify, /groupidentify)
  query API                       http://127.0.0.1:${services[2]!.port}/api/2/...
  enricher health/metrics         http://127.0.0.1:${services[1]!.port}/health  /metrics
  writer health/metrics           http://127.0.0.1:${services[2]!.alsoPort}/health  /metrics
  Kafka                           ${cfg.KAFKA_BROKERS.join(',')}
  logs                            ${logDir}

demo project (id ${demo.project_id})
  api_key     ${demo.api_key}
  secret_key  ${demo.secret_key}

Stop everything with: npm stop`);
  await demoData(demo, `http://127.0.0.1:${services[0]!.port}`, `http://127.0.0.1:${services[2]!.port}`);
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
  console.error(err);
  process.exit(1);
});
