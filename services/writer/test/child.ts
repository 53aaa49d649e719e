import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

export interface WriterChild {
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** stdout and stderr so far */
  output(): string;
  kill(signal: NodeJS.Signals): void;
}

/** The environment of a writer child process on the test broker and ClickHouse server. */
export function writerChildEnv(o: { prefix: string; database: string; groupId: string }): Record<string, string> {
  return {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
    TOPIC_PREFIX: o.prefix,
    KAFKA_PARTITIONS: '2',
    CLICKHOUSE_DATABASE: o.database,
    WRITER_GROUP_ID: o.groupId,
    WRITER_PORT: '0',
    WRITER_BATCH_MS: '300',
    WRITER_SESSION_TIMEOUT_MS: '6000',
    LOG_LEVEL: 'info',
  };
}

/** Runs `script` (relative to services/writer/src: main.ts, or a test entry point) as a child process. */
export function runWriterChild(script: string, env: Record<string, string>): WriterChild {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'services/writer/src', script)], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return {
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    output: () => out,
    kill: (signal) => child.kill(signal),
  };
}
