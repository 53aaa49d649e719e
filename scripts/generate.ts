// Generates a realistic B2B SaaS data set (accounts, users, workspaces, projects, funnels, plan changes) and sends it
//   npm run generate -- --events 5000                      through the gateway's HTTP API (/batch), demo project's key
//   npm run generate -- --events 2000000 --target kafka    straight to the ingest / group-identify topics
//   npm run generate -- --events 10000000 --target clickhouse --project-id 1
//                                                          straight into ClickHouse (CLICKHOUSE_URL, else the local server of npm start)
// Options: --days 30  --end YYYYMMDD (exclusive; default now)  --accounts N  --users N  --seed N
//          --gateway http://127.0.0.1:8080  --api-key KEY  --project-id N
//          --pause-after-groups-ms 1000 (http: lets group changes reach the enricher before the events after them)
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig, commonEnv, kafkaEnv, clickhouseEnv, clickhouseOptions, projectsFile } from '@groupscope/config';
import { createClickHouse, migrate } from '@groupscope/clickhouse';
import { createKafka, ensureTopics } from '@groupscope/kafka';
import { topicNames, topicSpecs } from '@groupscope/events';
import { createLogger } from '@groupscope/logger';
import { ProjectRegistry } from '@groupscope/projects';
import { dataSet, toClickHouse, toGateway, toKafka, type Counts } from '@groupscope/datagen';

const USAGE = 'usage: npm run generate -- --events N [--target http|kafka|clickhouse] [--days D] [--end YYYYMMDD] [--accounts N] [--users N] [--seed N] [--gateway URL] [--api-key KEY] [--project-id N]';

function args(): Map<string, string> {
  const out = new Map<string, string>();
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) fail(`unexpected argument ${a}`);
    const [k, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    const v = inline ?? argv[++i];
    if (v === undefined) fail(`--${k} needs a value`);
    out.set(k, v);
  }
  return out;
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function int(opts: Map<string, string>, name: string): number | undefined {
  const v = opts.get(name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) fail(`--${name} must be a whole number`);
  return Number(v);
}

async function main() {
  const opts = args();
  const cfg = loadConfig({ ...commonEnv, ...kafkaEnv, ...clickhouseEnv });
  const logger = createLogger('generate', process.env.LOG_LEVEL ?? 'warn');
  const events = int(opts, 'events') ?? fail('--events is required');
  const endRaw = opts.get('end');
  if (endRaw !== undefined && !/^\d{8}$/.test(endRaw)) fail('--end must be YYYYMMDD');
  const end = endRaw ? Date.UTC(Number(endRaw.slice(0, 4)), Number(endRaw.slice(4, 6)) - 1, Number(endRaw.slice(6, 8))) : undefined;
  const ds = dataSet({ events, days: int(opts, 'days'), end, accounts: int(opts, 'accounts'), users: int(opts, 'users'), seed: int(opts, 'seed') });
  const target = opts.get('target') ?? 'http';

  const dataDir = resolve(cfg.GROUPSCOPE_DATA_DIR);
  const registry = new ProjectRegistry(projectsFile(cfg));
  const demoFile = join(dataDir, 'demo-project.json');
  const apiKey = opts.get('api-key') ?? (existsSync(demoFile) ? (JSON.parse(readFileSync(demoFile, 'utf8')) as { api_key: string }).api_key : undefined);
  const projectId = () => int(opts, 'project-id') ?? (apiKey ? registry.byApiKey(apiKey)?.id : undefined) ?? fail('--project-id (or a known --api-key) is required');

  console.log(`generating ~${events} events over ${ds.days} days (${new Date(ds.start).toISOString().slice(0, 10)} .. ${new Date(ds.end - 1).toISOString().slice(0, 10)}), ${ds.accounts} accounts, ${ds.users} users -> ${target}`);
  const t0 = performance.now();
  let counts: Counts;
  if (target === 'http') {
    if (!apiKey) fail('--api-key is required (no demo project found)');
    const url = opts.get('gateway') ?? `http://127.0.0.1:${process.env.GATEWAY_PORT ?? 8080}`;
    counts = await toGateway(ds.records(), { url, apiKey, logger, pauseAfterGroupsMs: int(opts, 'pause-after-groups-ms') ?? 1000 });
  } else if (target === 'kafka') {
    const kafka = createKafka({ brokers: cfg.KAFKA_BROKERS, clientId: 'groupscope-generator', logger });
    await ensureTopics(kafka, topicSpecs(topicNames(cfg.TOPIC_PREFIX)), { partitions: cfg.KAFKA_PARTITIONS, replicationFactor: cfg.KAFKA_REPLICATION_FACTOR });
    counts = await toKafka(ds.records(), { brokers: cfg.KAFKA_BROKERS, topicPrefix: cfg.TOPIC_PREFIX, projectId: projectId(), logger });
  } else if (target === 'clickhouse') {
    const ch = createClickHouse(clickhouseOptions(cfg));
    try {
      await migrate(ch, logger);
      counts = await toClickHouse(ch, ds.records(), { projectId: projectId(), onBatch: (c) => console.log(`  ${c.events} events`) });
    } finally {
      await ch.close();
    }
  } else {
    fail(`unknown --target ${target}`);
  }
  const s = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ target, ...counts, seconds: Math.round(s * 10) / 10, events_per_second: Math.round(counts.events / s) }));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
