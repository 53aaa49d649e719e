// npm run bench [-- NAME ...]: runs every bench/*.bench.ts (or those whose name contains a given word), prints a
// table and writes bench/results.json. Kafka: KAFKA_BROKERS, else a local broker started (and stopped) here.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { createClickHouse, createDatabase, dropDatabase, migrate, type ClickHouse } from '@groupscope/clickhouse';
import { createLogger } from '@groupscope/logger';
import type { Bench, BenchContext, BenchResult } from './harness';

const root = join(__dirname, '..');

function startKafka(): { brokers: string[]; stop(): void } {
  if (process.env.KAFKA_BROKERS) return { brokers: process.env.KAFKA_BROKERS.split(','), stop: () => undefined };
  const env = { ...process.env, KAFKA_PORT: '29092', KAFKA_CONTROLLER_PORT: '29093', KAFKA_DATA_DIR: join(root, '.data', 'kafka-bench') };
  rmSync(env.KAFKA_DATA_DIR, { recursive: true, force: true });
  execFileSync('bash', [join(root, 'deploy/kafka/kafka.sh'), 'start'], { env, stdio: 'inherit' });
  return { brokers: ['127.0.0.1:29092'], stop: () => void spawnSync('bash', [join(root, 'deploy/kafka/kafka.sh'), 'stop'], { env, stdio: 'inherit' }) };
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
  const opened: ClickHouse[] = [];
  let dbCounter = 0;
  const ctx: BenchContext = {
    brokers: kafka.brokers,
    logger,
    tmpDir,
    quick: process.env.BENCH_QUICK === '1',
    async clickhouse(opts) {
      const ch = createClickHouse({
        url: process.env.CLICKHOUSE_URL,
        username: process.env.CLICKHOUSE_USER,
        password: process.env.CLICKHOUSE_PASSWORD,
        database: `gs_bench_${Date.now().toString(36)}_${dbCounter++}`,
        chdbPath: join(tmpDir, 'chdb'),
        logger,
      });
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
          console.log(`   ${r.name}: ${r.figure.value} ${r.figure.unit}${r.baseline ? ` (baseline ${r.baseline.name}: ${r.baseline.value} ${r.baseline.unit}, ratio ${r.ratio})` : ''}`);
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
    kafka.stop();
    rmSync(tmpDir, { recursive: true, force: true });
  }
  const rows = results.map((r) => ({
    bench: r.bench,
    measure: r.name,
    value: `${r.figure.value} ${r.figure.unit}`,
    baseline: r.baseline ? `${r.baseline.value} ${r.baseline.unit} (${r.baseline.name})` : '',
    ratio: r.ratio ?? '',
    goal: r.goal ?? '',
  }));
  console.log('');
  console.table(rows);
  const out = join(__dirname, 'results.json');
  writeFileSync(
    out,
    JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gb: Math.round(totalmem() / 2 ** 30) }, results }, null, 2),
  );
  console.log(`results written to ${out}`);
  if (results.some((r) => Number.isNaN(r.figure.value))) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
