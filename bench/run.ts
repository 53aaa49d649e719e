// npm run bench [-- NAME ...]: runs every bench/*.bench.ts (or those whose name contains a given word), prints a
// table and writes bench/results.json (a partial run keeps the other benches' earlier figures). Kafka: KAFKA_BROKERS, else a local broker started (and stopped) here on
// BENCH_KAFKA_PORT (29092, the controller on the next port). ClickHouse: CLICKHOUSE_URL (with CLICKHOUSE_USER and
// CLICKHOUSE_PASSWORD), else a local server started (and stopped) here on BENCH_CLICKHOUSE_PORT (29123). The local
// ones keep their data under <GROUPSCOPE_DATA_DIR>/bench/, fresh each run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createClickHouse, createDatabase, dropDatabase, migrate, type ClickHouse } from '@groupscope/clickhouse';
import { localClickHouse, type ServerLogin } from '@groupscope/config';
import { createLogger } from '@groupscope/logger';
import type { Bench, BenchContext, BenchResult } from './harness';
import { killTracked } from './harness';

const root = join(__dirname, '..');
const benchData = join(resolve(root, process.env.GROUPSCOPE_DATA_DIR ?? '.data'), 'bench');

/** Runs one of deploy/'s scripts with `env`; a local server it starts is stopped by the returned function. */
function localServer(script: string, env: Record<string, string>): () => void {
  const all = { ...process.env, ...env };
  execFileSync('bash', [join(root, script), 'start'], { env: all, stdio: 'inherit' });
  return () => void spawnSync('bash', [join(root, script), 'stop'], { env: all, stdio: 'inherit' });
}

function startKafka(): { brokers: string[]; stop(): void } {
  if (process.env.KAFKA_BROKERS) return { brokers: process.env.KAFKA_BROKERS.split(','), stop: () => undefined };
  const port = Number(process.env.BENCH_KAFKA_PORT ?? 29092);
  const dataDir = join(benchData, 'kafka');
  rmSync(dataDir, { recursive: true, force: true });
  const stop = localServer('deploy/kafka/kafka.sh', { KAFKA_NODES: '1', KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(port + 1), KAFKA_DATA_DIR: dataDir });
  return { brokers: [`127.0.0.1:${port}`], stop };
}

function startClickHouse(): { server: ServerLogin; stop(): void } {
  const url = process.env.CLICKHOUSE_URL;
  if (url) return { server: { url, username: process.env.CLICKHOUSE_USER ?? 'default', password: process.env.CLICKHOUSE_PASSWORD ?? '' }, stop: () => undefined };
  rmSync(join(benchData, 'clickhouse'), { recursive: true, force: true });
  const stop = localServer('deploy/clickhouse/clickhouse.sh', {
    CLICKHOUSE_HTTP_PORT: process.env.BENCH_CLICKHOUSE_PORT ?? '29123',
    CLICKHOUSE_DATA_DIR: join(benchData, 'clickhouse'),
  });
  const server = localClickHouse(benchData);
  if (!server) {
    stop();
    throw new Error(`the bench ClickHouse server wrote no credentials under ${benchData}`);
  }
  return { server, stop };
}

/** The pid in a local server's pid file, if there is one (none: the server is external or not running). */
function pidFrom(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function main() {
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const files = readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.ts'))
    .sort()
    .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)));
  const logger = createLogger('bench', process.env.LOG_LEVEL ?? 'warn');
  const tmpDir = mkdtempSync(join(tmpdir(), 'groupscope-bench-'));
  const kafka = startKafka();
  let clickhouse: ReturnType<typeof startClickHouse>;
  try {
    clickhouse = startClickHouse();
  } catch (err) {
    kafka.stop();
    throw err;
  }
  // whatever ends the run, no process a bench started outlives it, nor do the local servers on an interrupt
  process.once('exit', killTracked);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping what the bench started`);
      killTracked();
      clickhouse.stop();
      kafka.stop();
      rmSync(tmpDir, { recursive: true, force: true });
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
  const opened: ClickHouse[] = [];
  let dbCounter = 0;
  const ctx: BenchContext = {
    brokers: kafka.brokers,
    logger,
    tmpDir,
    quick: process.env.BENCH_QUICK === '1',
    clickhouseServer: clickhouse.server,
    serverPids: () => ({
      kafka: process.env.KAFKA_BROKERS ? undefined : pidFrom(join(benchData, 'kafka', 'node-1', 'kafka.pid')),
      clickhouse: process.env.CLICKHOUSE_URL ? undefined : pidFrom(join(benchData, 'clickhouse', 'clickhouse.pid')),
    }),
    async clickhouse(opts) {
      const ch = createClickHouse({ ...clickhouse.server, database: `gs_bench_${Date.now().toString(36)}_${dbCounter++}` });
      await createDatabase(ch);
      if (opts?.migrate) await migrate(ch, logger);
      opened.push(ch);
      return ch;
    },
  };
  const results: (BenchResult & { bench: string })[] = [];
  try {
    for (const f of files) {
      const mod = (await import(join(__dirname, f))) as { default: Bench };
      const bench = mod.default;
      console.log(`\n== ${bench.name} (${f})`);
      const t0 = Date.now();
      try {
        for (const r of await bench.run(ctx)) {
          results.push({ bench: bench.name, ...r });
          const more = Object.entries(r.ratios ?? {}).map(([k, v]) => `, ${k} ${v}`).join('');
          console.log(`   ${r.name}: ${r.figure.value} ${r.figure.unit}${r.baseline ? ` (baseline ${r.baseline.name}: ${r.baseline.value} ${r.baseline.unit}, ratio ${r.ratio})` : ''}${more}`);
        }
      } catch (err) {
        console.error(`   FAILED: ${(err as Error).stack}`);
        results.push({ bench: bench.name, name: `${bench.name} failed`, figure: { value: NaN, unit: 'error' }, extra: { error: String(err) } });
      }
      console.log(`   (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
  } finally {
    for (const ch of opened) {
      await dropDatabase(ch).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
    clickhouse.stop();
    kafka.stop();
    rmSync(tmpDir, { recursive: true, force: true });
  }
  const rows = results.map((r) => ({
    bench: r.bench,
    measure: r.name,
    value: `${r.figure.value} ${r.figure.unit}`,
    baseline: r.baseline ? `${r.baseline.value} ${r.baseline.unit} (${r.baseline.name})` : '',
    ratio: r.ratio ?? '',
    'vs java producer': r.ratios?.java_producer ?? '',
    'vs kafkajs pipelined': r.ratios?.kafkajs_pipelined ?? '',
    goal: r.goal ?? '',
  }));
  console.log('');
  console.table(rows);
  const out = join(__dirname, 'results.json');
  const date = new Date().toISOString();
  // a run of some benches replaces their figures and keeps the others' from earlier runs (each with its date)
  const ran = new Set(results.map((r) => r.bench));
  const earlier = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { date: string; results: (BenchResult & { bench: string; date?: string })[] }) : undefined;
  const kept = (earlier?.results ?? []).filter((r) => !ran.has(r.bench)).map((r) => ({ ...r, date: r.date ?? earlier!.date }));
  writeFileSync(
    out,
    JSON.stringify(
      { date, machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gb: Math.round(totalmem() / 2 ** 30) }, results: [...kept, ...results.map((r) => ({ ...r, date }))] },
      null,
      2,
    ),
  );
  console.log(`results written to ${out}`);
  if (results.some((r) => Number.isNaN(r.figure.value))) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
