// What every benchmark module (bench/*.bench.ts) exports, and helpers they share.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '@groupscope/logger';
import { param, queryRows, sql, type ClickHouse } from '@groupscope/clickhouse';
import type { ServerLogin } from '@groupscope/config';

export interface Figure {
  value: number;
  unit: string;
}

export interface BenchResult {
  /** e.g. "gateway events/s, 100-event requests" */
  name: string;
  figure: Figure;
  /** the raw baseline measured in the same run on the same machine, when there is one */
  baseline?: { name: string } & Figure;
  /** figure / baseline (for rates), or baseline / figure (for latencies): >1 means faster than the baseline */
  ratio?: number;
  /**
   * ratios to further baselines of the same run, by baseline (e.g. java_producer: this rate / Kafka's Java
   * producer's records/s); printed as columns of their own
   */
  ratios?: Record<string, number>;
  /** the goal the issue sets, as text (e.g. ">= 0.5 of baseline") */
  goal?: string;
  extra?: Record<string, number | string>;
}

export interface BenchContext {
  brokers: string[];
  logger: Logger;
  /** a folder for this run's scratch files */
  tmpDir: string;
  /** a ClickHouse handle on a fresh database of the bench's server; migrated when asked */
  clickhouse(opts?: { migrate?: boolean }): Promise<ClickHouse>;
  /** the bench's ClickHouse server and its login (for a service started as a process: CLICKHOUSE_URL, ...) */
  clickhouseServer: ServerLogin;
  /** process ids of the broker and the ClickHouse server this run started (none when they are external) */
  serverPids(): { kafka?: number; clickhouse?: number };
  /** quick mode (BENCH_QUICK=1): smaller volumes, for checking that benchmarks run */
  quick: boolean;
}

export interface Bench {
  name: string;
  run(ctx: BenchContext): Promise<BenchResult[]>;
}

export function rate(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : 0;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Polls `url` until it answers 2xx; fails early when `child` (the process serving it) exits. */
export async function waitReady(url: string, child?: ChildProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`the process serving ${url} exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready in ${timeoutMs} ms`);
}

const running = new Set<ChildProcess>();

/**
 * Registers a process a bench started, so that it is killed however the bench run ends (bench/run.ts calls
 * killTracked at exit and on SIGINT/SIGTERM). spawnService registers the services; a bench registers the rest.
 */
export function track(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Kills (SIGKILL) every registered process still running. */
export function killTracked(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Stops a child process with SIGTERM (SIGKILL after 20 s) and waits for it to exit. */
export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
  });
}

/**
 * node flags that make a service process write a CPU profile (.cpuprofile, for `npx tsx bench/cpu-top.ts` or a
 * flame-graph viewer) into BENCH_CPU_PROF when it exits; none when BENCH_CPU_PROF is unset.
 */
export function cpuProfArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

/**
 * Starts services/<service>/src/main.ts in its own process against the bench's broker (CPU-profiled with
 * BENCH_CPU_PROF). Its output goes to this process's, or line by line to `onLine` when given.
 */
export function spawnService(ctx: BenchContext, service: string, env: Record<string, string>, partitions = 4, onLine?: (line: string) => void): ChildProcess {
  const root = join(__dirname, '..');
  const child = spawn(process.execPath, [...cpuProfArgs(), '--import', 'tsx', join(root, `services/${service}/src/main.ts`)], {
    cwd: root,
    env: { ...process.env, KAFKA_BROKERS: ctx.brokers.join(','), KAFKA_PARTITIONS: String(partitions), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', onLine ? 'pipe' : 'inherit', onLine ? 'pipe' : 'inherit'],
  });
  if (onLine) for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', onLine);
  return track(child);
}

/** p50/p95 (ms) of `runs` calls of `fn`, after one untimed warm-up call (caches, first part loads). */
export async function timeRuns(runs: number, fn: () => Promise<unknown>): Promise<{ p50: number; p95: number; samples: number[] }> {
  await fn(); // warm-up: caches, first part loads
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), samples };
}

/** Waits until ClickHouse has no merge running in the database of `ch`, or `maxMs` passed. */
export async function settleMerges(ch: ClickHouse, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    const rows = await queryRows<{ n: number }>(ch, sql`SELECT count() AS n FROM system.merges WHERE database = ${param(ch.database, 'String')}`);
    if (Number(rows[0]?.n ?? 0) === 0) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
